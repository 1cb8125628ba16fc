"""The channel's completion reply gives counts only; the failed pages' titles go to the creator by DM, once, through
the post ledger — whatever Slack does to the first attempt and whichever process gets there first."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from slack_sdk import WebClient

from bot.app import RepeatableCallRetryHandler
from bot.progress.posts import IN_FLIGHT, PostKeys, PostLedger
from bot.progress.thread_store import AnnounceStep, ThreadStore
from demo.fakes.atlassian import SiteSpec
from demo.fakes.slack_api import FakeSlack
from demo.fakes.slack_faults import FaultMode
from handlers.progress import ProgressUpdater
from storage.models import utcnow
from tests.bot.sync.conftest import SyncWorld, make_world
from tests.harness import open_sync_thread

CREATOR = "U1"
PARTIAL = "⚠️ *eng-wiki* is partly ready"
DM_TEXT = "The last sync of *eng-wiki* could not sync 1 page."


@dataclass
class Thread:
    world: SyncWorld
    slack: FakeSlack
    client: WebClient
    channel: str
    broken_title: str

    def updater(self) -> ProgressUpdater:
        return ProgressUpdater(self.world.services, lambda _team: self.client, owner="test", min_interval=0.0)

    def partial_run(self) -> int:
        """A full sync in which one page cannot be fetched."""
        broken = sorted(self.world.atlassian.site.ids("page"))[3]
        self.world.break_page(broken)
        run_id = self.world.queue(kind="full")
        self.world.worker(batch_size=50).run_until_idle()
        assert (self.world.run(run_id).outcome, self.world.run(run_id).failed) == ("partially_synced", 1)
        return run_id

    def tick_until_announced(self, updater: ProgressUpdater, run_id: int, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while self.world.run(run_id).announced_ts is None:
            assert time.monotonic() < deadline, f"never announced; calls: {[c.method for c in self.slack.calls()]}"
            updater.tick()
            time.sleep(0.05)

    def dms(self) -> list[str]:
        return [m.text for m in self.slack.dms(CREATOR) if m.text.startswith("The last sync")]


@pytest.fixture
def thread(database_url: str, fake_slack: FakeSlack) -> Iterator[Thread]:
    fake_slack.add_user(CREATOR, "jane", real_name="Jane Doe")
    client = WebClient(
        token=sorted(fake_slack.bot_tokens)[0],
        base_url=fake_slack.api_url,
        timeout=2,
        retry_handlers=[RepeatableCallRetryHandler(max_retry_count=2)],
    )
    channel = fake_slack.default_channel_id
    for world in make_world(database_url, SiteSpec(spaces=2, pages_per_space=30, blogposts_per_space=0)):
        open_sync_thread(world.services, client, datastore_id=world.datastore_id, channel=channel)
        broken = sorted(world.atlassian.site.ids("page"))[3]
        title = world.atlassian.site.page_text_hints(broken).title
        fake_slack.reset_calls()
        yield Thread(world, fake_slack, client, channel, title)


def _assert_counts_in_channel_titles_by_dm(t: Thread, run_id: int) -> None:
    (completion,) = t.slack.all_messages(text_prefix=PARTIAL)
    assert completion.channel == t.channel and completion.ts == t.world.run(run_id).announced_ts
    everything_in_channel = " ".join(str(m.blocks) + m.text for m in t.slack.messages(t.channel))
    replies = t.slack.thread_replies(t.channel, t.world.datastore().parent_ts or "")
    everything_in_channel += " ".join(str(m.blocks) + m.text for m in replies)
    assert t.broken_title not in everything_in_channel
    assert "1 failed" in completion.text and f"<@{CREATOR}> gets the list of failed pages by DM" in str(
        completion.blocks
    )
    (dm,) = [m for m in t.slack.dms(CREATOR) if m.text.startswith("The last sync")]
    assert dm.text.startswith(DM_TEXT) and t.broken_title in str(dm.blocks)
    assert AnnounceStep.FAILURES in ThreadStore(t.world.services).steps_done(run_id)


def test_failed_pages_go_to_the_creator_by_dm_once_and_the_channel_gets_counts(thread: Thread) -> None:
    updater = thread.updater()
    run_id = thread.partial_run()
    thread.tick_until_announced(updater, run_id)
    for _ in range(3):
        updater.tick()  # more passes add nothing
    _assert_counts_in_channel_titles_by_dm(thread, run_id)
    assert len(thread.dms()) == 1


@pytest.mark.parametrize("mode", [FaultMode.APPLY_THEN_ERROR, FaultMode.APPLY_THEN_DROP])
def test_a_dm_slack_applied_before_failing_is_not_sent_twice(thread: Thread, mode: FaultMode) -> None:
    updater = thread.updater()
    run_id = thread.partial_run()
    thread.slack.fail(
        "chat.postMessage",
        error="internal_error",
        mode=mode,
        when=lambda args: str(args.get("channel")).startswith("D"),
    )
    thread.tick_until_announced(updater, run_id)
    assert thread.slack.pending_faults() == 0, "the DM's fault was never hit"
    _assert_counts_in_channel_titles_by_dm(thread, run_id)
    assert len(thread.dms()) == 1


def test_a_dm_another_process_is_sending_is_left_to_it(thread: Thread) -> None:
    """Another process claimed the DM in the ledger (it is posting it now): this one neither posts it nor ends the
    announcement; once the other recorded its post, the announcement ends without a second DM."""
    updater = thread.updater()
    run_id = thread.partial_run()
    dm = thread.slack.dm_channel_id(CREATOR)
    ledger = PostLedger(thread.world.services)
    key = PostKeys.failures_dm(run_id)
    ledger.claim(key, datastore_id=thread.world.datastore_id, channel_id=dm, thread_ts=None)
    for _ in range(3):
        updater.tick()
    assert thread.world.run(run_id).announced_ts is None and thread.dms() == []
    assert thread.slack.all_messages(text_prefix=PARTIAL), "the channel's reply does not wait for the DM"
    other = thread.client.chat_postMessage(channel=dm, text=f"{DM_TEXT} (sent by the other process)")
    ledger.posted(key, channel_id=dm, ts=str(other["ts"]))
    thread.tick_until_announced(updater, run_id)
    assert len(thread.dms()) == 1 and "the other process" in thread.dms()[0]


def test_a_claim_left_by_a_process_that_died_is_taken_over_after_it_looks(thread: Thread) -> None:
    updater = thread.updater()
    run_id = thread.partial_run()
    dm = thread.slack.dm_channel_id(CREATOR)
    old = PostLedger(thread.world.services, clock=lambda: utcnow() - IN_FLIGHT * 2)
    old.claim(PostKeys.failures_dm(run_id), datastore_id=thread.world.datastore_id, channel_id=dm, thread_ts=None)
    thread.tick_until_announced(updater, run_id)
    assert len(thread.dms()) == 1
    assert thread.slack.calls("conversations.history"), "an abandoned claim is looked for in Slack first"


@pytest.mark.parametrize(
    ("method", "error"), [("conversations.open", "user_not_found"), ("chat.postMessage", "is_archived")]
)
def test_a_creator_who_cannot_get_a_dm_goes_without_and_the_run_is_announced(
    thread: Thread, method: str, error: str
) -> None:
    updater = thread.updater()
    run_id = thread.partial_run()
    dm_only = (lambda args: str(args.get("channel")).startswith("D")) if method == "chat.postMessage" else None
    thread.slack.fail(method, error=error, times=5, when=dm_only)
    thread.tick_until_announced(updater, run_id)
    assert thread.dms() == []
    assert len(thread.slack.all_messages(text_prefix=PARTIAL)) == 1
    assert AnnounceStep.FAILURES in ThreadStore(thread.world.services).steps_done(run_id)


def test_a_synced_run_sends_no_dm(thread: Thread) -> None:
    updater = thread.updater()
    run_id = thread.world.queue(kind="full")
    thread.world.worker().run_until_idle()
    thread.tick_until_announced(updater, run_id)
    assert thread.slack.dms(CREATOR) == []
    assert not thread.slack.calls("conversations.open")
