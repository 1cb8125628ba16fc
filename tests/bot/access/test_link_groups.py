"""Linked people's groups, read with the connection's token on the permission lane, at most hourly; a group removed
in Confluence drops out, a deactivated account loses its link; the account key is always held."""

from __future__ import annotations

import pytest

from bot.access.link_groups import LINKED_CLASSES, LinkGroups
from bot.access.links import person_directory
from bot.access.model import group_key, user_key
from bot.confluence.budget import PermissionLane, RequestBudget
from bot.services import Services
from demo.fakes.atlassian import AccountStatus, FakeAtlassian
from tests.bot.access.links_world import TEAM, connected_datastore, link_person, person_links
from tests.bot.atlassian.connections import fake_clock, manager

HOUR = 3600.0


def _groups(
    services: Services, fake: FakeAtlassian, points_per_hour: int = 65_000
) -> tuple[LinkGroups, PermissionLane]:
    start = fake_clock(fake)()
    stopped = lambda: start  # noqa: E731 - the lane must not refill while a loaded machine runs the test
    lane = PermissionLane(RequestBudget(points_per_hour, clock=stopped), points_per_hour, clock=stopped)
    return LinkGroups(services, manager(services, fake), lane, clock=fake_clock(fake)), lane


def test_groups_are_read_hourly_and_a_removed_group_drops_out(services: Services, fake: FakeAtlassian) -> None:
    connected_datastore(services, fake)
    grace = fake.site.users[1].account_id
    hr = fake.site.people.add_group("hr", [grace])
    everyone = fake.site.people.all_users_group
    link_person(services, fake, "U2", grace)
    links = person_links(services, fake)
    before = links.linked(team_id=TEAM, slack_user_id="U2", cloud_id=fake.cloud_id)
    assert before is not None and before.principals == {user_key(grace)} and before.principals_at is None

    groups, lane = _groups(services, fake)
    left = lane.available
    assert groups.run().refreshed == 1
    person = links.linked(team_id=TEAM, slack_user_id="U2", cloud_id=fake.cloud_id)
    assert person is not None and person.principals_at is not None
    assert person.principals == {user_key(grace), group_key(hr.id), group_key(everyone.id), *LINKED_CLASSES}
    assert person_directory(services).linked(team_id=TEAM, slack_user_id="U2", cloud_id=fake.cloud_id) == person
    # users-bulk (1 + 2 for one user) and memberof (1 + 2 for each of two groups), drawn from the lane
    assert fake.log.points("POST /wiki/api/v2/users-bulk") == 3
    assert fake.log.points("GET /wiki/rest/api/user/memberof") == 5
    assert left - lane.available == pytest.approx(8, abs=0.5)
    requests = len(fake.log.snapshot())

    assert groups.run().refreshed == 0  # read less than an hour ago: nothing asked
    assert len(fake.log.snapshot()) == requests

    fake.site.remove_group("hr")
    fake.advance(HOUR + 1)
    assert groups.run().refreshed == 1
    after = links.linked(team_id=TEAM, slack_user_id="U2", cloud_id=fake.cloud_id)
    assert after is not None and group_key(hr.id) not in after.principals
    assert user_key(grace) in after.principals and group_key(everyone.id) in after.principals


def test_many_groups_are_read_page_by_page(services: Services, fake: FakeAtlassian) -> None:
    connected_datastore(services, fake)
    grace = fake.site.users[1].account_id
    made = [fake.site.people.add_group(f"team-{n:03d}", [grace]) for n in range(230)]
    link_person(services, fake, "U2", grace)
    groups, _lane = _groups(services, fake)
    assert groups.run().refreshed == 1
    person = person_links(services, fake).linked(team_id=TEAM, slack_user_id="U2", cloud_id=fake.cloud_id)
    assert person is not None and {group_key(g.id) for g in made} <= person.principals
    assert len(fake.log.filter("GET /wiki/rest/api/user/memberof")) == 2  # 200 a page


@pytest.mark.parametrize("status", [AccountStatus.INACTIVE, AccountStatus.CLOSED])
def test_an_account_deactivated_in_confluence_loses_its_link(
    services: Services, fake: FakeAtlassian, status: AccountStatus
) -> None:
    connected_datastore(services, fake)
    grace, ada = fake.site.users[1].account_id, fake.site.users[2].account_id
    link_person(services, fake, "U2", grace)
    link_person(services, fake, "U3", ada)
    fake.site.people.set_status(grace, status)
    groups, _lane = _groups(services, fake)
    done = groups.run()
    assert (done.removed, done.refreshed) == (1, 1)
    links = person_links(services, fake)
    assert links.linked(team_id=TEAM, slack_user_id="U2", cloud_id=fake.cloud_id) is None
    assert links.linked(team_id=TEAM, slack_user_id="U3", cloud_id=fake.cloud_id) is not None


def test_a_spent_permission_lane_ends_the_pass_and_nothing_changes(services: Services, fake: FakeAtlassian) -> None:
    connected_datastore(services, fake)
    grace = fake.site.users[1].account_id
    link_person(services, fake, "U2", grace)
    groups, lane = _groups(services, fake, points_per_hour=10)  # a lane of 2 points: users-bulk alone costs 3
    lane.take(2)
    done = groups.run()
    assert done.rate_limited and done.refreshed == 0
    person = person_links(services, fake).linked(team_id=TEAM, slack_user_id="U2", cloud_id=fake.cloud_id)
    assert person is not None and person.principals_at is None and person.principals == {user_key(grace)}


def test_confluence_failing_keeps_the_principals(services: Services, fake: FakeAtlassian) -> None:
    connected_datastore(services, fake)
    grace = fake.site.users[1].account_id
    link_person(services, fake, "U2", grace)
    fake.inject("GET /wiki/rest/api/user/memberof", "500", times=None)
    lane = PermissionLane(RequestBudget(65_000), 65_000)
    groups = LinkGroups(services, manager(services, fake), lane, clock=fake_clock(fake), sleep=lambda _s: None)
    done = groups.run()
    assert done.failed_sites == 1 and done.refreshed == 0
    person = person_links(services, fake).linked(team_id=TEAM, slack_user_id="U2", cloud_id=fake.cloud_id)
    assert person is not None and person.principals == {user_key(grace)}


def test_groups_are_read_again_before_they_pass_the_freshness_bound() -> None:
    from datetime import timedelta

    from bot.access.link_groups import PRINCIPALS_MAX_AGE, principals_max_age

    look = timedelta(minutes=5)
    assert principals_max_age(timedelta(minutes=60), look) == timedelta(minutes=50)  # read by minute 55 at latest
    assert principals_max_age(timedelta(minutes=30), look) == timedelta(minutes=20)
    assert principals_max_age(timedelta(minutes=5), look) == timedelta(minutes=1)
    assert principals_max_age(timedelta(hours=5), look) == PRINCIPALS_MAX_AGE
