"""Atlassian points per request (1 + 1 per core object + 2 per user/group/permission) and the hourly quota."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from demo.fakes.atlassian import PERMISSION_SCOPES, FakeAtlassian, FakeClock, SiteSpec
from demo.fakes.atlassian.clock import DEFAULT_START


@pytest.fixture
def metered() -> Iterator[tuple[FakeAtlassian, httpx.Client, str]]:
    spec = SiteSpec(spaces=2, pages_per_space=30, blogposts_per_space=2, body_bytes=500)
    with FakeAtlassian(spec, clock=FakeClock(frozen=True), access_ttl=7200) as fake:
        token = str(fake.issue_token(PERMISSION_SCOPES)["access_token"])
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=fake.wiki_url(), headers=headers, timeout=10) as api:
            yield fake, api, token


def cost(fake: FakeAtlassian) -> int:
    return fake.log.records[-1].points


def test_each_answer_costs_what_the_reference_says(metered: tuple[FakeAtlassian, httpx.Client, str]) -> None:
    fake, api, token = metered
    site = fake.site
    space = site.space_by_key("ENG")
    assert space is not None
    ids = site.ids("page", space.id)
    site.people.add_group("hr", [site.users[1].account_id])
    site.restrict_page(ids[4], users=[site.users[0].account_id, site.users[2].account_id], groups=["hr"])
    expected = {
        f"/api/v2/pages/{ids[1]}": 2,  # 1 + one page
        "/api/v2/pages?limit=5": 6,  # 1 + five pages
        f"/api/v2/spaces/{space.id}": 2,
        "/api/v2/spaces": 3,  # two spaces
        f"/api/v2/spaces/{space.id}/permissions?limit=250": 1 + 2 * len(site.permissions.grants(space.id)),
        f"/rest/api/content/{ids[4]}/restriction/byOperation/read": 7,  # two users and a group
        f"/rest/api/content/{ids[1]}": 2,  # the reference's example: GET content/123 costs 2
        f"/rest/api/user?accountId={site.users[1].account_id}": 3,  # and a user lookup costs 3
        "/rest/api/content/search?cql=type=page&limit=3": 4,
        f"/rest/api/user/memberof?accountId={site.users[1].account_id}": 5,  # confluence-users and hr
        "/api/v2/pages/1": 1,  # not found: the request only
    }
    for url, points in expected.items():
        api.get(url)
        assert cost(fake) == points, url
    api.post("/api/v2/users-bulk", json={"accountIds": [u.account_id for u in site.users[:3]]})
    assert cost(fake) == 7
    httpx.get(f"{fake.api_url}/me", headers={"Authorization": f"Bearer {token}"})
    httpx.get(f"{fake.api_url}/oauth/token/accessible-resources", headers={"Authorization": f"Bearer {token}"})
    assert [r.points for r in fake.log.records[-2:]] == [0, 0]  # identity answers are not Confluence REST
    total = sum(expected.values()) + 7
    assert fake.log.points(principal=token) == total == fake.points.used(fake.clock.now())
    assert fake.log.points("GET /wiki/rest/api/*") == 7 + 2 + 3 + 4 + 5


def test_embedded_users_and_faults_cost_nothing_extra(metered: tuple[FakeAtlassian, httpx.Client, str]) -> None:
    fake, api, _ = metered
    page = fake.site.ids("page")[0]
    api.get(f"/rest/api/content/{page}", params={"expand": "version,history"})  # version.by is not a lookup
    assert cost(fake) == 2
    fake.inject("GET /wiki/api/v2/pages/{id}", "429")
    assert api.get(f"/api/v2/pages/{page}").status_code == 429
    assert cost(fake) == 0
    assert httpx.get(f"{fake.wiki_url()}/api/v2/pages/{page}").status_code == 401
    assert cost(fake) == 0  # unauthenticated: not the app's request


def test_the_hourly_quota_refuses_until_the_top_of_the_hour(metered: tuple[FakeAtlassian, httpx.Client, str]) -> None:
    fake, api, _ = metered
    fake.set_points_quota(10)
    page = fake.site.ids("page")[0]
    answers = [api.get(f"/api/v2/pages/{page}") for _ in range(6)]  # 2 points each
    assert [a.status_code for a in answers] == [200] * 5 + [429]
    assert [a.headers["X-RateLimit-Remaining"] for a in answers[:5]] == ["8", "6", "4", "2", "0"]
    assert [a.headers["X-RateLimit-NearLimit"] for a in answers[2:5]] == ["false", "false", "true"] and answers[
        0
    ].headers["X-RateLimit-Limit"] == "10"
    refused = answers[-1]
    seconds_left = 3600 - int(DEFAULT_START % 3600)
    assert refused.headers["Retry-After"] == str(seconds_left)
    assert refused.headers["RateLimit-Reason"] == "confluence-quota-global-based"
    assert refused.headers["X-RateLimit-Reset"] == "2026-11-02T10:00:00Z"
    assert api.get("/rest/api/space").status_code == 429  # the whole app, every endpoint
    fake.advance(seconds_left)
    assert api.get(f"/api/v2/pages/{page}").status_code == 200
    assert fake.points.used(fake.clock.now()) == 2
    fake.set_points_quota(None)
    assert "X-RateLimit-Limit" not in api.get(f"/api/v2/pages/{page}").headers
