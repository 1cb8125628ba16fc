"""One failing thread never skips the others: the progress job catches per thread, logs an error id, goes on,
and tries the failing thread again later (the real bot in-process: worker and scheduler as `serve` runs them)."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

import pytest
from slack_sdk import WebClient
from sqlalchemy import select

from bot.sync.runtime import SyncRuntime
from demo.fakes.atlassian import SiteConfig, SiteSpec
from demo.fakes.slack_api import FakeSlack
from handlers.progress import ProgressUpdater
from storage.models import Datastore, SyncRun
from storage.states import RunKind, RunTrigger
from storage.sync_runs import queue_run
from tests.handlers.conftest import World, make_world
from tests.harness import add_connected_datastore, open_sync_thread, wait_until

NAMES = ("alpha", "beta", "gamma")


@pytest.fixture
def serving(fake_slack: FakeSlack, database_url: str) -> Iterator[World]:
    spec = SiteSpec(spaces=2, pages_per_space=20, blogposts_per_space=0)
    yield from make_world(fake_slack, database_url, [SiteConfig(name="acme", spec=spec)], background=True)


@pytest.fixture
def quiet(fake_slack: FakeSlack, database_url: str) -> Iterator[World]:
    """The same site, with no sync worker and no progress job running beside the test."""
    spec = SiteSpec(spaces=2, pages_per_space=20, blogposts_per_space=0)
    yield from make_world(fake_slack, database_url, [SiteConfig(name="acme", spec=spec)])


def _threads(world: World, client: WebClient) -> dict[str, tuple[int, str, str]]:
    """Three datastores with a thread each (as the wizard leaves them) and a queued first sync."""
    services, channel = world.bot.services, world.slack.default_channel_id
    made: dict[str, tuple[int, str, str]] = {}
    for name in NAMES:
        datastore_id = add_connected_datastore(
            services,
            cloud_id=world.atlassian.cloud_id,
            token=world.atlassian.issue_token(),
            team_id=world.slack.team_id,
            credits=10_000,
            name=name,
        )
        parent, progress = open_sync_thread(services, client, datastore_id=datastore_id, channel=channel, name=name)
        with services.sessions.begin() as session:
            datastore = session.get(Datastore, datastore_id)
            assert datastore is not None
            datastore.created_by = world.slack.default_user_id
        made[name] = (datastore_id, parent, progress)
    return made


def _announced(world: World) -> dict[int, str | None]:
    with world.bot.services.sessions() as session:
        return {row[0]: row[1] for row in session.execute(select(SyncRun.datastore_id, SyncRun.announced_ts))}


def test_a_thread_that_keeps_failing_never_holds_back_the_others(
    serving: World, caplog: pytest.LogCaptureFixture
) -> None:
    world, slack = serving, serving.slack
    client = WebClient(token=sorted(slack.bot_tokens)[0], base_url=slack.api_url)
    threads = _threads(world, client)
    failing_id, failing_parent, failing_progress = threads["beta"]
    # Slack refuses everything about beta's thread, for a while (a refusal the keeper has no answer for).
    slack.fail(
        "chat.update", error="invalid_blocks", times=3, when=lambda a: a.get("ts") in (failing_parent, failing_progress)
    )
    with caplog.at_level(logging.ERROR, logger="handlers.progress"):
        with world.bot.services.sessions.begin() as session:
            for datastore_id, _parent, _progress in threads.values():
                assert (
                    queue_run(session, datastore_id=datastore_id, kind=RunKind.FULL, trigger=RunTrigger.CREATE)
                    is not None
                )

        others = [threads[name][0] for name in NAMES if name != "beta"]
        wait_until(lambda: all(_announced(world).get(d) for d in others), timeout=60, interval=0.2)
        assert _announced(world)[failing_id] is None, "beta's faults were used up before the others finished"
        # beta recovers once Slack takes its calls again (after its backoff), with one completion of its own.
        wait_until(lambda: _announced(world).get(failing_id) is not None, timeout=60, interval=0.2)

    assert slack.pending_faults() == 0
    failures = [r for r in caplog.records if "failed unexpectedly" in r.getMessage()]
    assert failures and all(f"datastore {failing_id} " in r.getMessage() for r in failures)
    assert all(re.search(r"error id [0-9a-f]{8}", r.getMessage()) and r.exc_info for r in failures)
    for name, (_datastore_id, parent, _progress) in threads.items():
        done = [m for m in slack.thread_replies(slack.default_channel_id, parent) if m.text.startswith("✅")]
        assert len(done) == 1, name


def test_an_unexpected_error_in_one_workspace_does_not_stop_the_pass(
    quiet: World, caplog: pytest.LogCaptureFixture
) -> None:
    """Not a Slack error at all (here: the workspace's client cannot even be built): the same isolation. No
    background progress job here — it would claim alpha's thread before this updater does."""
    world, slack = quiet, quiet.slack
    client = WebClient(token=sorted(slack.bot_tokens)[0], base_url=slack.api_url)
    threads = _threads(world, client)
    broken_id = threads["alpha"][0]
    with world.bot.services.sessions.begin() as session:
        broken = session.get(Datastore, broken_id)
        assert broken is not None
        broken.team_id = "T0BROKEN"

    def client_for_team(team_id: str) -> WebClient:
        if team_id == "T0BROKEN":
            raise RuntimeError("no client for this workspace")
        return client

    updater = ProgressUpdater(world.bot.services, client_for_team, owner="isolation", min_interval=0.0)
    with world.bot.services.sessions.begin() as session:
        run = queue_run(session, datastore_id=broken_id, kind=RunKind.FULL, trigger=RunTrigger.CREATE)
        assert run is not None
    runtime = SyncRuntime(world.bot.services, processes=0)
    try:
        with caplog.at_level(logging.ERROR, logger="handlers.progress"):
            updater.tick()  # beta and gamma have no run: only alpha is in the pass, and it fails
            assert any("error id" in r.getMessage() for r in caplog.records)
            with world.bot.services.sessions.begin() as session:
                for name in ("beta", "gamma"):
                    assert (
                        queue_run(session, datastore_id=threads[name][0], kind=RunKind.FULL, trigger=RunTrigger.CREATE)
                        is not None
                    )
            assert len(runtime.worker().run_until_idle()) == 3

            def announced() -> bool:
                updater.tick()  # alpha's thread fails again each time its backoff is over; the others go on
                return all(_announced(world).get(threads[n][0]) for n in ("beta", "gamma"))

            wait_until(announced, timeout=60, interval=0.2)
    finally:
        runtime.close()
    assert _announced(world)[broken_id] is None
