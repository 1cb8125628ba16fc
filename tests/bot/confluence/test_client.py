"""ConfluenceClient against the fake Atlassian over real sockets: paging, faults, budget, 401 handling."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from bot.confluence.client import RequestBudget
from bot.errors import AtlassianError, AtlassianRequestError, AtlassianUnavailable, RateLimited, ReconnectRequired
from demo.fakes.atlassian import DEFAULT_SCOPES, FakeAtlassian, FakeClock, SiteSpec
from tests.bot.confluence.world import PAGES, SHORT_TIMEOUT, World, build_world, first_page_id, first_space_id


# ----- reads and paging --------------------------------------------------------------------------
def test_lists_spaces_and_learns_the_wiki_base(world: World) -> None:
    with world.client() as client:
        spaces = list(client.spaces())
        assert {s.key for s in spaces} == {s.key for s in world.fake.site.spaces.values()}
        assert client.wiki_base == world.fake.hosted.wiki_base
        assert client.web_url(spaces[0]) == f"{world.fake.hosted.wiki_base}/spaces/{spaces[0].key}"
        wanted = spaces[1].key
        assert [s.key for s in client.spaces(keys=[wanted])] == [wanted]


def test_follows_next_links_across_a_600_page_space_exactly_once(tmp_path: Path) -> None:
    spec = SiteSpec(spaces=1, pages_per_space=600, blogposts_per_space=0, body_bytes=200)
    with FakeAtlassian(spec, clock=FakeClock(frozen=True)) as fake:
        for world in build_world(fake, tmp_path):
            space_id = first_space_id(world)
            with world.client() as client:  # the world's patient timeout: a slow answer is not retried
                items = list(client.pages(space_id, with_body=False))
            ids = [item.id for item in items]
            assert len(ids) == 600 and len(set(ids)) == 600
            assert set(ids) == {str(i) for i in fake.site.ids("page", int(space_id))}
            requests = fake.log.filter(PAGES)
            assert len(requests) == 3  # 250 + 250 + 100, each page of results fetched once
            assert len({r.query for r in requests}) == 3
            assert all("limit=250" in r.query and "body-format" not in r.query for r in requests)
            assert all(item.body is None and item.version >= 1 and item.kind == "page" for item in items)
            assert all(item.modified_at is not None and item.modified_at.tzinfo is not None for item in items)


def test_pages_and_blogposts_with_bodies(world: World) -> None:
    space_id = first_space_id(world)
    with world.client() as client:
        pages = list(client.pages(space_id, with_body=True))
        posts = list(client.blogposts(space_id, with_body=True))
    assert len(pages) == 12 and len(posts) == 3
    assert all(item.body and item.body.startswith("<") for item in pages + posts)
    assert {item.kind for item in posts} == {"blogpost"}
    assert any(item.parent_id for item in pages)
    assert all(item.space_id == space_id for item in pages + posts)
    assert all("body-format=storage" in r.query for r in world.fake.log.filter(PAGES))


def test_single_page_and_blogpost_carry_their_body(world: World) -> None:
    space_id = int(first_space_id(world))
    page_id = first_page_id(world)
    post_id = str(world.fake.site.ids("blogpost", space_id)[0])
    with world.client() as client:
        page = client.page(page_id)
        post = client.blogpost(post_id)
        assert page.id == page_id and page.kind == "page" and page.body
        assert post.id == post_id and post.kind == "blogpost" and post.body
        assert client.web_url(page) == world.fake.hosted.wiki_base + page.webui
        with pytest.raises(AtlassianRequestError) as missing:
            client.page("999999999")
    assert missing.value.status == 404
    assert world.sleeps == []


def test_content_page_resumes_from_a_stored_cursor(tmp_path: Path) -> None:
    spec = SiteSpec(spaces=2, pages_per_space=300, blogposts_per_space=0, body_bytes=200)
    with FakeAtlassian(spec, clock=FakeClock(frozen=True)) as fake:
        for world in build_world(fake, tmp_path):
            space_id, other_space = (str(i) for i in sorted(fake.site.spaces)[:2])
            with world.client() as client:
                first = client.content_page(space_id, "page")
                assert len(first.items) == 250 and first.next_cursor is not None
                rest = client.content_page(space_id, "page", cursor=first.next_cursor)
                assert len(rest.items) == 50 and rest.next_cursor is None
                assert len({item.id for item in first.items + rest.items}) == 300
                with pytest.raises(AtlassianError, match="does not belong"):
                    client.content_page(other_space, "page", cursor=first.next_cursor)
                with pytest.raises(AtlassianError, match="does not belong"):
                    client.content_page(space_id, "page", cursor="https://evil.example" + first.next_cursor)
                wanted = [item.id for item in first.items + rest.items]
                assert [item.id for item in client.by_ids("page", wanted)] == wanted
            assert fake.log.count(PAGES) == 2
            assert fake.log.count("GET /wiki/api/v2/pages") == 2  # 250 ids per request (the API's maximum)


def test_by_ids_fetches_bodies_in_batches_and_skips_the_missing(world: World) -> None:
    ids = [str(i) for i in world.fake.site.ids("page")]
    with world.client() as client:
        found = list(client.by_ids("page", [*ids, "999999999"]))
        spaces = list(client.spaces(ids=[first_space_id(world)]))
    assert sorted(item.id for item in found) == sorted(ids)
    assert all(item.body for item in found)
    assert world.fake.log.count("GET /wiki/api/v2/pages") == 1
    assert [s.id for s in spaces] == [first_space_id(world)]


# ----- faults ------------------------------------------------------------------------------------
def test_429_honours_retry_after(world: World) -> None:
    world.fake.inject(PAGES, "429", retry_after=7)
    with world.client() as client:
        assert len(list(client.pages(first_space_id(world), with_body=False))) == 12
    assert world.sleeps == [7.0]


def test_503_honours_retry_after_clamped(world: World) -> None:
    world.fake.inject(PAGES, "503", retry_after=0)
    with world.client() as client:
        assert len(list(client.pages(first_space_id(world), with_body=False))) == 12
    assert world.sleeps == [1.0]


def test_5xx_and_timeouts_back_off_then_succeed(world: World) -> None:
    world.fake.inject(PAGES, "500")
    world.fake.inject(PAGES, "502")
    world.fake.inject(PAGES, "timeout", hold=0.6)
    with world.client(timeout=SHORT_TIMEOUT) as client:
        assert len(list(client.pages(first_space_id(world), with_body=False))) == 12
    assert len(world.sleeps) == 3
    for attempt, slept in enumerate(world.sleeps, start=1):
        base = 0.5 * 2 ** (attempt - 1)
        assert 0.7 * base <= slept <= 1.3 * base
    assert world.fake.log.count(PAGES) == 4


def test_too_many_5xx_is_a_clear_error(world: World) -> None:
    world.fake.inject(PAGES, "502", times=None)
    with world.client() as client, pytest.raises(AtlassianUnavailable, match=r"502\) after 5 tries"):
        list(client.pages(first_space_id(world), with_body=False))
    assert world.fake.log.count(PAGES) == 5 and len(world.sleeps) == 4
    assert all(slept <= 30.0 for slept in world.sleeps)


def test_malformed_json_is_retried(world: World) -> None:
    world.fake.inject(PAGES, "malformed_json")
    with world.client() as client:
        assert len(list(client.pages(first_space_id(world), with_body=False))) == 12
    assert len(world.sleeps) == 1 and world.fake.log.count(PAGES) == 2


def test_malformed_json_every_time_is_a_clear_error(world: World) -> None:
    world.fake.inject(PAGES, "malformed_json", times=None)
    with world.client() as client, pytest.raises(AtlassianUnavailable, match="not JSON"):
        list(client.pages(first_space_id(world), with_body=False))


@pytest.mark.parametrize(
    "garbled",
    [
        lambda: httpx.Response(200, stream=httpx.ByteStream(b"not gzip"), headers={"Content-Encoding": "gzip"}),
        lambda: httpx.Response(200, content=b"[" * 100_000 + b"]" * 100_000),  # JSON nested beyond reason
    ],
    ids=["undecodable", "too-deep"],
)
def test_a_body_that_cannot_be_read_is_retried(world: World, garbled: Callable[[], httpx.Response]) -> None:
    answers = [garbled(), httpx.Response(200, json={"results": [{"id": "1", "title": "one"}], "_links": {}})]
    with world.client(transport=httpx.MockTransport(lambda _request: answers.pop(0))) as client:
        assert [item.id for item in client.pages(first_space_id(world), with_body=False)] == ["1"]
    assert answers == [] and len(world.sleeps) == 1


def test_a_long_retry_after_raises_rate_limited_with_the_resume_time(world: World) -> None:
    world.fake.inject(PAGES, "429", retry_after=1800)
    with world.client() as client, pytest.raises(RateLimited) as limited:
        list(client.pages(first_space_id(world), with_body=False))
    assert limited.value.until == world.now() + timedelta(seconds=1800)
    assert f"{limited.value.until:%H:%M}" in str(limited.value)
    assert world.sleeps == []


def test_an_empty_budget_raises_rate_limited_without_calling(world: World) -> None:
    budget = RequestBudget(points_per_hour=3, clock=world.now)
    page_id = first_page_id(world)
    with world.client(budget=budget) as client:
        client.page(page_id)  # 1 point to ask, 1 for the page read
        client.page(page_id)  # the bucket is now one point in debt
        with pytest.raises(RateLimited) as limited:
            client.page(page_id)
    # Two points missing at 3 points an hour: 40 minutes.
    assert limited.value.until == world.now() + timedelta(minutes=40)
    assert world.fake.log.count("GET /wiki/api/v2/pages/{id}") == 2


def test_budget_refills_over_time() -> None:
    now = [datetime(2026, 11, 2, 9, 0, tzinfo=UTC)]
    budget = RequestBudget(points_per_hour=3600, clock=lambda: now[0])
    budget.spend(3600)
    with pytest.raises(RateLimited):
        budget.take(1)
    now[0] += timedelta(seconds=10)
    budget.take(10)
    assert budget.available == pytest.approx(0.0)


# ----- 401 ---------------------------------------------------------------------------------------
def test_a_401_forces_one_refresh_and_succeeds(world: World) -> None:
    world.store_access_token("revoked-early", world.now() + timedelta(hours=1))
    with world.client() as client:
        assert client.page(first_page_id(world)).body
    assert world.fake.log.refresh_count() == 1
    assert world.fake.log.count("GET /wiki/api/v2/pages/{id}", status=401) == 1
    assert world.sleeps == []


def test_a_401_after_the_refresh_means_the_connection_lost_access(tmp_path: Path) -> None:
    scopes = [s for s in DEFAULT_SCOPES if s != "read:page:confluence"]
    with FakeAtlassian(SiteSpec(spaces=1, pages_per_space=2, blogposts_per_space=0)) as fake:
        for world in build_world(fake, tmp_path, scopes):
            with world.client() as client, pytest.raises(ReconnectRequired, match="lost access") as refused:
                client.page(first_page_id(world))
            assert "401" in str(refused.value) and "fresh token" in str(refused.value)
            assert fake.log.refresh_count() == 1
            assert world.connection().status == "needs_reconnect"
            # Marked: nothing asks Atlassian again for this connection, not even for its token.
            calls = len(fake.log)
            with world.client() as client, pytest.raises(ReconnectRequired):
                client.page(first_page_id(world))
            assert len(fake.log) == calls
