"""Issue #11, class 4, end to end through `datastore-bot serve`: a Slack fault during a sync never loses the ✅.

One case per row of the issue's table (and per Slack error where a row names several). Each creates a datastore
with the wizard, injects the fault while pages are being processed (or into the wizard's own first post), and
asserts that it was hit and that the sync ends with exactly one completion reply — in a DM with the creator
when the channel closed — with the progress reply and the channel message in their final state.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from demo.fakes.slack_api import FakeSlack
from demo.fakes.slack_faults import FaultMode
from tests.bot.served_sync import DONE, ServedSync, served_sync, settle

PRIVATE = "C0PRIVATE"


def _completion(args: dict[str, Any]) -> bool:
    return str(args.get("text", "")).startswith(DONE)


def _top_level(args: dict[str, Any]) -> bool:
    return "thread_ts" not in args


def _nothing(_sync: ServedSync) -> None:
    """No fault mid-sync (the case's fault was injected before the wizard's last step)."""


@dataclass(frozen=True)
class Case:
    inject: Callable[[ServedSync], None]
    check: Callable[[ServedSync, dict[str, str]], None]
    in_dm: bool = False
    channel_id: str | None = None
    prepare: Callable[[FakeSlack], object] = field(default=lambda _slack: None)  # before the wizard starts
    before_create: Callable[[FakeSlack], None] = field(default=lambda _slack: None)  # before its last step


# ---- the checks that each fault was actually hit -------------------------------------------------------------


def _errored(sync: ServedSync, error: str, ts: str | None = None) -> None:
    hit = [c for c in sync.slack.calls() if c.error == error and (ts is None or ts in (c.args.get("ts"), None))]
    assert hit, f"no Slack call answered {error}"


def _progress_reposted(sync: ServedSync, before: dict[str, str]) -> None:
    _errored(sync, "message_not_found", before["progress"])
    channel, parent, progress = sync.thread()
    assert (channel, parent) == (before["channel"], before["parent"]) and progress != before["progress"]
    assert [m.ts for m in sync.slack.thread_replies(channel, parent) if "processed" in m.text] == [progress]


def _parent_reposted(sync: ServedSync, before: dict[str, str]) -> None:
    _errored(sync, "message_not_found", before["parent"])
    channel, parent, _progress = sync.thread()
    assert channel == before["channel"] and parent != before["parent"]
    assert [m.ts for m in sync.slack.messages(channel) if "eng-wiki" in m.text] == [parent]


def _fault_consumed(mode: FaultMode) -> Callable[[ServedSync, dict[str, str]], None]:
    def check(sync: ServedSync, _before: dict[str, str]) -> None:
        faulty = [c for c in sync.slack.calls("chat.postMessage") if c.fault == mode.value]
        assert len(faulty) == 1 and faulty[0].applied is not None and faulty[0].applied.get("ok")
        if _completion(faulty[0].args):  # the post Slack applied is the one kept, found again in the thread
            assert sync.run().announced_ts == faulty[0].applied["ts"]
            assert sync.slack.calls("conversations.replies")
        else:
            assert sync.datastore().parent_ts == faulty[0].applied["ts"]
            assert sync.slack.calls("conversations.history")

    return check


def _waited_out_retry_after(sync: ServedSync, _before: dict[str, str]) -> None:
    calls = sync.slack.calls()
    limited = [c for c in calls if c.status == 429]
    assert {c.method for c in limited} == {"chat.update", "chat.postMessage"}
    for call in limited:
        retry_after = float(2 if call.method == "chat.postMessage" else 3)
        later = [c for c in calls if c.time > call.time and c.method != "auth.test"]
        assert later and later[0].time - call.time >= retry_after, (call.method, later[0].time - call.time)


def _rate_limit(slack: FakeSlack) -> None:
    slack.fail("chat.update", error="ratelimited", retry_after=3)
    slack.fail("chat.postMessage", error="ratelimited", retry_after=2, when=_completion)


CASES: dict[str, Case] = {
    "progress reply deleted": Case(
        inject=lambda sync: sync.slack.delete_message(sync.thread()[0], sync.thread()[2]), check=_progress_reposted
    ),
    "parent message deleted": Case(
        inject=lambda sync: sync.slack.delete_message(sync.thread()[0], sync.thread()[1]), check=_parent_reposted
    ),
    "channel archived": Case(
        inject=lambda sync: sync.slack.archive_channel(sync.thread()[0]),
        check=lambda sync, _b: _errored(sync, "is_archived"),
        in_dm=True,
    ),
    "bot removed from its private channel": Case(
        inject=lambda sync: sync.slack.remove_bot_from_channel(PRIVATE),
        check=lambda sync, _b: _errored(sync, "channel_not_found"),
        in_dm=True,
        channel_id=PRIVATE,
        prepare=lambda slack: slack.add_channel(PRIVATE, "private", is_private=True, members=["U0TESTER"]),
    ),
    "not_in_channel on the completion reply": Case(
        inject=lambda sync: sync.slack.fail("chat.postMessage", error="not_in_channel", when=_completion),
        check=lambda sync, _b: _errored(sync, "not_in_channel"),
        in_dm=True,
    ),
    "429 with Retry-After": Case(inject=lambda sync: _rate_limit(sync.slack), check=_waited_out_retry_after),
    "5xx after Slack applied the completion reply": Case(
        inject=lambda sync: sync.slack.fail(
            "chat.postMessage", error="internal_error", mode=FaultMode.APPLY_THEN_ERROR, when=_completion
        ),
        check=_fault_consumed(FaultMode.APPLY_THEN_ERROR),
    ),
    "connection dropped after Slack applied the completion reply": Case(
        inject=lambda sync: sync.slack.fail("chat.postMessage", mode=FaultMode.APPLY_THEN_DROP, when=_completion),
        check=_fault_consumed(FaultMode.APPLY_THEN_DROP),
    ),
    "timeout after Slack applied the completion reply": Case(
        inject=lambda sync: sync.slack.fail(
            "chat.postMessage", mode=FaultMode.APPLY_THEN_STALL, stall=11.0, when=_completion
        ),  # past the bot's 10 s Web API timeout
        check=_fault_consumed(FaultMode.APPLY_THEN_STALL),
    ),
    "5xx after Slack applied the wizard's channel message": Case(
        inject=_nothing,
        before_create=lambda slack: slack.fail(
            "chat.postMessage", error="internal_error", mode=FaultMode.APPLY_THEN_ERROR, when=_top_level
        ),
        check=_fault_consumed(FaultMode.APPLY_THEN_ERROR),
    ),
}


#: Every row on SQLite; on PostgreSQL, a spread of rows (the fault handling is the same code; the database
#: writes of the thread keeper, the claim ledger and the DM move are exercised there by these rows and by the
#: in-process table, tests/handlers/test_progress_faults.py, which runs every row on both).
@pytest.mark.postgresql_sample(every=4)
@pytest.mark.parametrize("case", list(CASES))
def test_a_slack_fault_mid_sync_still_ends_with_one_completion_reply(
    fake_slack: FakeSlack, database_url: str, tmp_path: Path, case: str
) -> None:
    spec = CASES[case]
    creator = fake_slack.default_user_id
    spec.prepare(fake_slack)
    with served_sync(
        fake_slack, database_url, tmp_path, channel_id=spec.channel_id, before_create=spec.before_create
    ) as sync:
        sync.wait_processing()
        channel, parent, progress = sync.thread()
        before = {"channel": channel, "parent": parent, "progress": progress}
        spec.inject(sync)
        run = sync.wait_finished(timeout=120)
        settle()
        assert sync.healthz().status_code == 200 and sync.healthz().json() == {"status": "ok", "database": "ok"}

        assert fake_slack.pending_faults() == 0, "the injected fault was never hit"
        spec.check(sync, before)
        assert run.outcome == "synced" and run.processed == sync.pages
        completions = fake_slack.all_messages(text_prefix=DONE)
        assert len(completions) == 1, [(m.channel, m.thread_ts) for m in completions]
        at, parent_ts, progress_ts = sync.thread()
        assert sync.run().announced_ts == completions[0].ts
        assert completions[0].channel == at and completions[0].thread_ts == parent_ts
        if spec.in_dm:
            assert at == fake_slack.dm_channel_id(creator) != channel
            assert [m.ts for m in fake_slack.dms(creator) if m.text.startswith(DONE)] == [completions[0].ts]
            assert any("continues here" in m.text for m in fake_slack.dms(creator))
        else:
            assert at == channel
        assert f"*Synced ✅* — {sync.pages:,} processed" in fake_slack.message(at, progress_ts).text
        assert "Synced ✅" in fake_slack.message(at, parent_ts).text
        assert fake_slack.message(at, parent_ts).reactions.get("white_check_mark")
        assert "Traceback" not in sync.served.output()
