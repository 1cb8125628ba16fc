"""ConfluenceSource.list_changed over a stub client: a first look of one item, limits that grow, the stop at the
first older item, and an answer that is not newest first."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest

from bot.confluence.client import ConfluenceClient, ContentItem, ContentPage
from bot.confluence.gateway import server_date
from bot.errors import IncompleteListing
from bot.sync.confluence_source import ConfluenceSource

SINCE = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
AS_OF = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


def _item(number: int, minutes: float | None, body: str | None = "<p>x</p>") -> ContentItem:
    modified = SINCE + timedelta(minutes=minutes) if minutes is not None else None
    return ContentItem(str(number), "page", f"t{number}", "s1", None, 2, modified, "current", f"/p/{number}", body)


class StubClient:
    """Serves ``items`` (newest first) ``limit`` at a time; records each request's limit and cursor."""

    def __init__(self, items: list[ContentItem]) -> None:
        self.items = items
        self.asked: list[tuple[int, str | None]] = []
        self.fetched: list[str] = []

    def changes_page(
        self, space_id: str, kind: str, *, limit: int, cursor: str | None = None, with_body: bool = False
    ) -> ContentPage:
        assert with_body  # the changed items' bodies come with them
        self.asked.append((limit, cursor))
        start = int(cursor.rsplit("=", 1)[1]) if cursor else 0
        end = start + limit
        following = f"/wiki/api/v2/spaces/s1/pages?sort=-modified-date&cursor={end}" if end < len(self.items) else None
        return ContentPage(self.items[start:end], following, AS_OF)

    def by_ids(self, kind: str, ids: list[str]) -> Iterator[ContentItem]:
        self.fetched.extend(ids)
        return iter([replace(item, version=item.version + 1) for item in self.items if item.id in ids])

    def web_url(self, item: ContentItem) -> str:
        return f"https://acme.atlassian.net/wiki{item.webui}"


def _source(items: list[ContentItem]) -> tuple[ConfluenceSource, StubClient]:
    client = StubClient(items)
    return ConfluenceSource(cast(ConfluenceClient, client)), client


def _listed(source: ConfluenceSource) -> tuple[list[str], int]:
    ids, cursor, pages = [], None, 0
    while True:
        listing = source.list_changed("s1", "page", SINCE, cursor)
        pages += 1
        assert listing.as_of == AS_OF
        ids += [ref.source_id for ref in listing.refs]
        if listing.next_cursor is None:
            return ids, pages
        cursor = listing.next_cursor


def test_nothing_changed_costs_one_look_at_one_item() -> None:
    source, client = _source([_item(1, -1), _item(2, -2)])
    assert _listed(source) == ([], 1)
    assert client.asked == [(1, None)]


def test_the_limit_grows_tenfold_up_to_250_and_the_listing_stops_at_the_first_older_item() -> None:
    items = [_item(n, 10_000 - n) for n in range(400)] + [_item(999, -5), _item(1000, -6)]
    source, client = _source(items)
    ids, _pages = _listed(source)
    assert ids == [str(n) for n in range(400)]
    assert [limit for limit, _cursor in client.asked] == [1, 10, 100, 250, 250]
    assert client.asked[1][1] is not None and client.asked[1][1].endswith("cursor=1")


def test_an_item_without_a_modified_time_is_kept() -> None:
    source, _client = _source([_item(1, 5), _item(2, None), _item(3, -1)])
    assert _listed(source)[0] == ["1", "2"]


def test_an_answer_that_is_not_newest_first_stops_the_listing_rather_than_missing_changes() -> None:
    source, _client = _source([_item(1, 10), _item(2, 5), _item(3, 9)])  # its second page goes up in time
    with pytest.raises(IncompleteListing, match="most recently modified"):
        _listed(source)


def test_a_stored_cursor_not_in_the_limit_form_asks_for_a_full_page() -> None:
    source, client = _source([_item(n, 100 - n) for n in range(5)])
    source.list_changed("s1", "page", SINCE, "/wiki/api/v2/spaces/s1/pages?sort=-modified-date&cursor=2")
    assert client.asked == [(250, "/wiki/api/v2/spaces/s1/pages?sort=-modified-date&cursor=2")]


def test_a_listing_of_changes_brings_the_bodies_it_has_and_no_others() -> None:
    items = [_item(1, 30), _item(2, 20), _item(3, 10, body=""), _item(4, 5, body=None), _item(5, -1)]
    source, client = _source(items)
    listing = source.list_changed("s1", "page", SINCE, None)
    refs, fetched = list(listing.refs), list(listing.fetched)
    while listing.next_cursor is not None:
        listing = source.list_changed("s1", "page", SINCE, listing.next_cursor)
        refs += listing.refs
        fetched += listing.fetched
    assert [ref.source_id for ref in refs] == ["1", "2", "3", "4"]
    assert [f.ref.source_id for f in fetched] == ["1", "2", "3"]  # 4 came without one: fetched by id later
    assert fetched[2].body == "" and fetched[0].url == "https://acme.atlassian.net/wiki/p/1"  # an empty page is one
    assert client.fetched == []


NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Wed, 02 Dec 2026 08:59:58 GMT", datetime(2026, 12, 2, 8, 59, 58, tzinfo=UTC)),
        ("Mon, 02 Nov 2026 09:00:00 GMT", datetime(2026, 11, 2, 9, 0, tzinfo=UTC)),  # behind: kept
        ("Wed, 02 Dec 2026 09:05:00 GMT", datetime(2026, 12, 2, 9, 5, tzinfo=UTC)),  # a little ahead: kept
        ("Wed, 02 Dec 2026 09:30:00 GMT", None),  # far ahead: asking from then would miss changes
        ("Wed, 02 Dec 2026 08:59:58", None),  # no zone
        ("yesterday", None),
        ("", None),
        (None, None),
        ("x" * 100, None),
        ("Fri, 31 Dec 9999 23:59:59 -2359", None),  # past datetime's range once in UTC
    ],
)
def test_the_date_header_is_atlassians_clock_when_it_can_be_believed(header: Any, expected: datetime | None) -> None:
    assert server_date(header, NOW) == expected


def test_a_failed_bulk_fetch_retries_one_by_one() -> None:
    from bot.errors import AtlassianUnavailable
    from bot.sync.source import ContentRef, FetchedContent

    source, client = _source([_item(1, 30), _item(2, -1)])

    def failing(kind: str, ids: list[str]) -> Iterator[ContentItem]:
        raise AtlassianUnavailable("Confluence answered 500 five times")

    singles: list[str] = []

    def one(page_id: str) -> ContentItem:
        singles.append(page_id)
        return _item(int(page_id), 0)

    client.by_ids = failing  # type: ignore[method-assign]
    client.page = one  # type: ignore[attr-defined]
    refs = [ContentRef(i, "page", "s1", f"t{i}", 2, None, None) for i in ("1", "2")]
    results = list(source.fetch(refs))
    assert sorted(r.ref.source_id for r in results if isinstance(r, FetchedContent)) == ["1", "2"]
    assert len(results) == 2 and singles == ["1", "2"]


def test_a_time_without_an_offset_is_utc_and_a_bad_one_is_none() -> None:
    from bot.confluence.client import _timestamp

    assert _timestamp("2026-12-01T12:00:00") == SINCE
    assert _timestamp("2026-12-01T13:00:00+01:00") == SINCE
    assert _timestamp("9999-12-31T23:59:59-23:59") is None
    assert _timestamp("soon") is None and _timestamp(None) is None and _timestamp("2" * 100) is None
