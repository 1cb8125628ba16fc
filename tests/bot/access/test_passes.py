"""Permission passes over the fake Atlassian on both backends: what the stored ACLs let each person see."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from bot.access.model import ANONYMOUS, AUTHENTICATED, UNKNOWN
from storage.permission_passes import PassOutcome
from tests.bot.access.pass_world import PassWorld, pass_world


@pytest.fixture
def world(database_url: str) -> Iterator[PassWorld]:
    for made in pass_world(database_url):
        people = made.fake.site.people
        people.add_group("hr", [made.account(1), made.account(2)])
        people.add_group("finance", [made.account(3)])
        yield made


def test_a_first_pass_gives_every_document_an_acl_and_unrestricted_pages_are_visible_to_space_readers(
    world: PassWorld,
) -> None:
    (report,) = world.run()
    assert report.outcome == PassOutcome.COMPLETE
    acls = world.acls()
    assert acls and all(acl is not None for acl in acls.values())
    assert report.documents == len(acls)
    page = world.page_ids()[3]
    assert all(world.sees(i, page) for i in range(5))  # the default space permission: confluence-users
    row = world.pass_row()
    assert row.last_complete_at is not None and row.last_points == report.points > 0
    assert row.next_due_at is not None and row.next_due_at >= world.now + timedelta(minutes=60)


def test_a_restriction_on_a_grandparent_hides_the_grandchild_from_outsiders(world: PassWorld) -> None:
    ids = world.page_ids()
    grandparent, parent, grandchild = ids[1], ids[6], ids[31]
    site = world.fake.site
    assert site.content[grandchild].parent_id == parent and site.content[parent].parent_id == grandparent
    site.restrict_page(grandparent, users=[world.account(0)], groups=["hr"])
    world.run()
    for page in (grandparent, parent, grandchild):
        assert world.sees(1, page) and world.sees(2, page)  # in hr
        assert not world.sees(3, page) and not world.sees(4, page)  # not in hr
    assert world.sees(3, ids[2])  # a sibling subtree is untouched


def test_a_page_restricted_to_one_person_is_visible_to_that_person_only(world: PassWorld) -> None:
    page = world.page_ids()[12]
    world.fake.site.restrict_page(page, users=[world.account(0), world.account(4)])
    world.run()
    assert world.sees(4, page) and world.sees(0, page)
    assert not any(world.sees(i, page) for i in (1, 2, 3, 5))


def test_a_group_restriction_admits_its_members(world: PassWorld) -> None:
    page = world.page_ids()[20]
    world.fake.site.restrict_page(page, users=[world.account(0)], groups=["finance"])
    world.run()
    assert world.sees(3, page)
    assert not world.sees(1, page) and not world.sees(5, page)


def test_nested_restrictions_are_an_intersection(world: PassWorld) -> None:
    ids = world.page_ids()
    world.fake.site.restrict_page(ids[1], users=[world.account(0)], groups=["hr"])
    world.fake.site.restrict_page(ids[6], users=[world.account(0), world.account(3)], groups=["hr"])
    world.fake.site.people.add_member("hr", world.account(3))
    world.fake.site.restrict_page(ids[31], users=[world.account(0), world.account(2)])
    world.run()
    assert world.sees(2, ids[31]) and not world.sees(1, ids[31]) and not world.sees(3, ids[31])
    assert world.sees(1, ids[6]) and world.sees(3, ids[6])


def test_space_permission_by_group_and_by_user(world: PassWorld) -> None:
    space = world.space_id(1)
    world.fake.site.permissions.set_readers(space, [world.account(0), "finance", world.account(5)])
    world.run()
    page = world.fake.site.ids("page", space)[4]
    assert world.sees(3, page) and world.sees(5, page) and world.sees(0, page)
    assert not world.sees(1, page) and not world.sees(2, page)
    other = world.page_ids(0)[4]
    assert world.sees(1, other)  # the other space still reads as before


def test_anonymous_and_authenticated_access_classes(world: PassWorld) -> None:
    first, second = world.space_id(0), world.space_id(1)
    world.fake.site.permissions.set_readers(first, [world.account(0), "anonymous-users"])
    world.fake.site.permissions.set_readers(second, [world.account(0), "authenticated-users"])
    world.run()
    public = world.fake.site.ids("page", first)[3]
    members = world.fake.site.ids("page", second)[3]
    acls = world.acls()
    assert ANONYMOUS in next(iter(acls[str(public)].clauses))  # type: ignore[union-attr]
    assert world.sees(4, public, classes=(ANONYMOUS,)) and not world.sees(4, public)
    assert world.sees(4, members, classes=(AUTHENTICATED,)) and not world.sees(4, members, classes=(ANONYMOUS,))
    assert world.sees(0, members)  # named as a user too


def test_a_restriction_added_later_shows_up_after_the_next_pass(world: PassWorld) -> None:
    page = world.page_ids()[9]
    world.run()
    assert world.sees(5, page)
    world.fake.site.restrict_page(page, users=[world.account(0)], groups=["hr"])
    world.advance(timedelta(minutes=30))
    assert world.run() == []  # not due yet: at least the freshness bound apart
    assert world.sees(5, page)
    world.advance(timedelta(minutes=31))
    (report,) = world.run()
    assert report.outcome == PassOutcome.COMPLETE
    assert not world.sees(5, page) and world.sees(1, page)


def test_a_page_the_connection_no_longer_sees_becomes_hidden_and_unused_acls_are_pruned(world: PassWorld) -> None:
    page = world.page_ids()[14]
    world.fake.site.restrict_page(page, users=[world.account(0), world.account(2)])
    world.run()
    assert world.sees(2, page)
    before = world.acl_count()
    world.fake.site.restrict_page(page, users=[world.account(2)])  # the connecting account is left out
    world.make_due()
    world.run()
    assert world.acls()[str(page)] is None  # unknown: hidden from everyone in per-person mode
    assert world.acl_count() == before - 1  # the person's ACL went with its only document


def test_documents_a_sync_adds_are_checked_promptly_without_a_full_pass(world: PassWorld) -> None:
    world.run()
    full_due = world.pass_row().next_due_at
    parent = world.page_ids()[2]
    world.fake.site.restrict_page(parent, users=[world.account(0)], groups=["finance"])
    added = world.fake.site.add_page(world.space_id(0), title="Fresh page", parent_id=parent)
    world.sync_now()
    assert world.acls()[str(added.id)] is None  # hidden until checked
    world.advance(timedelta(minutes=3))
    (report,) = world.run()
    assert report.outcome == PassOutcome.NEW_DOCUMENTS and report.documents == 3  # with its 2 ancestors
    assert report.requests == 3  # the space's permissions, the new page, its ancestors
    assert world.sees(3, added.id) and not world.sees(1, added.id)  # inherited from its parent
    assert not world.sees(1, parent)  # read as the new page's ancestor, so fresh too
    assert world.pass_row().next_due_at == full_due == report.next_due_at
    world.advance(timedelta(minutes=3))
    assert world.run() == []  # nothing new: nothing due


def test_only_one_worker_runs_a_datastores_pass(world: PassWorld) -> None:
    first, second = world.runner("one"), world.runner("two")
    from storage.permission_passes import claim_pass, ensure_pass_rows

    with world.sync.services.sessions.begin() as session:
        ensure_pass_rows(session, now=world.now)
        assert claim_pass(session, datastore_id=world.datastore_id, owner="one", now=world.now, lease=first.lease)
    assert second.run_due() == []
    (report,) = [first.run_claimed(world.datastore_id)]
    assert report.outcome == PassOutcome.COMPLETE
    assert UNKNOWN not in {key for acl in world.acls().values() if acl for c in acl.clauses for key in c}


def test_a_new_document_confluence_does_not_return_is_asked_for_a_while_then_waits_hidden(world: PassWorld) -> None:
    world.run()
    added = world.fake.site.add_page(world.space_id(0), title="Archived at once", parent_id=world.page_ids()[2])
    world.fake.site.archive_page(added.id)  # synced (v2 lists archived pages) but not in the search listing
    world.sync_now()
    assert str(added.id) in world.acls()
    world.advance(timedelta(minutes=3))
    (first,) = world.run()
    assert first.outcome == PassOutcome.NEW_DOCUMENTS and first.documents == 0
    world.advance(timedelta(minutes=3))
    assert len(world.run()) == 1  # still unchecked: asked for again
    world.advance(timedelta(minutes=10))
    world.run()  # past the grace: checked, unknown, hidden until the next full pass
    world.advance(timedelta(minutes=3))
    assert world.run() == []
    assert world.acls()[str(added.id)] is None
