"""People: their own tokens, who a token belongs to, hidden e-mails, groups and paged member lists."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from demo.fakes.atlassian import (
    PERMISSION_SCOPES,
    AccountStatus,
    EmailVisibility,
    FakeAtlassian,
    SiteConfig,
    SiteSpec,
)


@pytest.fixture
def world() -> Iterator[FakeAtlassian]:
    with FakeAtlassian(SiteSpec(spaces=1, pages_per_space=20, blogposts_per_space=0, body_bytes=500)) as fake:
        yield fake


def bearer(token: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {token['access_token']}"}


def client(fake: FakeAtlassian, account_id: str) -> httpx.Client:
    token = fake.issue_token(PERMISSION_SCOPES, account_id=account_id)
    return httpx.Client(base_url=fake.wiki_url(), headers=bearer(token), timeout=10)


def test_each_person_completes_the_oauth_flow_and_gets_their_own_tokens(world: FakeAtlassian) -> None:
    grace, asa = world.site.users[1], world.site.users[2]
    scopes = [*PERMISSION_SCOPES]
    first, second = world.complete_oauth(grace.account_id, scopes=scopes), world.complete_oauth(asa.account_id)
    assert first["access_token"] != second["access_token"] and first["refresh_token"] != second["refresh_token"]
    me = httpx.get(f"{world.api_url}/me", headers=bearer(first)).json()
    assert (me["account_id"], me["email"]) == (grace.account_id, grace.email)
    current = httpx.get(f"{world.wiki_url()}/rest/api/user/current", headers=bearer(first)).json()
    assert (current["accountId"], current["displayName"]) == (grace.account_id, grace.display_name)
    # refreshing keeps the identity
    form = {
        "grant_type": "refresh_token",
        "client_id": world.app.client_id,
        "client_secret": world.app.client_secret,
        "refresh_token": first["refresh_token"],
    }
    renewed = httpx.post(f"{world.auth_url}/oauth/token", data=form).json()
    assert httpx.get(f"{world.api_url}/me", headers=bearer(renewed)).json()["account_id"] == grace.account_id
    # without a browser session the consent still belongs to the connecting user, as before
    assert world.oauth.check_access(world.issue_token()["access_token"]).account_id == world.site.users[0].account_id  # type: ignore[union-attr]


def test_a_person_declining_consent_gets_no_code(world: FakeAtlassian) -> None:
    grace = world.site.users[1].account_id
    world.set_user_consent(grace, approve=False)
    with pytest.raises(RuntimeError, match="consent did not produce a code"):
        world.complete_oauth(grace)
    assert world.complete_oauth(world.site.users[2].account_id)["access_token"]


def test_a_person_of_another_site_is_told_apart() -> None:
    other_spec = SiteSpec(spaces=1, pages_per_space=3, blogposts_per_space=0, users=2, seed=99)
    sites = [
        SiteConfig("acme", SiteSpec(spaces=1, pages_per_space=3, blogposts_per_space=0)),
        SiteConfig("globex", other_spec),
    ]
    with FakeAtlassian(sites=sites) as fake:
        acme, globex = list(fake.sites.values())
        stranger = globex.site.users[1]
        token = fake.complete_oauth(stranger.account_id, scopes=[*PERMISSION_SCOPES])
        resources = httpx.get(f"{fake.api_url}/oauth/token/accessible-resources", headers=bearer(token)).json()
        assert [r["id"] for r in resources] == [globex.cloud_id] and resources[0]["url"] == globex.url
        assert httpx.get(f"{fake.wiki_url(acme.cloud_id)}/api/v2/spaces", headers=bearer(token)).status_code == 401
        mine = httpx.get(f"{fake.wiki_url(globex.cloud_id)}/rest/api/user/current", headers=bearer(token)).json()
        assert mine["accountId"] == stranger.account_id
        # the connecting user of acme may pick both sites only if they are on both
        assert fake.sites_of(acme.site.users[0].account_id) == (acme.cloud_id,)


def test_a_deactivated_persons_token_stops_working(world: FakeAtlassian) -> None:
    grace = world.site.users[1].account_id
    with client(world, grace) as api:
        assert api.get("/api/v2/spaces").status_code == 200
        world.site.people.set_status(grace, AccountStatus.INACTIVE)
        assert api.get("/api/v2/spaces").status_code == 401
        assert api.get("/rest/api/user/current").status_code == 401
    with client(world, world.site.users[0].account_id) as admin:
        assert admin.get("/rest/api/user", params={"accountId": grace}).json()["displayName"] == "Grace Hopper"
        bulk = admin.post("/api/v2/users-bulk", json={"accountIds": [grace]}).json()["results"]
        assert bulk[0]["accountStatus"] == "inactive"


def test_hidden_emails_are_hidden_from_others_as_atlassian_does(world: FakeAtlassian) -> None:
    users = world.site.users
    world.site.people.hide_email(users[1].account_id, EmailVisibility.ABSENT)
    world.site.people.hide_email(users[2].account_id, EmailVisibility.NULL)
    world.site.people.hide_email(users[3].account_id, EmailVisibility.EMPTY)
    world.site.people.set_status(users[4].account_id, AccountStatus.CLOSED)
    with client(world, users[0].account_id) as api:
        v1 = [api.get("/rest/api/user", params={"accountId": u.account_id}).json() for u in users[:5]]
        bulk = api.get("/rest/api/user/bulk", params={"accountId": ",".join(u.account_id for u in users)}).json()
        v2 = api.post("/api/v2/users-bulk", json={"accountIds": [u.account_id for u in users]}).json()["results"]
        assert api.get("/rest/api/user", params={"accountId": "nobody"}).status_code == 404
        assert api.get("/rest/api/user").status_code == 400
        assert api.post("/api/v2/users-bulk", json={"accountIds": []}).status_code == 400
    assert v1[0]["email"] == users[0].email
    assert "email" not in v1[1] and v1[2]["email"] is None and v1[3]["email"] == ""
    assert (v1[4]["displayName"], "email" in v1[4]) == ("Former user", False)
    assert [u["accountId"] for u in bulk["results"]] == [u.account_id for u in users] and bulk["size"] == 6
    assert [u["email"] for u in v2[:5]] == [users[0].email, "", "", "", ""]
    assert v2[4]["accountStatus"] == "closed" and v2[5]["email"] == users[5].email
    with client(world, users[1].account_id) as own:  # nobody's address is hidden from themselves
        assert own.get("/rest/api/user/current").json()["email"] == users[1].email
        assert (
            own.post("/api/v2/users-bulk", json={"accountIds": [users[1].account_id]}).json()["results"][0]["email"]
            == users[1].email
        )


def _pages(api: httpx.Client, url: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Follow v1 ``_links.next`` (relative to /wiki) to the end."""
    body = api.get(url, params=params).json()
    found = list(body["results"])
    while "next" in body["_links"]:
        body = api.get(body["_links"]["next"]).json()
        found += body["results"]
    return found


def test_group_membership_pages_through_every_member(world: FakeAtlassian) -> None:
    people = world.site.people
    extra = [people.add_user(f"Member {i:03d}") for i in range(250)]
    big = people.add_group("all-hands", extra)
    small = people.add_group("hr", [world.site.users[1].account_id])
    with client(world, world.site.users[0].account_id) as api:
        first = api.get("/rest/api/group/member", params={"groupId": big.id, "shouldReturnTotalSize": "true"}).json()
        assert (first["size"], first["limit"], first["totalSize"]) == (200, 200, 250) and "next" in first["_links"]
        members = _pages(api, "/rest/api/group/member", {"groupId": big.id, "limit": 60})
        assert sorted(m["accountId"] for m in members) == sorted(u.account_id for u in extra)
        legacy = _pages(api, f"/rest/api/group/{small.id}/membersByGroupId", {})
        assert [m["accountId"] for m in legacy] == [world.site.users[1].account_id]
        groups = _pages(api, "/rest/api/group", {"limit": 2})
        assert [g["name"] for g in groups] == ["all-hands", "confluence-users", "hr"]
        assert api.get("/rest/api/group/by-id", params={"id": small.id}).json()["name"] == "hr"
        member_of = api.get("/rest/api/user/memberof", params={"accountId": world.site.users[1].account_id}).json()
        assert {g["name"] for g in member_of["results"]} == {"confluence-users", "hr"}
        assert api.get("/rest/api/group/member", params={"groupId": "nope"}).status_code == 404
        assert api.get("/rest/api/group/member").status_code == 400


def test_restriction_lists_page_users_and_groups(world: FakeAtlassian) -> None:
    people = world.site.people
    crowd = [people.add_user(f"Reader {i:03d}") for i in range(150)]
    groups = [people.add_group(f"team-{i:03d}") for i in range(120)]
    page = world.site.ids("page")[3]
    world.site.restrict_page(
        page, users=[world.site.users[0].account_id, *(u.account_id for u in crowd)], groups=[g.id for g in groups]
    )
    with client(world, world.site.users[0].account_id) as api:
        url = f"/rest/api/content/{page}/restriction/byOperation/read"
        first = api.get(url).json()["restrictions"]
        assert (first["user"]["size"], first["group"]["size"], first["user"]["limit"]) == (100, 100, 100)
        second = api.get(url, params={"start": 100}).json()["restrictions"]
        assert (second["user"]["size"], second["group"]["size"], second["user"]["start"]) == (51, 20, 100)
        users = first["user"]["results"] + second["user"]["results"]
        assert len({u["accountId"] for u in users}) == 151
        small = api.get(url, params={"limit": 40, "start": 120}).json()["restrictions"]
        assert (small["user"]["size"], small["group"]["size"]) == (31, 0)
        both = api.get(f"/rest/api/content/{page}/restriction/byOperation").json()
        assert (
            both["update"]["restrictions"]["user"]["size"] == 0 and both["read"]["restrictions"]["group"]["size"] == 100
        )
        assert api.get(f"/rest/api/content/{page}/restriction/byOperation/delete").status_code == 400
    group = first["group"]["results"][0]
    assert set(group) == {"type", "name", "id", "_links"} and group["type"] == "group"
