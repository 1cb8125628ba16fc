"""Reading permission facts: every odd answer becomes unknown (never wider), long restriction lists are read to
the end, v1 next links are held to the paging rules."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from bot.access.model import ALL_LICENSED, ANONYMOUS, AUTHENTICATED, UNKNOWN
from bot.confluence.client import ConfluenceClient
from bot.confluence.permissions import PermissionReader, space_clause_of
from bot.errors import IncompleteListing
from tests.bot.confluence.world import World, first_page_id, first_space_id


def _read(principal: dict[str, Any], key: str = "read", target: str = "space") -> dict[str, Any]:
    return {"id": "1", "principal": principal, "operation": {"key": key, "targetType": target}}


def test_space_clause_keys_users_groups_and_access_classes() -> None:
    clause = space_clause_of(
        [
            _read({"type": "user", "id": "5b10ac8d82e05b22cc7d4ef5"}),
            _read({"type": "group", "id": "0f1b1a9e-7e1b-4a54-9a53-3d2b1f0e8c11"}),
            _read({"type": "role", "id": "anonymous-users"}),
            _read({"type": "ACCESS_CLASS", "id": "authenticated-users"}),
            _read({"type": "role", "id": "all-licensed-users"}),
            _read({"type": "user", "id": "someone-else"}, key="administer"),
            _read({"type": "group", "id": "g2"}, target="page"),
        ]
    )
    assert clause == {
        "u:5b10ac8d82e05b22cc7d4ef5",
        "g:0f1b1a9e-7e1b-4a54-9a53-3d2b1f0e8c11",
        ANONYMOUS,
        AUTHENTICATED,
        ALL_LICENSED,
    }


@pytest.mark.parametrize(
    "odd",
    [
        "not an object",
        _read({"type": "user"}),
        _read({"type": "user", "id": " spaced "}),
        _read({"type": "group", "id": None}),
        _read({"type": "role", "id": "jsm-project-admins"}),
        _read({"type": "robot", "id": "x"}),
        _read("nobody"),  # type: ignore[arg-type]
    ],
)
def test_an_odd_space_permission_is_unknown_never_wider(odd: Any) -> None:
    assert space_clause_of([odd]) == {UNKNOWN}


Readers = Callable[..., PermissionReader]


@pytest.fixture
def readers(world: World) -> Iterator[Readers]:
    clients: list[ConfluenceClient] = []

    def make(page_size: int = 200) -> PermissionReader:
        clients.append(world.client())
        return PermissionReader(clients[-1].gateway, page_size=page_size)

    yield make
    for client in clients:
        client.close()


def test_a_restriction_naming_more_people_than_one_answer_holds_is_read_to_the_end(
    world: World, readers: Readers
) -> None:
    site = world.fake.site
    many = [site.people.add_user().account_id for _ in range(230)]
    page = int(first_page_id(world)) + 3
    site.restrict_page(page, users=[site.users[0].account_id, *many])
    reader = readers()
    space_key = site.spaces[int(first_space_id(world))].key
    facts = {fact.id: fact for fact in reader.space_content(space_key)}
    assert set(facts[str(page)].own) == {f"u:{a}" for a in [site.users[0].account_id, *many]}
    assert world.fake.log.count("GET /wiki/rest/api/content/{id}/restriction/byOperation/*") == 3
    assert reader.restriction(str(page)) == facts[str(page)].own


def test_facts_carry_ancestors_root_first(world: World, readers: Readers) -> None:
    site = world.fake.site
    space_id = int(first_space_id(world))
    ids = site.ids("page", space_id)
    facts = {f.id: f for f in readers().space_content(site.spaces[space_id].key)}
    assert facts[str(ids[6])].ancestors == (str(ids[0]), str(ids[1]))
    assert facts[str(ids[0])].ancestors == () and facts[str(ids[0])].own == ()
    blog = site.ids("blogpost", space_id)[0]
    assert facts[str(blog)].kind == "blogpost"


def test_a_restriction_that_cannot_be_read_is_unknown(world: World, readers: Readers) -> None:
    world.fake.inject("GET /wiki/rest/api/content/{id}/restriction/byOperation/*", "404")
    assert readers().restriction(first_page_id(world)) == (UNKNOWN,)
    assert readers().restriction("../etc") == (UNKNOWN,)


def test_a_listing_whose_next_link_points_elsewhere_stops_as_incomplete(world: World, readers: Readers) -> None:
    site = world.fake.site
    space_id = int(first_space_id(world))
    key = site.spaces[space_id].key
    assert len(list(readers(4).space_content(key))) == 15  # 4 pages of v1 next links followed
    elsewhere = "/rest/api/content?spaceKey=" + key

    def rewrite(link: str | None) -> str | None:
        return elsewhere if link else link

    world.fake.inject("GET /wiki/rest/api/content/search", "next_link", rewrite_next=rewrite, where="body")
    with pytest.raises(IncompleteListing):
        list(readers(4).space_content(key))


def test_space_readers_of_a_space_whose_permissions_are_refused_is_nobody(world: World, readers: Readers) -> None:
    world.fake.inject("GET /wiki/api/v2/spaces/{id}/permissions", "403")
    assert readers().space_readers(first_space_id(world)) is None
    found = readers().space_readers(first_space_id(world))
    assert found is not None and found == {f"g:{world.fake.site.people.all_users_group.id}"}
