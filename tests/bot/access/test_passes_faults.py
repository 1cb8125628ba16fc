"""Permission passes when Confluence or the budget does not cooperate: unreadable bits hide, an incomplete pass
stores what it finished, prunes nothing and resumes; the lane bounds what passes spend and space them out."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import update

from bot.access.model import UNKNOWN, AccessMode, Acl
from demo.fakes.atlassian import SiteSpec
from demo.fakes.atlassian.perm_corpus import populate_people, restrict_corpus
from storage.models import Connection, Datastore
from storage.permission_passes import PassOutcome, PermissionPass
from tests.bot.access.pass_world import PassWorld, pass_world
from tests.bot.sync.conftest import TEAM
from tests.harness import add_connected_datastore

SEARCH = "GET /wiki/rest/api/content/search"
SPACE_PERMISSIONS = "GET /wiki/api/v2/spaces/{id}/permissions"
HIDDEN = Acl.of([[UNKNOWN]])


@pytest.fixture
def world(database_url: str) -> Iterator[PassWorld]:
    for made in pass_world(database_url):
        made.fake.site.people.add_group("hr", [made.account(1), made.account(2)])
        yield made


def test_unreadable_space_permissions_hide_the_whole_space(world: PassWorld) -> None:
    world.fake.inject(SPACE_PERMISSIONS, "404", times=1)  # the first space's
    (report,) = world.run()
    assert report.outcome == PassOutcome.COMPLETE
    first, second = (set(map(str, world.fake.site.ids("page", world.space_id(i)))) for i in (0, 1))
    acls = world.acls()
    assert all(acls[i] == HIDDEN for i in first)
    assert not any(world.sees(n, int(i)) for i in first for n in (0, 1, 4))
    assert all(acls[i] != HIDDEN and world.sees(4, int(i)) for i in second)


def test_an_ancestor_whose_restriction_cannot_be_read_hides_its_descendants(world: PassWorld) -> None:
    ids = world.page_ids()
    world.fake.site.archive_page(ids[1])  # not in the search listing; its restriction read on its own …
    world.fake.inject("GET /wiki/rest/api/content/{id}/restriction/byOperation/*", "403", times=None)
    world.run()
    acls = world.acls()
    for child in (ids[6], ids[31]):  # … is refused: everything below it is hidden
        assert acls[str(child)] is not None and not world.sees(0, child) and not world.sees(4, child)
        assert any(clause == frozenset({UNKNOWN}) for clause in acls[str(child)].clauses)  # type: ignore[union-attr]
    assert world.sees(4, ids[2])


def test_an_incomplete_pass_stores_what_it_finished_prunes_nothing_and_resumes(world: PassWorld) -> None:
    page = world.fake.site.ids("page", world.space_id(1))[7]
    world.fake.site.restrict_page(page, users=[world.account(0), world.account(3)])
    (first,) = world.run()
    personal = world.acls()[str(page)]
    acls_before = world.acl_count()
    world.fake.site.restrict_page(page, users=[world.account(0), world.account(4)])
    home = world.page_ids(0)[5]
    world.fake.site.restrict_page(home, users=[world.account(0)], groups=["hr"])
    world.fake.inject(SEARCH, "429", times=1, skip=1, retry_after=900)  # the second space's listing
    world.make_due()
    (second,) = world.run()
    assert second.outcome == PassOutcome.INCOMPLETE
    next_due_at = world.pass_row().next_due_at
    assert next_due_at is not None and next_due_at > world.now
    assert not world.sees(4, home) and world.sees(1, home)  # the first space was finished and stored
    assert world.acls()[str(page)] == personal and world.sees(3, page)  # the second keeps its ACL
    assert world.acl_count() == acls_before + 1  # nothing pruned
    assert world.run() == []  # paused until the rate limit ends
    world.advance(timedelta(minutes=16))
    (third,) = world.run()
    assert third.outcome == PassOutcome.COMPLETE
    assert third.requests == 2  # only the space it had not done: its permissions and one listing page
    assert world.sees(4, page) and not world.sees(3, page)
    assert world.acl_count() == acls_before + 1  # the old personal ACL is pruned now (hr's and the new one came)
    assert personal not in set(world.acls().values())
    assert world.pass_row().last_points == second.points + third.points
    assert first.requests == 4


def test_passes_wait_for_the_lane_to_refill_so_together_they_take_no_more_than_the_lane(database_url: str) -> None:
    for world in pass_world(database_url, lane_points=2_000):  # a lane of 400 points an hour
        started, reports, before = world.now, [], world.fake.log.points()
        for _ in range(5):  # each ~108 points: the fifth no longer fits in what is left of the hour
            world.make_due()
            reports += world.run()
        assert [r.outcome for r in reports] == [PassOutcome.COMPLETE] * 5
        assert world.slept  # the last ones waited for the lane rather than overdraw it
        hours = (world.now - started).total_seconds() / 3600
        spent = sum(r.points for r in reports)
        # at most the lane's hour, what it refilled while they waited, and one answer's overdraft
        assert spent <= 400 + 400 * hours + 60
        assert spent == world.fake.log.points() - before


def test_a_lane_that_would_take_too_long_to_refill_ends_the_attempt_incomplete(database_url: str) -> None:
    for world in pass_world(database_url, lane_points=25):  # a lane of 5 points an hour
        requests = len(world.fake.log)
        (report,) = world.run()
        assert report.outcome == PassOutcome.INCOMPLETE and report.requests == 1
        assert len(world.fake.log) == requests + 1 and world.slept == []
        row = world.pass_row()
        assert row.next_due_at is not None and row.next_due_at > world.now + timedelta(minutes=60)
        assert world.run() == []


def test_a_datastore_whose_connection_must_be_reconnected_is_not_read(world: PassWorld) -> None:
    with world.sync.services.sessions.begin() as session:
        session.execute(update(Connection).values(status="needs_reconnect"))
    requests = len(world.fake.log)
    (report,) = world.run()
    assert report.outcome == PassOutcome.FAILED and len(world.fake.log) == requests
    assert all(acl is None for acl in world.acls().values())
    assert world.run() == []  # tried again after the freshness bound, not every tick


def test_passes_run_only_for_per_person_datastores(world: PassWorld) -> None:
    with world.sync.services.sessions.begin() as session:
        session.execute(update(Datastore).values(access_mode=AccessMode.EVERYONE.value))
    assert world.run() == []


def test_the_cadence_spreads_every_datastores_last_pass_over_the_lane(world: PassWorld) -> None:
    services = world.sync.services
    other = add_connected_datastore(
        services, cloud_id=world.fake.cloud_id, token=world.fake.issue_token(), team_id=TEAM, credits=1, name="other"
    )
    with services.sessions.begin() as session:
        session.add(PermissionPass(datastore_id=other, last_points=1_200, next_due_at=world.now + timedelta(days=1)))
        session.execute(update(Datastore).where(Datastore.id == other).values(access_mode=AccessMode.EACH.value))
    world.lane = type(world.lane)(world.lane.budget, 3_000, clock=world.clock)  # a lane of 600 points an hour
    (report,) = world.run()
    hours = (1_200 + report.points) / 600
    assert report.next_due_at == world.now + timedelta(hours=hours)
    assert hours > 1


def test_points_per_page_of_a_pass_on_a_corpus_with_30_percent_restricted(database_url: str) -> None:
    spec = SiteSpec(spaces=2, pages_per_space=260, blogposts_per_space=5, body_bytes=200, users=12)
    for world in pass_world(database_url, spec):
        site = world.fake.site
        populate_people(site)
        plan = restrict_corpus(site, 30, indexer=world.account(0))
        assert 25 <= plan.percent <= 35
        start = world.fake.clock.now()
        requests = len(world.fake.log)
        (report,) = world.run()
        documents = len(world.acls())
        assert report.outcome == PassOutcome.COMPLETE and report.documents == documents
        assert report.points == world.fake.log.points(since=start)  # the lane is charged what Atlassian counts
        assert report.requests == len(world.fake.log) - requests == 2 * (1 + math.ceil(265 / 200))
        assert 1.0 < report.points / documents < 3.0
        for page, group in list(plan.direct.items())[:5]:
            member = next(a for a in site.people.groups[group].members if a != world.account(0))
            index = next(i for i, u in enumerate(site.users) if u.account_id == member)
            assert world.sees(index, page)
        for page, ancestor in list(plan.inherited.items())[:5]:
            assert world.acls()[str(page)] != world.acls()[str(site.ids("page", site.content[page].space_id)[0])]
            assert world.acls()[str(ancestor)] is not None


def test_a_stopped_runner_ends_its_pass_incomplete_at_the_next_request(world: PassWorld) -> None:
    runner = world.runner()
    world.fake.site.restrict_page(world.page_ids(1)[3], users=[world.account(0)], groups=["hr"])
    runner.stop()
    (report,) = [runner.run_claimed(world.datastore_id)] if _claim(world, runner.owner) else []
    assert report.outcome == PassOutcome.INCOMPLETE and report.requests == 0
    row = world.pass_row()
    assert row.lease_owner is None and row.next_due_at is not None  # released: any process resumes it
    assert world.run() == []  # not before a minute has passed
    world.advance(timedelta(minutes=1))
    (resumed,) = world.run()
    assert resumed.outcome == PassOutcome.COMPLETE


def _claim(world: PassWorld, owner: str) -> bool:
    from storage.permission_passes import claim_pass, ensure_pass_rows

    with world.sync.services.sessions.begin() as session:
        ensure_pass_rows(session, now=world.now)
        return claim_pass(
            session, datastore_id=world.datastore_id, owner=owner, now=world.now, lease=timedelta(minutes=5)
        )
