"""The pure half of a pass: ACLs from facts (ancestors never skipped) and the cadence."""

from __future__ import annotations

from datetime import timedelta

from bot.access.facts import FRESHNESS_BOUND, acl_of, document_acls, finished_acls, next_pass_in
from bot.access.model import UNKNOWN
from bot.confluence.permissions import ContentFacts

SPACE = frozenset({"g:staff"})


def fact(cid: str, own: tuple[str, ...] = (), ancestors: tuple[str, ...] | None = ()) -> ContentFacts:
    return ContentFacts(cid, "page", "ENG", own, ancestors)


def test_a_restriction_on_any_ancestor_applies_to_the_document() -> None:
    facts = {"1": fact("1"), "2": fact("2", ("g:hr",), ("1",)), "3": fact("3", (), ("1", "2"))}
    acl = acl_of(facts["3"], SPACE, facts)
    assert acl.allows({"g:staff", "g:hr"}) and not acl.allows({"g:staff"}) and not acl.allows({"g:hr"})


def test_an_ancestor_nobody_could_read_hides_the_document() -> None:
    facts = {"3": fact("3", (), ("9",))}
    assert not acl_of(facts["3"], SPACE, facts).allows({"g:staff", UNKNOWN})
    assert acl_of(facts["3"], SPACE, facts, lambda _a: ()).allows({"g:staff"})  # read on its own: unrestricted
    assert not acl_of(fact("4", (), None), SPACE, {}).allows({"g:staff"})  # ancestors unreadable
    assert not acl_of(fact("5"), None, {}).allows({"g:staff"})  # space permissions unreadable


def test_of_an_unfinished_listing_only_documents_whose_chain_was_listed_are_stored() -> None:
    facts = {"1": fact("1"), "2": fact("2", (), ("1",)), "3": fact("3", (), ("1", "7"))}
    assert set(finished_acls(facts, SPACE, {"1", "2", "3"})) == {"1", "2"}
    assert set(document_acls(facts, SPACE, {"2", "8"})) == {"2"}  # only the datastore's documents


def test_the_cadence_is_at_least_the_freshness_bound_and_spreads_points_over_the_lane() -> None:
    assert next_pass_in(0, 13_000) == FRESHNESS_BOUND == timedelta(minutes=60)
    assert next_pass_in(13_000, 13_000) == timedelta(hours=1)
    # 10,000 pages at the measured ~2.4 points a page on a 65,000/h budget (a lane of 13,000/h)
    assert next_pass_in(23_700, 13_000) == timedelta(hours=23_700 / 13_000)
    assert timedelta(hours=1.8) < next_pass_in(23_700, 13_000) < timedelta(hours=1.9)
    assert next_pass_in(500, 0) == FRESHNESS_BOUND
