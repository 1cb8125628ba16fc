"""The first post after the wizard under Slack faults: a post Slack applied before failing is found again, never
posted twice; an announcement that keeps failing is left to the progress job, which opens the thread."""

from __future__ import annotations

from datetime import timedelta

import pytest
from slack_sdk import WebClient
from sqlalchemy import select

from bot.app import RepeatableCallRetryHandler
from demo.fakes.slack_faults import FaultMode
from handlers.progress import ProgressUpdater
from storage.models import Datastore, SyncRun, utcnow
from storage.states import RunOutcome, RunPhase, RunState
from tests.handlers.conftest import World
from tests.handlers.wizard_driver import WizardDriver
from tests.harness import wait_until


def _top_level(args: dict[str, object]) -> bool:
    return "thread_ts" not in args


def _datastore(world: World) -> Datastore:
    with world.bot.services.sessions() as session:
        return session.scalars(select(Datastore)).one()


def _create(world: World) -> None:
    driver = WizardDriver(world)
    driver.connect("eng-wiki", "acme")
    driver.grant(None)
    assert driver.submit().json == {"response_action": "clear"}


@pytest.mark.parametrize("mode", [FaultMode.APPLY_THEN_ERROR, FaultMode.APPLY_THEN_DROP])
def test_a_channel_message_slack_applied_before_failing_is_not_posted_twice(world: World, mode: FaultMode) -> None:
    slack = world.slack
    slack.fail("chat.postMessage", error="internal_error", mode=mode, when=_top_level)
    _create(world)
    wait_until(lambda: _datastore(world).progress_ts is not None, timeout=15)
    datastore = _datastore(world)
    channel = slack.default_channel_id
    parents = [m for m in slack.messages(channel) if "eng-wiki" in m.text]
    assert [m.ts for m in parents] == [datastore.parent_ts]
    assert [c.fault for c in slack.calls("chat.postMessage") if _top_level(c.args)] == [mode.value]
    assert slack.calls("conversations.history"), "the earlier attempt was not looked for"
    assert [m.ts for m in slack.thread_replies(channel, str(datastore.parent_ts))] == [datastore.progress_ts]


def test_an_announcement_that_keeps_failing_is_opened_by_the_progress_job(world: World) -> None:
    slack = world.slack
    slack.fail("chat.postMessage", error="service_unavailable", status=503, times=3, when=_top_level)
    _create(world)
    wait_until(lambda: slack.pending_faults() == 0, timeout=15)  # the listener's three attempts, all refused
    assert _datastore(world).progress_ts is None and slack.messages(slack.default_channel_id) == []
    with world.bot.services.sessions.begin() as session:
        datastore = session.scalars(select(Datastore)).one()
        datastore.created_at = utcnow() - timedelta(minutes=1)  # long enough ago: nobody else is announcing it
        run = session.scalars(select(SyncRun)).one()
        run.state, run.outcome, run.phase, run.finished_at = (
            RunState.FINISHED,
            RunOutcome.SYNCED,
            RunPhase.SYNCED,
            utcnow(),
        )
        run.started_at = utcnow() - timedelta(seconds=5)
    client = WebClient(
        token=sorted(slack.bot_tokens)[0], base_url=slack.api_url, retry_handlers=[RepeatableCallRetryHandler()]
    )
    updater = ProgressUpdater(world.bot.services, lambda _team: client, owner="late", min_interval=0.0)
    for _ in range(5):
        updater.tick()
    datastore = _datastore(world)
    channel = slack.default_channel_id
    assert datastore.channel_id == channel and datastore.parent_ts and datastore.progress_ts
    assert [m.ts for m in slack.messages(channel)] == [datastore.parent_ts]
    replies = slack.thread_replies(channel, datastore.parent_ts)
    assert replies[0].ts == datastore.progress_ts and "Synced ✅" in replies[0].text
    assert [m.text[:1] for m in replies[1:]] == ["✅"]
