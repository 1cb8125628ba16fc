"""The fault table of a sync thread (handlers/progress_thread.py), one case per row and per Slack error, against
the fake Slack: whatever happens, the creator gets the ✅ exactly once and the progress reply ends final."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from slack_sdk import WebClient

from bot.app import RepeatableCallRetryHandler
from bot.progress.thread_store import AnnounceStep, NoReply, ThreadStore
from demo.fakes.atlassian import SiteSpec
from demo.fakes.slack_api import FakeSlack
from demo.fakes.slack_faults import FaultMode
from handlers.progress import ProgressUpdater
from tests.bot.sync.conftest import SyncWorld, make_world
from tests.harness import open_sync_thread

# Heavy end to end: of this module's PostgreSQL cases every other one runs (SQLite runs them all).
pytestmark = pytest.mark.postgresql_sample(every=2, per="module")

CREATOR = "U1"
PRIVATE = "C0PRIVATE"
DONE = "✅ *eng-wiki* is ready"


@dataclass
class Thread:
    world: SyncWorld
    slack: FakeSlack
    client: WebClient
    channel: str

    def updater(self, **options: Any) -> ProgressUpdater:
        return ProgressUpdater(self.world.services, lambda _team: self.client, owner="test", **options)

    def where(self) -> tuple[str, str, str]:
        datastore = self.world.datastore()
        assert datastore.channel_id and datastore.parent_ts and datastore.progress_ts
        return datastore.channel_id, datastore.parent_ts, datastore.progress_ts

    def tick_until_announced(self, updater: ProgressUpdater, run_id: int, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while self.world.run(run_id).announced_ts is None:
            assert time.monotonic() < deadline, f"never announced; calls: {[c.method for c in self.slack.calls()]}"
            updater.tick()
            time.sleep(0.05)


def _client(slack: FakeSlack) -> WebClient:
    """Like the bot's own client (bot/app.py): connection errors retried, except for posts; a short timeout."""
    return WebClient(
        token=sorted(slack.bot_tokens)[0],
        base_url=slack.api_url,
        timeout=2,
        retry_handlers=[RepeatableCallRetryHandler(max_retry_count=2)],
    )


def _thread(database_url: str, slack: FakeSlack, channel: str) -> Iterator[Thread]:
    slack.add_user(CREATOR, "jane", real_name="Jane Doe")
    slack.add_channel(PRIVATE, "private", is_private=True, members=[CREATOR])
    client = _client(slack)
    for world in make_world(database_url, SiteSpec(spaces=2, pages_per_space=30, blogposts_per_space=0)):
        open_sync_thread(world.services, client, datastore_id=world.datastore_id, channel=channel)
        slack.reset_calls()
        yield Thread(world, slack, client, channel)


@pytest.fixture
def thread(database_url: str, fake_slack: FakeSlack) -> Iterator[Thread]:
    yield from _thread(database_url, fake_slack, fake_slack.default_channel_id)


@pytest.fixture
def private_thread(database_url: str, fake_slack: FakeSlack) -> Iterator[Thread]:
    yield from _thread(database_url, fake_slack, PRIVATE)


def _completion(args: dict[str, Any]) -> bool:
    return str(args.get("text", "")).startswith(DONE)


def _sync_with(t: Thread, fault: Callable[[Thread], None], **options: Any) -> int:
    """Queue a run, show its start, inject ``fault``, finish the run and tick until it is announced."""
    updater = t.updater(min_interval=0.0, **options)
    run_id = t.world.queue(kind="full")
    updater.tick()  # the thread shows the queued run
    fault(t)
    t.world.worker().run_until_idle()
    t.tick_until_announced(updater, run_id)
    for _ in range(3):
        updater.tick()  # more passes add nothing
    return run_id


def _assert_final(t: Thread, run_id: int, *, channel: str) -> None:
    """Exactly one ✅ anywhere, in the thread the datastore points at, whose progress reply is final."""
    completions = t.slack.all_messages(text_prefix=DONE)
    assert len(completions) == 1, [(m.channel, m.ts) for m in completions]
    at, parent_ts, progress_ts = t.where()
    assert at == channel
    assert [m.ts for m in t.slack.thread_replies(at, parent_ts)][-1] == completions[0].ts
    assert t.world.run(run_id).announced_ts == completions[0].ts
    assert "*Synced ✅* — 60 processed" in t.slack.message(at, progress_ts).text
    assert "Synced ✅" in t.slack.message(at, parent_ts).text
    assert t.slack.message(at, parent_ts).reactions.get("white_check_mark")
    assert t.slack.pending_faults() == 0, "an injected fault was never hit"


# ---- the message or the channel is gone ----------------------------------------------------------------------


def test_a_deleted_progress_reply_is_posted_again_in_the_thread(thread: Thread) -> None:
    channel, parent_ts, old_progress = thread.where()
    run_id = _sync_with(thread, lambda t: t.slack.delete_message(channel, old_progress))
    _assert_final(thread, run_id, channel=channel)
    assert thread.where()[1:] != (parent_ts, old_progress) and thread.where()[1] == parent_ts
    assert [c.error for c in thread.slack.calls("chat.update") if c.args.get("ts") == old_progress] == [
        None,  # the first pass: the queued run
        "message_not_found",
    ]


def test_a_deleted_channel_message_is_posted_again_and_the_thread_goes_on_under_it(thread: Thread) -> None:
    channel, old_parent, old_progress = thread.where()
    run_id = _sync_with(thread, lambda t: t.slack.delete_message(channel, old_parent))
    _assert_final(thread, run_id, channel=channel)
    _, parent_ts, progress_ts = thread.where()
    assert parent_ts != old_parent and progress_ts != old_progress
    tops = [m for m in thread.slack.messages(channel) if m.ts == parent_ts]
    assert len(tops) == 1 and "eng-wiki" in tops[0].text
    assert any(c.error == "message_not_found" and c.args.get("ts") == old_parent for c in thread.slack.calls())


CHANNEL_FAULTS: dict[str, Callable[[Thread], None]] = {
    "archived": lambda t: t.slack.archive_channel(t.channel),
    "not_in_channel on the completion reply": lambda t: t.slack.fail(
        "chat.postMessage", error="not_in_channel", when=lambda a: str(a.get("text", "")).startswith(DONE)
    ),
    "channel_not_found on the status line": lambda t: t.slack.fail(
        "chat.update", error="channel_not_found", when=lambda a: a.get("ts") == t.where()[1]
    ),
    "restricted_action on the progress reply": lambda t: t.slack.fail(
        "chat.update", error="restricted_action", when=lambda a: a.get("ts") == t.where()[2]
    ),
    "is_archived on the reaction": lambda t: t.slack.fail("reactions.add", error="is_archived"),
}


@pytest.mark.parametrize("fault", list(CHANNEL_FAULTS))
def test_a_channel_closed_to_the_bot_moves_the_thread_to_a_dm_with_the_creator(thread: Thread, fault: str) -> None:
    run_id = _sync_with(thread, CHANNEL_FAULTS[fault])
    dm = thread.slack.dm_channel_id(CREATOR)
    if fault == "is_archived on the reaction":  # the ✅ was in the channel already: not posted twice
        assert len(thread.slack.all_messages(text_prefix=DONE)) == 1
        assert thread.where()[0] == dm and thread.world.run(run_id).announced_ts is not None
        return
    _assert_final(thread, run_id, channel=dm)
    assert any("continues here" in m.text for m in thread.slack.dms(CREATOR))


def test_a_bot_removed_from_its_private_channel_moves_the_thread_to_a_dm(private_thread: Thread) -> None:
    run_id = _sync_with(private_thread, lambda t: t.slack.remove_bot_from_channel(PRIVATE))
    _assert_final(private_thread, run_id, channel=private_thread.slack.dm_channel_id(CREATOR))


# ---- two faults in a row -------------------------------------------------------------------------------------


def _to_dm(args: dict[str, Any]) -> bool:
    return str(args.get("channel", "")).startswith("D")


def _unexpected(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "handlers.progress" and r.levelno >= logging.ERROR]


SECOND_FAULTS: dict[str, Callable[[Thread], None]] = {
    "429 on conversations.open": lambda t: t.slack.fail("conversations.open", error="ratelimited", retry_after=3),
    "429 on the DM's first post": lambda t: t.slack.fail(
        "chat.postMessage", error="ratelimited", retry_after=3, when=_to_dm
    ),
    "5xx after Slack applied the DM's channel message": lambda t: t.slack.fail(
        "chat.postMessage",
        error="internal_error",
        mode=FaultMode.APPLY_THEN_ERROR,
        when=lambda a: _to_dm(a) and "thread_ts" not in a,
    ),
    "connection dropped after Slack applied the DM's channel message": lambda t: t.slack.fail(
        "chat.postMessage", mode=FaultMode.APPLY_THEN_DROP, when=lambda a: _to_dm(a) and "thread_ts" not in a
    ),
}


@pytest.mark.parametrize("second", list(SECOND_FAULTS))
def test_a_fault_while_the_thread_moves_to_the_dm_is_handled_like_any_other(
    thread: Thread, second: str, caplog: pytest.LogCaptureFixture
) -> None:
    def faults(t: Thread) -> None:
        t.slack.archive_channel(t.channel)
        SECOND_FAULTS[second](t)

    run_id = _sync_with(thread, faults)
    dm = thread.slack.dm_channel_id(CREATOR)
    _assert_final(thread, run_id, channel=dm)
    assert len([m for m in thread.slack.messages(dm) if "eng-wiki" in m.text]) == 1  # one channel message
    assert _unexpected(caplog) == []  # not "failed unexpectedly", then tried again after the error backoff
    calls = thread.slack.calls()
    for limited in [c for c in calls if c.status == 429]:  # (that backoff, 2 s, is shorter than Retry-After)
        after = [c for c in calls if c.time > limited.time]
        assert after and after[0].time - limited.time >= 3.0


def test_a_deleted_channel_message_reposted_into_a_channel_closed_meanwhile_moves_to_the_dm(thread: Thread) -> None:
    channel, parent_ts, _progress = thread.where()

    def faults(t: Thread) -> None:
        t.slack.delete_message(channel, parent_ts)
        t.slack.fail("chat.postMessage", error="not_in_channel", when=lambda a: a.get("channel") == channel)

    run_id = _sync_with(thread, faults)
    _assert_final(thread, run_id, channel=thread.slack.dm_channel_id(CREATOR))


@pytest.mark.parametrize(
    ("method", "error"),
    [
        ("conversations.open", "user_not_found"),
        ("conversations.open", "user_disabled"),
        ("conversations.open", "cannot_dm_bot"),
        ("chat.postMessage", "is_archived"),  # the DM opens, but takes no post (a deactivated creator's)
    ],
)
def test_a_closed_channel_and_a_creator_who_cannot_get_a_dm_end_the_run_unannounced(
    thread: Thread, method: str, error: str, caplog: pytest.LogCaptureFixture
) -> None:
    def faults(t: Thread) -> None:
        t.slack.archive_channel(t.channel)
        t.slack.fail(method, error=error, times=50, when=_to_dm if method == "chat.postMessage" else None)

    run_id = _sync_with(thread, faults)
    assert thread.world.run(run_id).announced_ts == NoReply.UNREACHABLE
    assert _unexpected(caplog) == []  # an info line per try, not an error id every backoff for ever
    assert thread.slack.all_messages(text_prefix=DONE) == []
    tried = len(thread.slack.calls(method))
    for _ in range(3):
        thread.updater(min_interval=0.0).tick()
    assert len(thread.slack.calls(method)) == tried  # the run is done with: no more tries


# ---- Slack answers late, wrongly or not at all ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "when"),
    [
        ("chat.update", None),
        ("chat.postMessage", _completion),
        ("reactions.add", None),
    ],
)
def test_a_429_is_retried_after_retry_after_and_never_sooner(
    thread: Thread, method: str, when: Callable[[dict[str, Any]], bool] | None
) -> None:
    def limit(t: Thread) -> None:
        t.slack.fail(method, error="ratelimited", retry_after=2, when=when)

    run_id = _sync_with(thread, limit)
    _assert_final(thread, run_id, channel=thread.channel)
    calls = thread.slack.calls()
    limited = [c for c in calls if c.status == 429]
    assert len(limited) == 1
    after = [c for c in calls if c.time > limited[0].time]
    assert after, "nothing was called after the 429"
    assert after[0].time - limited[0].time >= 2.0  # recorded by the fake: no call inside Retry-After


@pytest.mark.parametrize(
    ("mode", "stall"),
    [(FaultMode.APPLY_THEN_ERROR, 0.0), (FaultMode.APPLY_THEN_DROP, 0.0), (FaultMode.APPLY_THEN_STALL, 3.0)],
)
def test_a_completion_reply_slack_applied_before_failing_is_not_posted_twice(
    thread: Thread, mode: FaultMode, stall: float
) -> None:
    run_id = _sync_with(
        thread,
        lambda t: t.slack.fail("chat.postMessage", error="internal_error", mode=mode, stall=stall, when=_completion),
    )
    _assert_final(thread, run_id, channel=thread.channel)
    faulty = [c for c in thread.slack.calls("chat.postMessage") if c.fault == mode.value]
    assert len(faulty) == 1 and faulty[0].applied is not None
    assert thread.world.run(run_id).announced_ts == faulty[0].applied["ts"]  # the applied one, found again
    assert thread.slack.calls("conversations.replies"), "the earlier attempt was not looked for"


def test_a_reposted_progress_reply_that_timed_out_is_not_posted_twice(thread: Thread) -> None:
    channel, parent_ts, old_progress = thread.where()

    def fault(t: Thread) -> None:
        t.slack.delete_message(channel, old_progress)
        t.slack.fail("chat.postMessage", mode=FaultMode.APPLY_THEN_DROP, when=lambda a: a.get("thread_ts") == parent_ts)

    run_id = _sync_with(thread, fault)
    _assert_final(thread, run_id, channel=channel)
    progress_replies = [m for m in thread.slack.thread_replies(channel, parent_ts) if "processed" in m.text]
    assert [m.ts for m in progress_replies] == [thread.where()[2]]


def test_a_failed_reaction_resumes_from_that_step_without_a_second_completion(thread: Thread) -> None:
    run_id = _sync_with(thread, lambda t: t.slack.fail("reactions.add", error="internal_error", status=503, times=2))
    _assert_final(thread, run_id, channel=thread.channel)
    assert ThreadStore(thread.world.services).steps_done(run_id) == set(AnnounceStep)
    assert len([c for c in thread.slack.calls("chat.update") if c.args.get("ts") == thread.where()[1]]) == 1
