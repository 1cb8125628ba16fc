"""Who sees a datastore's content, on every surface that shows it (issue #12 step 1): every search answer, status
(with the access audit) and App Home name the connecting account; the channel's completion reply gives counts
only, and the failed pages' titles go to the creator's DM."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.datastores.queries import AccessChange, DatastoreInfo, SearchAnswer
from bot.progress.snapshot import ACL_HOLD, ProgressSnapshot
from demo.fakes.slack_blockkit import validate_blocks, validate_view
from handlers.ids import BlockId
from handlers.views.home import home_view
from handlers.views.progress import completion_message, failures_message, progress_message
from handlers.views.usage import search_message, status_message
from storage.access_modes import AccessMode
from storage.search import SearchHit
from storage.states import DatastoreStatus

WHEN = datetime(2026, 12, 1, 10, 4, tzinfo=UTC)
EVERYONE_ADA = "Everyone in this workspace sees what *Ada Lovelace* can see in Confluence"


def _info(**changes: Any) -> DatastoreInfo:
    base = DatastoreInfo(
        id=3,
        name="eng-wiki",
        site="acme.atlassian.net",
        status=DatastoreStatus.SYNCED,
        status_detail=None,
        documents=1200,
        created_by="U1",
        channel_id="C1",
        parent_ts="1.1",
        thread_url=None,
        last_sync=WHEN,
        next_sync=WHEN,
        run_phase=None,
        run_processed=0,
        run_to_process=0,
        run_failed=0,
        run_found=0,
        access_mode=AccessMode.EVERYONE,
        account_name="Ada Lovelace",
    )
    return dataclasses.replace(base, **changes)


def _hit() -> SearchHit:
    return SearchHit(
        document_id=1,
        title="Deploy guide",
        url="https://acme.atlassian.net/wiki/x",
        space_key="ENG",
        space_name="Engineering",
        last_modified=WHEN,
        snippet="how to *deploy*",
        score=1.0,
    )


def _answer(info: DatastoreInfo, *, hits: bool) -> SearchAnswer:
    return SearchAnswer(datastore=info, query="deploy", hits=[_hit()] if hits else [], syncing=False)


def _block(message: dict[str, Any], block_id: str) -> str:
    (block,) = [b for b in message["blocks"] if b.get("block_id") == block_id]
    return str(block["elements"][0]["text"] if block["type"] == "context" else block["text"]["text"])


def test_every_search_answer_names_the_connecting_account() -> None:
    info = _info()
    answers = [
        search_message(_answer(info, hits=True)),
        search_message(_answer(info, hits=False)),
        search_message(_answer(info, hits=True), shared_by="U2"),
    ]
    for message in answers:
        assert validate_blocks(message["blocks"], "message") == []
        assert EVERYONE_ADA in _block(message, BlockId.SEARCH_ACCESS)
    assert answers[2]["response_type"] == "in_channel"


def test_the_account_name_is_escaped_and_a_missing_one_names_the_site() -> None:
    hostile = search_message(_answer(_info(account_name="<!channel> & <@U9|boss>"), hits=True))
    line = _block(hostile, BlockId.SEARCH_ACCESS)
    assert "*&lt;!channel&gt; &amp; &lt;@U9|boss&gt;*" in line and "<!channel>" not in line
    unnamed = search_message(_answer(_info(account_name=None), hits=True))
    assert "sees what the account that connected *acme.atlassian.net* can see" in _block(unnamed, BlockId.SEARCH_ACCESS)
    gone = search_message(_answer(_info(account_name="  ", site=""), hits=True))
    assert "sees what the account that connected it can see" in _block(gone, BlockId.SEARCH_ACCESS)


def test_status_names_the_account_and_shows_the_latest_access_changes() -> None:
    history = [
        AccessChange(WHEN, "U7", "slack", "each", "everyone", "Ada Lovelace"),
        AccessChange(WHEN - timedelta(days=1), None, "cli", None, "everyone", None),
        AccessChange(WHEN - timedelta(days=2), None, "migration", None, "everyone", "Ada <b>"),
    ]
    message = status_message(_info(), thread_link=None, history=history)
    assert validate_blocks(message["blocks"], "message") == []
    assert EVERYONE_ADA in message["blocks"][0]["text"]["text"]
    audit = _block(message, BlockId.ACCESS_HISTORY).splitlines()
    assert audit == [
        "Access changes (latest first):",
        "• 01 Dec 2026 10:04 UTC · each person → everyone · by <@U7> · named *Ada Lovelace*",
        "• 30 Nov 2026 10:04 UTC · everyone · by an operator (command line)",
        "• 29 Nov 2026 10:04 UTC · everyone · by the upgrade that introduced access modes · named *Ada &lt;b&gt;*",
    ]
    empty = status_message(_info(), thread_link=None)
    assert _block(empty, BlockId.ACCESS_HISTORY) == "Access changes: none recorded"


def test_app_home_names_the_account_of_every_datastore() -> None:
    view = home_view([_info(id=1), _info(id=2, account_name="Grace Hopper")])
    assert validate_view(view) == []
    text = str(view["blocks"])
    assert EVERYONE_ADA in text and "sees what *Grace Hopper* can see in Confluence" in text


def _snapshot(**changes: Any) -> ProgressSnapshot:
    failures = tuple((f"Secret page {i} <!here>", f"Atlassian answered 500 ({i})") for i in range(10))
    base: dict[str, Any] = dict.fromkeys(
        ("channel_id", "parent_ts", "progress_ts", "reason", "pause_kind", "paused_until", "processing_started_at")
    )
    base.update(
        datastore_id=3, name="eng-wiki", site="acme.atlassian.net", team_id="T1", creator_id="U1", documents=950,
        run_id=12, trigger="manual", state="finished", phase="partially_synced", outcome="partially_synced",
        spaces_total=2, spaces_done=2, found=1000, to_process=1000, processed=950, unchanged=0, failed=50, deleted=0,
        started_at=WHEN - timedelta(minutes=5), finished_at=WHEN, now=WHEN, failures=failures,
    )  # fmt: skip
    base.update(changes)
    return ProgressSnapshot(**base)


def test_a_partial_completion_reply_gives_counts_only() -> None:
    message = completion_message(_snapshot(reason="some spaces could not be listed, so nothing was deleted"))
    assert validate_blocks(message["blocks"], "message") == []
    text = str(message)
    assert "⚠️ *eng-wiki* is partly ready — 950 synced, 50 failed" in message["text"]
    assert "Secret page" not in text and "Atlassian answered" not in text
    assert "some spaces could not be listed" in text
    assert "<@U1> gets the list of failed pages by DM." in text


def test_every_completion_reply_leaves_failure_titles_out() -> None:
    for outcome in ("synced", "partially_synced", "failed"):
        message = completion_message(_snapshot(outcome=outcome, phase=outcome))
        assert "Secret page" not in str(message), outcome


def test_the_creators_dm_lists_the_failed_pages() -> None:
    message = failures_message(_snapshot())
    assert validate_blocks(message["blocks"], "message") == []
    text = str(message["blocks"])
    assert "could not sync 50 pages. Only you get this list" in message["text"]
    assert text.count("Secret page") == 10 and "&lt;!here&gt;" in text and "<!here>" not in text
    assert "…and 40 more." in text
    one = failures_message(_snapshot(failed=1, failures=(("Only page", "gone"),)))
    assert "could not sync 1 page." in one["text"] and "more" not in str(one["blocks"])


def test_a_per_person_run_waits_for_its_pages_permissions_before_the_check_mark() -> None:
    """Finished with pages whose permissions no pass has read (hidden in per-person search): the progress reply
    says it is checking, and the ✅ waits — at most ACL_HOLD, after which the reply says what is still hidden."""
    waiting = _snapshot(outcome="synced", phase="synced", failed=0, failures=(), acl_waiting=200)
    assert waiting.waiting_for_permissions
    message = progress_message(waiting)
    assert validate_blocks(message["blocks"], "message") == []
    assert "*Checking who can see each page…* 750 of 950 pages" in str(message["blocks"])
    assert "Synced" not in str(message["blocks"]) and "✅ follows" in str(message["blocks"])
    late = _snapshot(outcome="synced", phase="synced", failed=0, failures=(), acl_waiting=200, now=WHEN + ACL_HOLD)
    assert not late.waiting_for_permissions
    done = completion_message(late)
    assert validate_blocks(done["blocks"], "message") == []
    assert "200 pages appear in per-person search once their permissions are read" in str(done["blocks"])
    assert "per-person" not in str(completion_message(_snapshot(outcome="synced", phase="synced", acl_waiting=0)))
    assert not _snapshot(state="running", phase="processing", acl_waiting=200).waiting_for_permissions


def test_a_resync_that_asks_only_for_changes_says_so_while_it_lists() -> None:
    from handlers.views.progress import progress_message

    listing = {"state": "running", "phase": "syncing_metadata", "outcome": None, "found": 12, "spaces_done": 1}
    changes = progress_message(_snapshot(**listing, lists_everything=False))
    assert "*Looking for changes…* 1 of 2 spaces · 12 changed pages found" in changes["text"]
    everything = progress_message(_snapshot(**listing))
    assert "*Syncing Metadata…* 1 of 2 spaces · 12 pages found" in everything["text"]


def test_a_sync_paused_for_the_apps_hourly_quota_says_when_it_resumes() -> None:
    from handlers.views.progress import progress_message

    paused = progress_message(
        _snapshot(state="paused", phase="processing", outcome=None, pause_kind="quota", paused_until=WHEN)
    )
    assert f"*Paused* for Atlassian's hourly quota — resuming at {WHEN:%H:%M} UTC" in paused["text"]
    assert "shared by every workspace using this bot" in paused["text"]
