"""Confluence's view rule as data (bot.access.model): pure, no database."""

from __future__ import annotations

import pytest

from bot.access.model import (
    ALL_LICENSED,
    ANONYMOUS,
    UNKNOWN,
    AccessMode,
    Acl,
    effective_acl,
    group_key,
    group_name_key,
    is_principal_key,
    person_principals,
    user_key,
    visible_acls,
)

SPACE = {group_key("staff"), user_key("admin")}
HR = group_key("hr")
ALICE, BOB, CAROL = user_key("557058:alice"), user_key("bob"), user_key("carol")
STAFF_ALICE = person_principals("557058:alice", ["staff", "hr"])
STAFF_BOB = person_principals("bob", ["staff"])
OUTSIDER = person_principals("mallory", ["contractors"])


def test_principal_keys_share_one_namespace_and_bad_ids_become_unknown() -> None:
    assert (user_key("5b10ac8d"), group_key("9f1c-aa"), group_name_key("HR team")) == (
        "u:5b10ac8d",
        "g:9f1c-aa",
        "gn:HR team",
    )
    for bad in ("", " x", "x ", "a\nb", "a\x00b", None, 42, "x" * 200):
        assert user_key(bad) == UNKNOWN and group_key(bad) == UNKNOWN
    assert all(is_principal_key(k) for k in (ALICE, HR, "gn:HR team", ANONYMOUS, ALL_LICENSED, UNKNOWN))
    assert not any(is_principal_key(k) for k in ("alice", "u:", "c:everyone", "z:1", "u: x", 7, "u:" + "x" * 200))
    assert AccessMode("each") is AccessMode.EACH and AccessMode("everyone") is AccessMode.EVERYONE


def test_no_restriction_means_the_space_clause_only() -> None:
    own: list[list[str]] | tuple[()] | None
    for own in (None, [], ()):
        acl = effective_acl(SPACE, own, [None, []])
        assert acl == Acl.of([SPACE]) and acl.allows(STAFF_BOB) and not acl.allows(OUTSIDER)


def test_own_restriction_is_intersected_with_the_space() -> None:
    acl = effective_acl(SPACE, [HR])
    assert acl.allows(STAFF_ALICE)
    assert not acl.allows(STAFF_BOB)  # in the space, not in HR
    assert not acl.allows(person_principals("dave", ["hr"]))  # in HR, cannot view the space


def test_every_restricted_ancestor_counts_not_only_the_closest() -> None:
    acl = effective_acl(SPACE, None, [[HR, BOB], [ALICE, CAROL]])  # grandparent, parent (any order)
    assert acl.allows(STAFF_ALICE)  # in HR and listed on the parent
    assert not acl.allows(STAFF_BOB)  # listed on the grandparent, not on the parent
    assert not acl.allows(person_principals("carol", ["staff"]))  # listed on the parent only
    assert effective_acl(SPACE, None, [[ALICE, CAROL], [HR, BOB]]) == acl


def test_restricted_to_one_person() -> None:
    acl = effective_acl(SPACE, [ALICE])
    assert acl.allows(STAFF_ALICE) and not acl.allows(STAFF_BOB)
    assert not acl.allows({ALICE})  # the space clause still applies


def test_unknown_evidence_hides_and_never_widens() -> None:
    assert not effective_acl(None).allows(STAFF_ALICE)  # unreadable space permissions
    assert not effective_acl([]).allows(STAFF_ALICE)  # nobody may view the space
    assert not effective_acl(SPACE, None, [[UNKNOWN]]).allows(STAFF_ALICE)  # unreadable ancestor: not skipped
    assert not effective_acl(SPACE, ["role:weird"]).allows(STAFF_ALICE)  # a shape we do not know
    mixed = effective_acl(SPACE, [ALICE, "?? odd"])  # a known principal next to an unknown one still counts
    assert mixed.allows(STAFF_ALICE) and not mixed.allows(STAFF_BOB)
    assert not Acl.of([[UNKNOWN]]).allows({UNKNOWN, *STAFF_ALICE})  # nobody holds UNKNOWN, even if handed it
    assert UNKNOWN not in person_principals("", ["", "ok"], [ANONYMOUS, "c:nonsense"])
    assert person_principals("", ["ok"], [ANONYMOUS, "c:nonsense"]) == {group_key("ok"), ANONYMOUS}


def test_acls_are_canonical_so_equal_rules_share_one() -> None:
    one = effective_acl(SPACE, [HR], [[ALICE, HR]])
    assert one == effective_acl(list(reversed(sorted(SPACE))), [HR, HR])  # superset clause absorbed
    assert one.clauses == frozenset({frozenset(SPACE), frozenset({HR})})
    with pytest.raises(ValueError):
        Acl(frozenset())
    with pytest.raises(ValueError):
        Acl(frozenset({frozenset()}))


def test_visible_acls() -> None:
    acls = {
        1: effective_acl(SPACE),
        2: effective_acl(SPACE, [HR]),
        3: effective_acl(SPACE, [ALICE]),
        4: effective_acl(SPACE, None, [[BOB]]),
        5: effective_acl(None),
    }
    assert visible_acls(acls, STAFF_ALICE) == {1, 2, 3}
    assert visible_acls(acls, STAFF_BOB) == {1, 4}
    assert visible_acls(acls, OUTSIDER) == frozenset()
    assert visible_acls(acls, frozenset()) == frozenset()
    assert visible_acls(acls, {UNKNOWN}) == frozenset()
