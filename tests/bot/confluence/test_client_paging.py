"""ConfluenceClient paging against the fake: either mechanism followed, and every untrustworthy next link — rewritten
by the fake in the body, the Link header or both — stops the listing with IncompleteListing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from bot.errors import AtlassianError, IncompleteListing
from demo.fakes.atlassian import FakeAtlassian, FakeClock, FaultKind, SiteSpec
from tests.bot.confluence.world import PAGES, World, build_world, first_space_id

SPEC = SiteSpec(spaces=1, pages_per_space=600, blogposts_per_space=0, body_bytes=200)


@pytest.fixture(params=["both", "body", "header"])
def paged_world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    with FakeAtlassian(SPEC, clock=FakeClock(frozen=True), paging=request.param) as fake:
        yield from build_world(fake, tmp_path)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with FakeAtlassian(SPEC, clock=FakeClock(frozen=True)) as fake:
        yield from build_world(fake, tmp_path)


def test_the_body_link_the_header_or_both_list_every_page_once(paged_world: World) -> None:
    world = paged_world
    space_id = first_space_id(world)
    with world.client() as client:
        ids = [item.id for item in client.pages(space_id, with_body=False)]
        first = client.content_page(space_id, "page")
        second = client.content_page(space_id, "page", cursor=first.next_cursor)
        third = client.content_page(space_id, "page", cursor=second.next_cursor)
    assert len(ids) == len(set(ids)) == 600
    assert set(ids) == {str(i) for i in world.fake.site.ids("page", int(space_id))}
    assert [len(p.items) for p in (first, second, third)] == [250, 250, 100] and third.next_cursor is None
    assert world.fake.log.count(PAGES) == 6


def _second_page_link(world: World) -> str:
    with world.client() as client:
        cursor = client.content_page(first_space_id(world), "page").next_cursor
    assert cursor is not None
    world.fake.log.clear()
    return cursor


Rewrite = Callable[[str | None, str], object]
BAD_NEXT: dict[str, Rewrite] = {
    "absolute": lambda n, _: f"https://evil.example{n}",
    "absolute-same-host": lambda n, _: f"https://acme.atlassian.net{n}",
    "scheme-relative": lambda n, _: f"//evil.example{n}",
    "backslash": lambda n, _: f"/\\evil.example{n}",
    "traversal": lambda n, _: str(n).replace("/wiki/api/v2/", "/wiki/../wiki/api/v2/"),
    "encoded-traversal": lambda n, _: str(n).replace("/wiki/api/v2/", "/wiki/%2e%2e/wiki/api/v2/"),
    "encoded-slash": lambda n, _: str(n).replace("/pages?", "%2fpages?"),
    "other-space": lambda n, _: str(n).replace("/spaces/", "/spaces/1"),
    "other-endpoint": lambda n, _: str(n).replace("/pages?", "/blogposts?"),
    "v1": lambda n, _: str(n).replace("/wiki/api/v2/spaces/", "/wiki/rest/api/space/"),
    "not-wiki": lambda n, _: str(n).replace("/wiki/api/v2/", "/rest/api/"),
    "changed-limit": lambda n, _: str(n).replace("limit=250", "limit=25"),
    "no-cursor": lambda n, _: str(n).split("?")[0],
    "placeholder": lambda _n, _s: "string",
    "not-text": lambda n, _: {"href": n},
    "control": lambda n, _: f"{n}\tx",  # a tab: the one control character an HTTP header may carry
    "loop-to-itself": lambda _n, this: this,
}


#: Every bad kind in the body, the Link header and both (a header carries text only: "not-text" is body-borne).
PLACES = [
    (kind, where)
    for kind in sorted(BAD_NEXT)
    for where in ("body", "header", "both")
    if (kind, where) != ("not-text", "header")
]


@pytest.mark.parametrize(("kind", "where"), PLACES, ids=[f"{kind}-{where}" for kind, where in PLACES])
def test_a_bad_next_link_anywhere_stops_the_listing(world: World, kind: str, where: str) -> None:
    second = _second_page_link(world)
    rewrite = BAD_NEXT[kind]
    rule = world.fake.inject(
        PAGES, FaultKind.NEXT_LINK, skip=1, rewrite_next=lambda nxt: rewrite(nxt, second), where=where
    )
    with world.client() as client, pytest.raises(IncompleteListing, match="nothing is deleted"):
        list(client.pages(first_space_id(world), with_body=False))
    assert rule.hits == 1  # the bad link was served (on the second page) …
    assert world.fake.log.count(PAGES) == 2  # … and never followed


def test_a_loop_over_several_pages_is_noticed(world: World) -> None:
    second = _second_page_link(world)
    rule = world.fake.inject(PAGES, FaultKind.NEXT_LINK, skip=2, rewrite_next=lambda _n: second)  # 3rd → 2nd
    with world.client() as client, pytest.raises(IncompleteListing, match="loop"):
        list(client.pages(first_space_id(world), with_body=False))
    assert rule.hits == 1 and world.fake.log.count(PAGES) == 3


def test_a_next_link_on_the_last_page_is_followed_and_checked(world: World) -> None:
    second = _second_page_link(world)
    world.fake.inject(PAGES, FaultKind.NEXT_LINK, skip=2, rewrite_next=lambda _n: second.replace("cursor=", "cursor=z"))
    with world.client() as client, pytest.raises(AtlassianError):
        list(client.pages(first_space_id(world), with_body=False))  # the fake refuses the made-up cursor
    assert world.fake.log.count(PAGES, status=400) == 1


def test_header_and_body_that_disagree_stop_the_listing(world: World) -> None:
    second = _second_page_link(world)
    other = second.replace("cursor=", "cursor=x")
    rule = world.fake.inject(PAGES, FaultKind.NEXT_LINK, rewrite_next=lambda _n: other, where="header")
    with world.client() as client, pytest.raises(IncompleteListing, match="disagree"):
        list(client.pages(first_space_id(world), with_body=False))
    assert rule.hits == 1 and world.fake.log.count(PAGES) == 1


@pytest.mark.parametrize("header", ['</x; rel="next"', '<{next}>; rel="next", <{next}x>; rel="next"', "{next}"])
def test_a_link_header_that_cannot_be_read_stops_the_listing(world: World, header: str) -> None:
    second = _second_page_link(world)
    world.fake.inject(PAGES, FaultKind.NEXT_LINK, raw_link=header.format(next=second))
    with world.client() as client, pytest.raises(IncompleteListing):
        list(client.pages(first_space_id(world), with_body=False))


@pytest.mark.parametrize("kind", sorted(k for k in BAD_NEXT if k not in ("not-text", "loop-to-itself")))
def test_a_stored_cursor_is_checked_like_a_fresh_one(world: World, kind: str) -> None:
    second = _second_page_link(world)
    stored = BAD_NEXT[kind](second, second)
    assert isinstance(stored, str)
    with world.client() as client, pytest.raises(IncompleteListing, match="does not belong"):
        client.content_page(first_space_id(world), "page", cursor=stored)
    assert len(world.fake.log) == 0  # nothing was asked for


@pytest.mark.parametrize("entry", ["2", 2, None, ["3"], True], ids=["text", "number", "null", "list", "bool"])
def test_a_listing_entry_that_is_not_an_object_stops_it(world: World, entry: object) -> None:
    """An entry skipped would be an item missing from the listing, and pruned: the listing stops instead."""

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"results": [{"id": "1", "title": "one"}, entry], "_links": {}})

    with world.client(transport=httpx.MockTransport(answer)) as client:
        with pytest.raises(IncompleteListing, match="not an object"):
            list(client.pages(first_space_id(world), with_body=False))
        with pytest.raises(IncompleteListing, match="not an object"):
            client.content_page(first_space_id(world), "page")
