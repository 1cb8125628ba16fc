"""Issue #12's acceptance, end to end with every part real (tests/handlers/per_person_world.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from bot.sync.runtime import SyncRuntime
from demo.fakes.slack_api import FakeSlack
from handlers.ids import ActionId, BlockId
from storage.models import utcnow
from storage.states import RunKind, RunTrigger
from storage.sync_runs import queue_run
from tests.handlers.per_person_world import (
    BOB,
    CAROL,
    CONSENTER,
    GRACE,
    NOBODY,
    RESTRICTED,
    Acceptance,
    acceptance,
)

# Heavy end to end: of this module's PostgreSQL cases every other one runs (SQLite runs them all).
pytestmark = pytest.mark.postgresql_sample(every=2, per="module")


@pytest.fixture
def acc(fake_slack: FakeSlack, database_url: str) -> Iterator[Acceptance]:
    yield from acceptance(fake_slack, database_url)


def test_restricted_pages_reach_only_the_people_confluence_lets_see_them(acc: Acceptance) -> None:
    for name in RESTRICTED:
        reply = acc.search(NOBODY, name)
        assert acc.connect_url(reply) is not None and acc.title(name) not in str(reply)
    assert all(acc.sees(CONSENTER, name) for name in (*RESTRICTED, "open"))  # linked by their consent
    for person in (GRACE, BOB, CAROL):
        acc.link(person)
    assert acc.read_groups().refreshed == 0  # each consent read that person's groups (the real reader)
    assert acc.sees_nothing_restricted(BOB) and acc.sees(BOB, "open")
    assert acc.sees(GRACE, "direct") and acc.sees(GRACE, "child") and not acc.sees(GRACE, "personal")
    assert acc.sees(CAROL, "personal") and not acc.sees(CAROL, "direct") and not acc.sees(CAROL, "child")


def test_a_person_just_linked_sees_what_confluence_shows_them_at_once(acc: Acceptance) -> None:
    """Bug found here: a new link held only its own account until the hourly group job read it (up to five
    minutes, the job's period), so the person was told they were connected and then found nothing, not even
    open pages. The callback now reads a new link's groups at once."""
    acc.link(BOB)
    acc.link(GRACE)
    assert acc.sees(BOB, "open") and acc.sees_nothing_restricted(BOB)
    assert acc.sees(GRACE, "direct") and acc.sees(GRACE, "child") and not acc.sees(GRACE, "personal")
    assert acc.read_groups().refreshed == 0  # nothing left for the job


def _linked(acc: Acceptance, *people: str) -> None:
    for person in people:
        acc.link(person)
    assert acc.read_groups().refreshed == 0


def test_shared_messages_carry_only_a_short_link_and_the_sharer(acc: Acceptance) -> None:
    _linked(acc, GRACE, BOB)
    for name in RESTRICTED[:2]:
        reply = acc.search(GRACE, name)
        assert acc.title(name) in str(reply)
        posted = acc.share(GRACE, reply)
        (shared,) = [m for m in posted if m.get("response_type") == "in_channel"]
        hints = acc.site.page_text_hints(acc.pages[name])
        text = str(shared)
        assert acc.title(name) not in text and hints.tag not in text and hints.phrase not in text
        assert "/wiki/x/" in text and f"<@{GRACE}>" in text and "won't be able to open it" in text
        # Bob replays the same button (a forwarded click): nothing he may not see is posted.
        replayed = acc.share(BOB, reply)
        assert not [m for m in replayed if m.get("response_type") == "in_channel"]
        assert acc.title(name) not in str(replayed)
    in_channel = acc.slack.messages(acc.slack.default_channel_id)
    channel_text = " ".join(str(message.blocks) + message.text for message in in_channel)
    assert not any(acc.title(name) in channel_text for name in RESTRICTED)


def test_a_restriction_added_in_confluence_hides_the_page_once_the_bound_has_passed(acc: Acceptance) -> None:
    _linked(acc, BOB, CAROL)
    acc.site.restrict_page(acc.pages["open"], users=[acc.account(CAROL), acc.account(CONSENTER)])
    assert acc.sees(BOB, "open")  # the pass read its ACL just now: within the bound (ACCESS_FRESHNESS_MINUTES)
    acc.age_checks(61)  # the bound (60 minutes by default) has passed since the pass read it
    assert not acc.sees(BOB, "open") and not acc.sees(GRACE, "open")  # Grace is not linked: Connect prompt
    assert acc.sees(CAROL, "open")
    assert acc.world.atlassian.log.filter(endpoint="GET /wiki/api/v2/pages")  # the live check, as the person
    (report,) = acc.run_pass(clock=lambda: utcnow() + timedelta(hours=4))  # the next full pass stores it
    assert report.outcome == "complete"
    acc.age_checks(0)
    acc.world.atlassian.log.clear()
    assert not acc.sees(BOB, "open") and acc.sees(CAROL, "open")
    assert not acc.world.atlassian.log.filter(endpoint="GET /wiki/api/v2/pages")  # from the synced ACL alone


def _block(reply: dict[str, Any], block_id: str) -> dict[str, Any]:
    (block,) = [b for b in reply.get("blocks", []) if b.get("block_id") == block_id]
    return dict(block)


def test_everyone_mode_after_its_confirmation_shows_it_with_the_warning_naming_the_account(acc: Acceptance) -> None:
    account = acc.site.users[0].display_name
    reply = acc.reply(CONSENTER, "access eng-wiki everyone")  # the creator
    assert acc.datastore().access_mode == "each"  # nothing changes before the confirmation
    assert account in str(_block(reply, BlockId.ACCESS_CONFIRM))
    (button,) = _block(reply, BlockId.ACCESS_CONFIRM_ACTIONS)["elements"]
    before = len(acc.slack.calls("response_url"))
    clicked = acc.world.bot.sender.click_in_ephemeral(
        ActionId.ACCESS_CONFIRM_EVERYONE,
        BlockId.ACCESS_CONFIRM_ACTIONS,
        button["value"],
        acc.slack.default_channel_id,
        user_id=CONSENTER,
    )
    assert clicked.status == 200
    acc.slack.wait_for_call("response_url", count=before + 1, timeout=5)
    assert acc.datastore().access_mode == "everyone"
    for name in RESTRICTED:
        shown = acc.search(NOBODY, name)  # not linked, outside every group: sees what the account sees
        assert acc.title(name) in str(shown) and acc.connect_url(shown) is None
        warning = str(_block(shown, BlockId.SEARCH_ACCESS))
        assert "Everyone in this workspace sees what" in warning and account in warning


def test_unlink_removes_access_at_once(acc: Acceptance) -> None:
    _linked(acc, GRACE)
    assert acc.sees(GRACE, "direct") and acc.sees(GRACE, "child")
    assert "no longer linked" in str(acc.reply(GRACE, "unlink"))
    for name in (*RESTRICTED, "open"):
        reply = acc.search(GRACE, name)
        assert acc.connect_url(reply) is not None and acc.title(name) not in str(reply)
    assert "no longer linked" in str(acc.reply(CONSENTER, "unlink"))  # the consenter's link too
    assert acc.sees_nothing_restricted(CONSENTER) and not acc.sees(CONSENTER, "open")


def test_a_page_added_under_a_restricted_parent_stays_hidden_until_the_pass_reads_its_acl(acc: Acceptance) -> None:
    _linked(acc, GRACE, BOB)
    space = acc.site.content[acc.pages["parent"]].space_id
    acc.pages["new"] = acc.site.add_page(space, parent_id=acc.pages["parent"]).id  # inherits the restriction
    with acc.world.bot.services.sessions.begin() as session:
        assert (
            queue_run(session, datastore_id=acc.datastore_id, kind=RunKind.INCREMENTAL, trigger=RunTrigger.MANUAL)
            is not None
        )
    runtime = SyncRuntime(acc.world.bot.services, processes=0)
    try:
        runtime.worker().run_until_idle()
    finally:
        runtime.close()
    assert acc.datastore().document_count == 17
    assert not acc.sees(GRACE, "new") and not acc.sees(CONSENTER, "new")  # its ACL is unknown: hidden
    # The full pass just ran, but the sync has ended since: its new page is read at once (its thread holds
    # the ✅ meanwhile), not after NEW_DOCUMENTS_GAP — and only that page.
    (report,) = acc.run_pass()
    assert report.outcome == "new_documents" and report.documents >= 1
    assert acc.run_pass() == [] and acc.run_pass(clock=lambda: utcnow() + timedelta(minutes=3)) == []
    assert acc.sees(GRACE, "new") and acc.sees(CONSENTER, "new") and not acc.sees(BOB, "new")
