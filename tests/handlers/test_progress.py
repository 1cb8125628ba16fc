"""The sync thread against the fake Slack: progress updates, discipline under rate limits, completion."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from slack_sdk import WebClient
from sqlalchemy import select

from bot.datastores.queries import Queries
from bot.jobs import Jobs
from bot.progress.thread_store import NoReply
from demo.fakes.atlassian import SiteSpec
from demo.fakes.slack_api import FakeSlack
from handlers.home import HomeTabs
from handlers.progress import ProgressUpdater
from storage.credits import add_credits
from storage.home_viewers import record_home_viewer
from storage.models import SyncRun, utcnow
from storage.states import RunOutcome, RunPhase, RunState
from tests.bot.sync.conftest import TEAM, SyncWorld, make_world
from tests.harness import open_sync_thread, wait_until

CREATOR = "U1"


@pytest.fixture
def thread(database_url: str, fake_slack: FakeSlack) -> Iterator[tuple[SyncWorld, FakeSlack, WebClient]]:
    fake_slack.add_user(CREATOR, "jane", real_name="Jane Doe")
    client = WebClient(token=sorted(fake_slack.bot_tokens)[0], base_url=fake_slack.api_url)
    spec = SiteSpec(spaces=2, pages_per_space=100, blogposts_per_space=0, body_bytes=2000)
    for world in make_world(database_url, spec):
        channel = fake_slack.default_channel_id
        open_sync_thread(world.services, client, datastore_id=world.datastore_id, channel=channel)
        fake_slack.reset_calls()
        yield world, fake_slack, client


class SteppedClock:
    """The updater's clock: moves only when the test says, so how often it may update is counted, not timed."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def _updater(world: SyncWorld, client: WebClient, **options: object) -> ProgressUpdater:
    return ProgressUpdater(world.services, lambda _team: client, owner="test-progress", **options)  # type: ignore[arg-type]


def _ts(world: SyncWorld) -> tuple[str, str, str]:
    datastore = world.datastore()
    assert datastore.channel_id and datastore.parent_ts and datastore.progress_ts
    return datastore.channel_id, datastore.parent_ts, datastore.progress_ts


def _tick_until_announced(world: SyncWorld, updater: ProgressUpdater, run_id: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while world.run(run_id).announced_ts is None:
        assert time.monotonic() < deadline, "the completion was never announced"
        updater.tick()
        time.sleep(0.1)


def test_a_sync_thread_ends_with_a_check_mark_and_few_updates(thread: tuple[SyncWorld, FakeSlack, WebClient]) -> None:
    world, slack, client = thread
    world.atlassian.set_latency(0.05)
    clock = SteppedClock()
    updater = _updater(world, client, min_interval=0.5, clock=clock)
    run_id = world.queue(kind="full", trigger="create")
    worker = threading.Thread(target=world.worker(batch_size=20).run_until_idle)
    ticks = 0
    worker.start()
    while worker.is_alive():
        updater.tick()
        ticks += 1
        clock.advance(0.1)  # five ticks per min_interval: at most one progress update in five while it runs
        time.sleep(0.1)
    worker.join()
    _tick_until_announced(world, updater, run_id)
    channel, parent_ts, progress_ts = _ts(world)
    updates = [c for c in slack.calls("chat.update") if c.args.get("ts") == progress_ts]
    assert 1 <= len(updates) <= ticks // 5 + 3
    replies = slack.thread_replies(channel, parent_ts)
    final = replies[-1].text
    assert final.startswith("✅ *eng-wiki* is ready — 200 documents synced in")
    assert "Synced ✅" in slack.message(channel, progress_ts).text
    assert (
        "Synced ✅" in slack.message(channel, parent_ts).text
        and "200 documents" in slack.message(channel, parent_ts).text
    )
    assert [c.args["name"] for c in slack.calls("reactions.add")] == ["white_check_mark"]
    for _ in range(3):
        updater.tick()
    assert len([r for r in slack.thread_replies(channel, parent_ts) if r.text.startswith("✅")]) == 1


def test_a_burst_of_429s_delays_but_never_loses_the_check_mark(thread: tuple[SyncWorld, FakeSlack, WebClient]) -> None:
    world, slack, client = thread
    run_id = world.queue(kind="full")
    world.worker().run_until_idle()
    slack.fail("chat.update", error="ratelimited", status=429, retry_after=1, times=3)
    slack.fail("chat.postMessage", error="ratelimited", status=429, retry_after=1, times=2)
    updater = _updater(world, client, min_interval=0.1)
    _tick_until_announced(world, updater, run_id)
    channel, parent_ts, _progress = _ts(world)
    assert [r.text[:1] for r in slack.thread_replies(channel, parent_ts)].count("✅") == 1


def test_paused_and_failed_runs_say_why(thread: tuple[SyncWorld, FakeSlack, WebClient]) -> None:
    world, slack, client = thread
    with world.services.sessions.begin() as session:
        add_credits(session, team_id=TEAM, amount=-99_990, now=utcnow())
    run_id = world.queue(kind="full")
    world.worker(batch_size=5).run_until_idle()
    updater = _updater(world, client, min_interval=0.0)
    updater.tick()
    channel, parent_ts, progress_ts = _ts(world)
    assert "out of credits" in slack.message(channel, progress_ts).text
    assert "/datastore credits" in slack.message(channel, progress_ts).text

    with world.services.sessions.begin() as session:
        run = session.get(SyncRun, run_id)
        assert run is not None
        run.state, run.outcome, run.reason, run.phase = (
            RunState.FINISHED,
            RunOutcome.FAILED,
            "the site could not be read",
            RunPhase.FAILED,
        )
        run.finished_at = utcnow()
    _tick_until_announced(world, updater, run_id)
    last = slack.thread_replies(channel, parent_ts)[-1]
    assert last.text == "❌ Sync of *eng-wiki* failed: the site could not be read"
    assert "Retry" in str(last.blocks)


def test_a_deleted_progress_message_is_posted_again(thread: tuple[SyncWorld, FakeSlack, WebClient]) -> None:
    world, slack, client = thread
    channel, parent_ts, progress_ts = _ts(world)
    slack.delete_message(channel, progress_ts)
    world.queue(kind="full")
    _updater(world, client).tick()
    new_ts = world.datastore().progress_ts
    assert new_ts is not None and new_ts != progress_ts
    assert slack.message(channel, new_ts).thread_ts == parent_ts


def test_an_archived_channel_moves_the_thread_to_a_dm(thread: tuple[SyncWorld, FakeSlack, WebClient]) -> None:
    world, slack, client = thread
    slack.archive_channel(slack.default_channel_id)
    world.queue(kind="full")
    _updater(world, client).tick()
    datastore = world.datastore()
    assert datastore.channel_id == slack.dm_channel_id(CREATOR)
    assert any("continues here" in m.text for m in slack.dms(CREATOR))


def test_two_processes_post_one_completion(thread: tuple[SyncWorld, FakeSlack, WebClient]) -> None:
    world, slack, client = thread
    run_id = world.queue(kind="full")
    world.worker().run_until_idle()
    updaters = [ProgressUpdater(world.services, lambda _t: client, owner=f"p{i}") for i in range(2)]
    threads = [threading.Thread(target=u.tick) for u in updaters for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    _tick_until_announced(world, updaters[0], run_id)
    channel, parent_ts, _ = _ts(world)
    assert [r.text[:1] for r in slack.thread_replies(channel, parent_ts)].count("✅") == 1


def _has_scheduled_run(world: SyncWorld) -> bool:
    with world.services.sessions() as session:
        return session.scalars(select(SyncRun).where(SyncRun.trigger == "schedule")).first() is not None


def test_a_scheduled_resync_runs_and_only_updates_the_status_line(
    thread: tuple[SyncWorld, FakeSlack, WebClient],
) -> None:
    world, slack, client = thread
    first = world.queue(kind="full")
    world.worker().run_until_idle()
    updater = _updater(world, client, min_interval=0.0)
    _tick_until_announced(world, updater, first)
    channel, parent_ts, _ = _ts(world)
    replies_before = len(slack.thread_replies(channel, parent_ts))
    with world.services.sessions.begin() as session:  # the last sync was longer ago than the interval
        finished = session.get(SyncRun, first)
        assert finished is not None and finished.finished_at is not None
        finished.finished_at -= timedelta(minutes=world.services.settings.sync_interval_minutes + 1)
    jobs = Jobs(world.services, context="test-schedule")
    try:
        jobs.start(lambda: None)  # the real scheduler: rebuilt from the database, the overdue resync fires
        assert jobs.scheduler.get_job(f"resync-{world.datastore_id}") is not None
        wait_until(lambda: _has_scheduled_run(world), timeout=10)
    finally:
        jobs.stop()
    world.worker().run_until_idle()
    with world.services.sessions() as session:
        run = session.scalars(select(SyncRun).where(SyncRun.trigger == "schedule")).one()
        run_id = run.id
    _tick_until_announced(world, updater, run_id)
    assert len(slack.thread_replies(channel, parent_ts)) == replies_before
    assert "last sync" in slack.message(channel, parent_ts).text
    wait_until(lambda: world.run(run_id).announced_ts == NoReply.QUIET)


def test_app_home_tabs_of_recent_viewers_show_the_finished_sync(thread: tuple[SyncWorld, FakeSlack, WebClient]) -> None:
    world, slack, client = thread
    tabs = HomeTabs(world.services, Queries(world.services), lambda _team: client)
    with world.services.sessions.begin() as session:
        record_home_viewer(session, team_id=TEAM, user_id=CREATOR, now=utcnow())
        record_home_viewer(session, team_id=TEAM, user_id="U0LONGAGO", now=utcnow() - timedelta(days=90))
    updater = _updater(world, client, min_interval=0.0, on_finished=tabs.refresh_team)
    run_id = world.queue(kind="full")
    world.worker().run_until_idle()
    _tick_until_announced(world, updater, run_id)
    home = slack.home_view(CREATOR)
    assert home is not None and "Synced ✅" in str(home.blocks) and "200 documents" in str(home.blocks)
    assert [c.args["user_id"] for c in slack.calls("views.publish")] == [CREATOR]  # not who left long ago
