"""Who sees what: space permissions, read restrictions by user and group, inheritance, per-caller answers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from demo.fakes.atlassian import PERMISSION_SCOPES, Content, FakeAtlassian, Site, SiteSpec
from demo.fakes.atlassian.perm_corpus import populate_people, restrict_corpus


@pytest.fixture
def world() -> Iterator[FakeAtlassian]:
    with FakeAtlassian(SiteSpec(spaces=2, pages_per_space=40, blogposts_per_space=2, body_bytes=800)) as fake:
        people = fake.site.people
        people.add_group("hr", [fake.site.users[1].account_id, fake.site.users[2].account_id])
        people.add_group("finance", [fake.site.users[3].account_id])
        yield fake


def as_user(fake: FakeAtlassian, index: int) -> httpx.Client:
    token = fake.issue_token(PERMISSION_SCOPES, account_id=fake.site.users[index].account_id)["access_token"]
    return httpx.Client(base_url=fake.wiki_url(), headers={"Authorization": f"Bearer {token}"}, timeout=10)


def all_pages(api: httpx.Client, url: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    next_url: str | None = url
    while next_url:
        body = api.get(next_url).json()
        found += body["results"]
        following = body["_links"].get("next")
        next_url = following.removeprefix("/wiki") if following else None
    return found


def eng(fake: FakeAtlassian) -> tuple[int, list[int]]:
    space = fake.site.space_by_key("ENG")
    assert space is not None
    return space.id, fake.site.ids("page", space.id)


def test_the_connecting_user_still_sees_everything(world: FakeAtlassian) -> None:
    with as_user(world, 0) as api:
        spaces = all_pages(api, "/api/v2/spaces?limit=250")
        pages = all_pages(api, "/api/v2/pages?limit=250")
        blogs = all_pages(api, "/api/v2/blogposts?limit=250")
    stats = world.site.stats()
    assert (len(spaces), len(pages), len(blogs)) == (stats["spaces"], stats["pages"], stats["blogposts"])


def test_a_group_restriction_hides_the_page_and_its_descendants_from_outsiders(world: FakeAtlassian) -> None:
    space_id, ids = eng(world)
    parent = ids[2]  # children: ids[11..15]
    world.site.restrict_page(parent, groups=["hr"])
    hidden = {parent, *ids[11:16]}
    with as_user(world, 1) as member, as_user(world, 3) as outsider:
        assert member.get(f"/api/v2/pages/{ids[12]}").status_code == 200
        assert outsider.get(f"/api/v2/pages/{ids[12]}").status_code == 404
        assert outsider.get(f"/api/v2/pages/{parent}").json()["errors"][0]["status"] == 404
        seen = {int(p["id"]) for p in all_pages(outsider, f"/api/v2/spaces/{space_id}/pages?limit=7")}
        assert seen == set(ids) - hidden
        asked = outsider.get("/api/v2/pages", params={"id": ",".join(map(str, ids[:20]))}).json()["results"]
        assert {int(p["id"]) for p in asked} == set(ids[:20]) - hidden
        assert len(member.get("/api/v2/pages", params={"id": ",".join(map(str, ids[:20]))}).json()["results"]) == 20
        # v1 agrees: CQL search, content by id, children
        found = outsider.get("/rest/api/content/search", params={"cql": "space=ENG and type=page", "limit": 100})
        assert {int(r["id"]) for r in found.json()["results"]} == set(ids) - hidden
        assert outsider.get(f"/rest/api/content/{ids[13]}").status_code == 404
        assert outsider.get(f"/rest/api/content/{ids[13]}/restriction/byOperation/read").status_code == 404
        assert outsider.get(f"/rest/api/content/{parent}/child/page").status_code == 404
        assert len(member.get(f"/rest/api/content/{parent}/child/page").json()["results"]) == 5


def test_inheritance_is_an_intersection(world: FakeAtlassian) -> None:
    """A child restricted to Finance's member, under a parent restricted to HR: nobody outside both sees it."""
    _, ids = eng(world)
    finance_member = world.site.users[3].account_id
    world.site.restrict_page(ids[2], groups=["hr"])
    world.site.restrict_page(ids[12], users=[finance_member, world.site.users[1].account_id])
    with as_user(world, 3) as finance, as_user(world, 1) as both, as_user(world, 2) as hr_only:
        assert finance.get(f"/api/v2/pages/{ids[12]}").status_code == 404  # named on the page, not on the parent
        assert both.get(f"/api/v2/pages/{ids[12]}").status_code == 200
        assert hr_only.get(f"/api/v2/pages/{ids[12]}").status_code == 404  # passes the parent, not the page
        assert hr_only.get(f"/api/v2/pages/{ids[13]}").status_code == 200


def test_a_page_visible_to_one_person_only(world: FakeAtlassian) -> None:
    _, ids = eng(world)
    leaf = ids[30]
    world.site.restrict_page(leaf, users=[world.site.users[4].account_id])
    verdicts = {}
    for index in range(len(world.site.users)):
        with as_user(world, index) as api:
            verdicts[index] = api.get(f"/api/v2/pages/{leaf}").status_code
    assert verdicts == {0: 404, 1: 404, 2: 404, 3: 404, 4: 200, 5: 404}


def test_restriction_changes_do_not_bump_the_version(world: FakeAtlassian) -> None:
    _, ids = eng(world)
    before = world.site.content[ids[5]].version, world.site.content[ids[5]].updated_at
    world.site.restrict_page(ids[5], groups=["finance"], users=[world.site.users[0].account_id])
    with as_user(world, 0) as api:
        page = api.get(f"/api/v2/pages/{ids[5]}").json()
    assert page["version"]["number"] == before[0]
    assert (world.site.content[ids[5]].version, world.site.content[ids[5]].updated_at) == before
    world.site.restrict_page(ids[5])  # lifted again: readable by everyone in the space
    with as_user(world, 5) as api:
        assert api.get(f"/api/v2/pages/{ids[5]}").status_code == 200


def test_space_permissions_decide_which_spaces_and_pages_exist_for_the_caller(world: FakeAtlassian) -> None:
    space_id, ids = eng(world)
    world.site.permissions.set_readers(space_id, ["finance", world.site.users[0].account_id])
    with as_user(world, 3) as finance, as_user(world, 2) as outsider:
        assert {s["key"] for s in finance.get("/api/v2/spaces").json()["results"]} == {"ENG", "PROD"}
        assert {s["key"] for s in outsider.get("/api/v2/spaces").json()["results"]} == {"PROD"}
        assert outsider.get(f"/api/v2/spaces/{space_id}").status_code == 404
        assert outsider.get(f"/api/v2/spaces/{space_id}/pages").status_code == 404
        assert outsider.get(f"/api/v2/spaces/{space_id}/permissions").status_code == 404
        assert outsider.get(f"/api/v2/pages/{ids[0]}").status_code == 404
        assert outsider.get("/rest/api/space/ENG").status_code == 404
        assert [s["key"] for s in outsider.get("/rest/api/space").json()["results"]] == ["PROD"]
        assert outsider.get("/rest/api/content", params={"spaceKey": "ENG"}).json()["results"] == []
        grants = all_pages(finance, f"/api/v2/spaces/{space_id}/permissions?limit=2")
    finance_id = world.site.people.require_group("finance").id
    readers = {(g["principal"]["type"], g["principal"]["id"]) for g in grants if g["operation"]["key"] == "read"}
    assert readers == {("group", finance_id), ("user", world.site.users[0].account_id)}
    assert all(g["operation"]["targetType"] for g in grants) and len({g["id"] for g in grants}) == len(grants)
    assert any(g["operation"] == {"key": "administer", "targetType": "space"} for g in grants)


def test_default_space_permissions_name_the_all_users_group(world: FakeAtlassian) -> None:
    space_id, _ = eng(world)
    with as_user(world, 0) as api:
        grants = all_pages(api, f"/api/v2/spaces/{space_id}/permissions?limit=250")
    everyone = world.site.people.require_group("confluence-users")
    read = [g for g in grants if g["operation"] == {"key": "read", "targetType": "space"}]
    assert [(g["principal"]["type"], g["principal"]["id"]) for g in read] == [("group", everyone.id)]
    assert everyone.members == {u.account_id for u in world.site.users}


def test_removing_a_group_takes_its_access_away_and_never_opens_a_page(world: FakeAtlassian) -> None:
    space_id, ids = eng(world)
    hr = world.site.people.require_group("hr")
    world.site.restrict_page(ids[30], groups=["hr"])
    world.site.permissions.set_readers(space_id, ["hr", world.site.users[0].account_id])
    world.site.remove_group("hr")
    with as_user(world, 1) as former_member, as_user(world, 0) as connecting:
        assert former_member.get(f"/api/v2/pages/{ids[1]}").status_code == 404  # lost the space too
        assert connecting.get(f"/api/v2/pages/{ids[30]}").status_code == 404  # still restricted (to nobody)
        assert connecting.get(f"/api/v2/pages/{ids[1]}").status_code == 200
        read = connecting.get(f"/rest/api/content/{ids[29]}/restriction/byOperation/read").json()
        assert read["restrictions"]["group"]["results"] == []
        assert connecting.get("/rest/api/group/member", params={"groupId": hr.id}).status_code == 404
    assert world.site.content[ids[30]].restrictions == ((), (hr.id,))


def test_v1_expands_restrictions_of_content_and_ancestors(world: FakeAtlassian) -> None:
    _, ids = eng(world)
    world.site.restrict_page(ids[2], groups=["hr"], users=[world.site.users[0].account_id])
    expand = "restrictions.read.restrictions.user,restrictions.read.restrictions.group,ancestors.restrictions.read"
    with as_user(world, 0) as api:
        page = api.get(f"/rest/api/content/{ids[12]}", params={"expand": expand}).json()
    assert page["restrictions"]["read"]["restrictions"]["user"]["size"] == 0
    chain = {a["id"]: a["restrictions"]["read"]["restrictions"] for a in page["ancestors"]}
    assert [g["name"] for g in chain[str(ids[2])]["group"]["results"]] == ["hr"]
    assert [u["accountId"] for u in chain[str(ids[2])]["user"]["results"]] == [world.site.users[0].account_id]


def _oracle(site: Site, account_id: str) -> set[int]:
    """Visibility computed from first principles, independently of permissions.Viewer."""
    groups = {g.id for g in site.people.groups.values() if account_id in g.members}

    def admits(users: tuple[str, ...], group_ids: tuple[str, ...]) -> bool:
        return not (users or group_ids) or account_id in users or bool(groups & set(group_ids))

    visible: set[int] = set()
    for item in site.content.values():
        chain: list[Content] = []
        node: Content | None = item
        while node is not None:
            chain.append(node)
            node = site.content.get(node.parent_id) if node.parent_id else None
        if all(admits(*n.restrictions) for n in chain):
            visible.add(item.id)
    return visible


def test_generated_corpus_restricts_thirty_percent_in_every_kind_and_the_api_agrees() -> None:
    spec = SiteSpec(spaces=2, pages_per_space=120, blogposts_per_space=0, users=9, body_bytes=600)
    with FakeAtlassian(spec) as fake:
        populate_people(fake.site)
        plan = restrict_corpus(fake.site, 30)
        again = Site(spec)
        populate_people(again)
        assert restrict_corpus(again, 30).restricted == plan.restricted  # fixed seed
        assert plan.direct and plan.inherited and plan.personal
        assert 29 <= plan.percent <= 31 and not (set(plan.direct) & set(plan.personal))
        assert all(fake.site.content[a].restrictions != ((), ()) for a in plan.inherited.values())
        assert all(fake.site.content[p].restrictions == ((), ()) for p in plan.inherited)
        assert all(fake.site.content[p].restrictions == ((u,), ()) for p, u in plan.personal.items())
        for index in (0, 1, 4):
            account = fake.site.users[index].account_id
            with as_user(fake, index) as api:
                seen = {int(p["id"]) for p in all_pages(api, "/api/v2/pages?limit=250")}
            assert seen == _oracle(fake.site, account)
        assert seen.isdisjoint(p for p, u in plan.personal.items() if u != fake.site.users[4].account_id)
        with as_user(fake, 0) as connecting:
            assert len(all_pages(connecting, "/api/v2/pages?limit=250")) == 240 - len(plan.restricted)
        indexer = fake.site.users[0].account_id
        fresh = Site(spec)
        populate_people(fresh)
        restrict_corpus(fresh, 30, indexer=indexer)
        assert len(_oracle(fresh, indexer)) == 240
