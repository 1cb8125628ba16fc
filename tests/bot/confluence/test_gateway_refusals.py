"""What a 401, 403 or 404 means (bot.confluence.gateway), against the fake, including the gateway that answers a
refused token with 404 (v2) instead of 401: refresh once when it may be the token, then tell a lost connection
(reconnect), a thing that is gone (404) and a refusal (403) apart — without a refresh storm."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.confluence.gateway import MAYBE_EXPIRED_AFTER
from bot.errors import AtlassianRequestError, ReconnectRequired
from demo.fakes.atlassian import FakeAtlassian, FakeClock, FaultKind, SiteSpec
from tests.bot.confluence.world import PAGES, World, build_world, first_page_id, first_space_id

SPACES = "GET /wiki/api/v2/spaces"
PAGE = "GET /wiki/api/v2/pages/{id}"
OLD = MAYBE_EXPIRED_AFTER.total_seconds() + 60


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    spec = SiteSpec(spaces=2, pages_per_space=12, blogposts_per_space=0, body_bytes=300)
    with FakeAtlassian(spec, clock=FakeClock(frozen=True)) as fake:
        fake.answer_refused_tokens_with(v2=404, v1=403)
        yield from build_world(fake, tmp_path)


def _revoke(world: World) -> None:
    family = world.fake.oauth.family_of(world.fake.oauth.issued_tokens().pop())
    assert family is not None
    world.fake.oauth.revoke_family(family)


def test_a_revoked_connection_answered_with_404_on_spaces_needs_a_reconnect(world: World) -> None:
    _revoke(world)
    with world.client() as client, pytest.raises(ReconnectRequired, match="invalid_grant"):
        list(client.spaces())
    assert world.fake.log.count(SPACES, status=404, note="token refused") == 1  # the quirk was hit …
    assert world.fake.log.count("POST /oauth/token", status=403) == 1  # … the refresh refused (invalid_grant)
    assert world.connection().status == "needs_reconnect"
    calls = len(world.fake.log)
    with world.client() as client, pytest.raises(ReconnectRequired):
        list(client.spaces())
    assert len(world.fake.log) == calls  # and nothing is asked again: no retry storm


def test_an_expired_token_answered_with_404_is_refreshed_once_and_the_listing_goes_on(world: World) -> None:
    world.fake.expire_access_tokens()  # the gateway thinks so, though the stored expiry says otherwise
    with world.client() as client:
        spaces = list(client.spaces())
        pages = list(client.pages(first_space_id(world), with_body=False))
    assert len(spaces) == 2 and len(pages) == 12
    assert world.token_calls() == 1 and world.connection().status == "active"
    assert world.fake.log.count(SPACES, status=404) == 1 and world.fake.log.count(SPACES, status=200) == 1


@pytest.mark.parametrize("kind", [FaultKind.NOT_FOUND, FaultKind.FORBIDDEN, FaultKind.UNAUTHORIZED])
def test_a_collection_still_refusing_after_a_refresh_has_lost_access(world: World, kind: FaultKind) -> None:
    rule = world.fake.inject(SPACES, kind, times=2, description="<!channel> secret detail")
    with world.client() as client, pytest.raises(ReconnectRequired) as refused:
        list(client.spaces())
    message = str(refused.value)
    assert rule.hits == 2 and world.token_calls() == 1
    assert f"lost access to the site: Confluence answered {kind.value} to /wiki/api/v2/spaces" in message
    assert "fresh token" in message and "secret" not in message and "<!channel>" not in message
    assert world.connection().status == "needs_reconnect"


def test_by_ids_is_a_collection_too(world: World) -> None:
    world.fake.inject("GET /wiki/api/v2/pages", FaultKind.NOT_FOUND, times=2)
    with world.client() as client, pytest.raises(ReconnectRequired, match="lost access"):
        list(client.by_ids("page", [first_page_id(world)]))
    assert world.token_calls() == 1


def test_a_missing_page_with_a_fresh_token_is_gone_without_a_refresh(world: World) -> None:
    with world.client() as client, pytest.raises(AtlassianRequestError) as gone:
        client.page("999999999")
    assert gone.value.status == 404 and world.token_calls() == 0


def test_a_missing_page_with_an_old_token_is_gone_after_one_refresh_and_no_more(world: World) -> None:
    world.fake.advance(OLD)  # the token is some minutes old now (and still far from its expiry)
    with world.client() as client:
        for missing in ("999999991", "999999992", "999999993", "999999994"):
            with pytest.raises(AtlassianRequestError) as gone:
                client.page(missing)
            assert gone.value.status == 404
        assert client.page(first_page_id(world)).body
    # One refresh for the first 404; the new token is fresh, so the next 404s are believed at once.
    assert world.token_calls() == 1 and world.fake.log.count(PAGE, status=404) == 5
    assert world.connection().status == "active"


def test_an_old_token_refused_with_403_on_a_page_is_refreshed_and_the_page_read(world: World) -> None:
    world.fake.answer_refused_tokens_with(v2=403)
    world.fake.advance(OLD)
    world.fake.expire_access_tokens()
    with world.client() as client:
        assert client.page(first_page_id(world)).body
    assert world.token_calls() == 1 and world.fake.log.count(PAGE, status=403) == 1


def test_a_page_refused_with_403_on_a_fresh_token_is_refused(world: World) -> None:
    world.fake.inject(PAGE, FaultKind.FORBIDDEN)
    with world.client() as client, pytest.raises(AtlassianRequestError) as refused:
        client.page(first_page_id(world))
    assert refused.value.status == 403 and world.token_calls() == 0
    assert world.connection().status == "active"


def test_a_space_listing_404_is_that_space_gone_not_the_connection(world: World) -> None:
    world.fake.advance(OLD)
    world.fake.inject(PAGES, FaultKind.NOT_FOUND, times=2)
    with world.client() as client, pytest.raises(AtlassianRequestError) as gone:
        client.content_page(first_space_id(world), "page")
    assert gone.value.status == 404 and world.token_calls() == 1  # refreshed once: it might have been the token
    assert world.connection().status == "active"


def test_a_revoked_connection_on_a_page_fetch_needs_a_reconnect_not_a_deletion(world: World) -> None:
    world.fake.advance(OLD)
    _revoke(world)
    with world.client() as client, pytest.raises(ReconnectRequired):
        client.page(first_page_id(world))
    assert world.fake.log.count(PAGE, status=404) == 1 and world.token_calls() == 1
