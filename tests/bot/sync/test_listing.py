"""ParallelListing: spaces listed at once, each in order, errors kept to their space or stopping the run."""

from __future__ import annotations

import threading
import time
from collections.abc import Generator, Iterator, Sequence
from datetime import UTC, datetime

import pytest

from bot.errors import AtlassianRequestError, ReconnectRequired
from bot.sync import listing
from bot.sync.convert import ConvertedDocument
from bot.sync.listing import (
    BODIED_QUEUE_PAGES,
    ENDLESS,
    GROUP_PAGES,
    LOOP,
    QUEUE_PAGES,
    ListedPage,
    ListingTask,
    ParallelListing,
)
from bot.sync.source import ContentRef, FetchedContent, ItemFailure, ItemGone, Listing, SpaceRef


class PagedSource:
    """Three listing pages per space; "broken" fails with a request error, "expired" needs a reconnect."""

    kinds = ("page",)

    def __init__(self) -> None:
        self.calls: list[tuple[str, str | None]] = []
        self.changes: list[tuple[str, datetime]] = []
        self.lock = threading.Lock()

    def spaces(self, space_ids: Sequence[str] | None) -> list[SpaceRef]:
        return []

    def estimate(self, spaces: Sequence[SpaceRef]) -> int | None:
        return None

    def list_page(self, space_id: str, kind: str, cursor: str | None, *, with_bodies: bool = False) -> Listing:
        with self.lock:
            self.calls.append((space_id, cursor))
        time.sleep(0.01)
        if space_id == "broken" and cursor == "2":
            raise AtlassianRequestError(500, "Confluence answered 500")
        if space_id == "expired":
            raise ReconnectRequired("reconnect")
        page = int(cursor or "1")
        refs = [ContentRef(f"{space_id}-{page}-{i}", kind, space_id, "t", 1, None, None) for i in range(3)]
        fetched = [FetchedContent(ref, "", f"<p>{ref.source_id}</p>") for ref in refs] if with_bodies else []
        return Listing(refs=refs, next_cursor=str(page + 1) if page < 3 else None, fetched=fetched)

    def list_changed(self, space_id: str, kind: str, since: datetime, cursor: str | None) -> Listing:
        with self.lock:
            self.changes.append((space_id, since))
        return self.list_page(space_id, kind, cursor)

    def fetch(self, refs: Sequence[ContentRef]) -> Iterator[FetchedContent | ItemFailure | ItemGone]:
        return iter(())

    def close(self) -> None:
        pass


def test_every_space_is_listed_in_order_and_a_failing_space_only_stops_itself() -> None:
    listing = ParallelListing(PagedSource(), threads=4)
    pages: list[ListedPage] = [
        page
        for group in listing.groups(
            [ListingTask(s, "page", None) for s in "abcd"] + [ListingTask("broken", "page", None)]
        )
        for page in group
    ]
    for space in "abcd":
        mine = [page for page in pages if page.space_id == space]
        assert [page.next_cursor for page in mine] == ["2", "3", None]  # in order, resumable at each step
        assert [ref.source_id for ref in mine[0].refs] == [f"{space}-1-0", f"{space}-1-1", f"{space}-1-2"]
    broken = [page for page in pages if page.space_id == "broken"]
    assert [(page.next_cursor, page.error is not None) for page in broken] == [("2", False), (None, True)]


def test_resuming_from_a_cursor_and_a_reconnect_stops_everything() -> None:
    source = PagedSource()
    resumed = [
        page for group in ParallelListing(source, threads=2).groups([ListingTask("a", "page", "3")]) for page in group
    ]
    assert [page.next_cursor for page in resumed] == [None] and source.calls == [("a", "3")]
    with pytest.raises(ReconnectRequired):
        for _group in ParallelListing(source, threads=2).groups(
            [ListingTask("a", "page", None), ListingTask("expired", "page", None)]
        ):
            pass


class EndlessSource(PagedSource):
    def list_page(self, space_id: str, kind: str, cursor: str | None, *, with_bodies: bool = False) -> Listing:
        with self.lock:
            self.calls.append((space_id, cursor))
        page = int(cursor or "1")
        return Listing(refs=[], next_cursor=str(page + 1) if page < 10_000 else None)


def test_listing_waits_for_a_slow_writer_and_stops_when_it_stops() -> None:
    source = EndlessSource()
    groups = ParallelListing(source, threads=2).groups([ListingTask("a", "page", None), ListingTask("b", "page", None)])
    next(groups)
    time.sleep(0.3)  # the writer is busy: the threads must not list the whole site into memory meanwhile
    assert len(source.calls) <= QUEUE_PAGES + GROUP_PAGES + 4
    assert isinstance(groups, Generator)
    groups.close()  # the writer stops (a lost lease, say): the threads stop too (a hang fails on pytest's timeout)
    listed = len(source.calls)
    time.sleep(0.3)
    assert len(source.calls) == listed


class LoopingSource(PagedSource):
    """Pages 1 → 2 → 3 → 2: a next cursor the listing already followed."""

    def list_page(self, space_id: str, kind: str, cursor: str | None, *, with_bodies: bool = False) -> Listing:
        with self.lock:
            self.calls.append((space_id, cursor))
        page = int(cursor or "1")
        refs = [ContentRef(f"{space_id}-{page}", kind, space_id, "t", 1, None, None)]
        return Listing(refs=refs, next_cursor={1: "2", 2: "3", 3: "2"}[page])


def test_a_loop_ends_the_listing_with_an_error_after_keeping_what_was_listed() -> None:
    source = LoopingSource()
    pages = [
        page for group in ParallelListing(source, threads=1).groups([ListingTask("a", "page", None)]) for page in group
    ]
    assert [ref.source_id for page in pages for ref in page.refs] == ["a-1", "a-2", "a-3"]
    assert pages[-1].error == LOOP and pages[-1].next_cursor is None
    assert source.calls == [("a", None), ("a", "2"), ("a", "3")]  # the loop was never followed


def test_a_resumed_listing_counts_its_stored_cursor_as_followed() -> None:
    source = LoopingSource()
    pages = [
        page for group in ParallelListing(source, threads=1).groups([ListingTask("a", "page", "3")]) for page in group
    ]
    assert [page.error for page in pages] == [None, None, LOOP]  # 3 → 2 → 3: the stored 3 came back
    assert source.calls == [("a", "3"), ("a", "2")]


def test_an_endless_listing_ends_with_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(listing, "MAX_LISTING_PAGES", 50)
    source = EndlessSource()
    pages = [
        page for group in ParallelListing(source, threads=1).groups([ListingTask("a", "page", None)]) for page in group
    ]
    assert pages[-1].error == ENDLESS and len(source.calls) == 51


def test_a_task_with_a_time_lists_changes_and_one_without_lists_everything() -> None:
    source = PagedSource()
    since = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    tasks = [ListingTask("a", "page", None, since), ListingTask("b", "page", None)]
    pages = [page for group in ParallelListing(source, threads=2).groups(tasks) for page in group]
    assert source.changes == [("a", since)] * 3  # each page of "a" asked for changes since then
    assert sorted({page.space_id for page in pages}) == ["a", "b"]


class BodiedEndlessSource(PagedSource):
    def list_page(self, space_id: str, kind: str, cursor: str | None, *, with_bodies: bool = False) -> Listing:
        with self.lock:
            self.calls.append((space_id, cursor))
        page = int(cursor or "1")
        ref = ContentRef(f"{space_id}-{page}", kind, space_id, "t", 1, None, None)
        return Listing(refs=[ref], next_cursor=str(page + 1), fetched=[FetchedContent(ref, "", "<p>x</p>")])


def test_bodies_are_prepared_in_the_listing_threads_and_handed_over_with_their_page() -> None:
    prepared_in: set[str] = set()

    def prepare(fetched: list[FetchedContent]) -> tuple[list[FetchedContent], list[ConvertedDocument]]:
        prepared_in.add(threading.current_thread().name)
        kept = [f for f in fetched if not f.ref.source_id.endswith("-0")]  # the engine drops unchanged ones
        return kept, [ConvertedDocument(f.ref.source_id, "h", (("", f.body),)) for f in kept]

    tasks = [ListingTask(space, "page", None, with_bodies=True) for space in "ab"]
    pages = [
        page for group in ParallelListing(PagedSource(), threads=2, prepare=prepare).groups(tasks) for page in group
    ]
    assert all(name.startswith("sync-list") for name in prepared_in)
    for page in pages:
        assert [f.ref.source_id for f in page.fetched] == [ref.source_id for ref in page.refs[1:]]
        assert [c.source_id for c in page.converted] == [f.ref.source_id for f in page.fetched]
    plain = [
        page
        for group in ParallelListing(PagedSource(), threads=2, prepare=prepare).groups([ListingTask("c", "page", None)])
        for page in group
    ]
    assert all(not page.fetched for page in plain)  # a listing without bodies prepares nothing


def test_a_listing_with_bodies_keeps_few_pages_waiting_for_the_writer() -> None:
    source = BodiedEndlessSource()
    tasks = [ListingTask(space, "page", None, with_bodies=True) for space in "ab"]
    groups = ParallelListing(source, threads=2).groups(tasks)
    next(groups)
    time.sleep(0.3)
    assert len(source.calls) <= BODIED_QUEUE_PAGES + GROUP_PAGES + 4 < QUEUE_PAGES
    assert isinstance(groups, Generator)
    groups.close()
