"""Syncing Metadata's network half: every (space, kind) is listed page by page in its own thread, several
at once, and the listed pages are handed to ONE writer in groups, so the database sees a few transactions
instead of one per listing page from sixteen threads competing for SQLite's write lock.

A listing that cannot be finished ends with an error page, never with a quiet end: a Confluence error, a next
cursor this listing already followed (a loop, also across a restart: the stored cursor counts as followed), or
more than MAX_LISTING_PAGES pages. The engine prunes nothing after an error page.

A listing page that brings bodies along is prepared in its listing thread before the writer gets it (``prepare``:
the engine converts the new and changed ones on its conversion pool), so conversion runs while other spaces are
listed and the writer only stores. Pages with bodies are big: BODIED_QUEUE_PAGES of them wait at most."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

from bot.errors import AtlassianError, RateLimited, ReconnectRequired
from bot.sync.convert import ConvertedDocument
from bot.sync.source import ContentRef, FetchedContent, Source

__all__ = ["ListedPage", "ListingTask", "ParallelListing"]

#: At most this many listing pages per writer transaction.
GROUP_PAGES = 40
#: How often the writer looks at the listing threads while nothing arrives (and a blocked thread at ``stop``).
POLL_SECONDS = 0.2
#: Listed pages waiting for the writer; listing threads wait when it is full, so memory stays bounded.
QUEUE_PAGES = 2 * GROUP_PAGES
#: The same for listings with bodies (250 bodies and their chunks a page), and their pages per transaction.
BODIED_QUEUE_PAGES = 8
#: A group also ends once it holds this many bodies (a listing of changes after a mass edit).
GROUP_BODIES = 1000
#: 250 items a page: 2.5 million items in one space and kind is beyond any real one; more is a listing gone wrong.
MAX_LISTING_PAGES = 10_000
LOOP = "Confluence sent a next-page cursor this listing had already followed (a loop), so it stops here."
ENDLESS = f"Confluence kept sending next-page cursors after {MAX_LISTING_PAGES:,} pages, so this listing stops here."


@dataclass(frozen=True)
class ListedPage:
    """One listing page of a space and kind, with the cursor of the next; or why listing it stopped."""

    space_id: str
    kind: str
    refs: list[ContentRef]
    next_cursor: str | None  # None: the space and kind are fully listed (or failed)
    error: str | None = None
    as_of: datetime | None = None  # the source's clock when it answered
    #: The items to index from this page's bodies (new or changed), and their conversions, in the same order.
    fetched: list[FetchedContent] = field(default_factory=list)
    converted: list[ConvertedDocument] = field(default_factory=list)


@dataclass(frozen=True)
class ListingTask:
    """What to list of one space and kind: from ``cursor`` (None: the start), every item or (``since``) only
    those changed since then."""

    space_id: str
    kind: str
    cursor: str | None
    since: datetime | None = None
    with_bodies: bool = False  # a listing of every item, bodies included (a one-pass sync)


class _Finished:
    """A listing thread's last word."""


_FINISHED = _Finished()


def _bodies(event: ListedPage | _Finished) -> int:
    return len(event.fetched) if isinstance(event, ListedPage) else 0


def _put(events: queue.Queue[ListedPage | _Finished], event: ListedPage | _Finished, stop: threading.Event) -> bool:
    """Hand ``event`` to the writer, waiting while the queue is full; False once the writer has stopped."""
    while not stop.is_set():
        try:
            events.put(event, timeout=POLL_SECONDS)
            return True
        except queue.Full:
            continue
    return False


#: Turns a listing page's bodies into what the writer stores: the ones to index and their conversions.
Prepare = Callable[[list[FetchedContent]], tuple[list[FetchedContent], list[ConvertedDocument]]]


def _nothing_to_prepare(fetched: list[FetchedContent]) -> tuple[list[FetchedContent], list[ConvertedDocument]]:
    return [], []


class ParallelListing:
    def __init__(self, source: Source, *, threads: int, prepare: Prepare = _nothing_to_prepare) -> None:
        self.source, self.threads, self.prepare = source, threads, prepare

    def _list(self, task: ListingTask, events: queue.Queue[ListedPage | _Finished], stop: threading.Event) -> None:
        """List one space and kind from its cursor; a Confluence error ends it with an error page, except the
        ones that stop the whole run (reconnect, rate limit), which the writer re-raises."""
        space_id, kind, cursor, since = task.space_id, task.kind, task.cursor, task.since
        followed = {cursor} if cursor is not None else set()
        try:
            while not stop.is_set():
                try:
                    if since is None:
                        listing = self.source.list_page(space_id, kind, cursor, with_bodies=task.with_bodies)
                    else:
                        listing = self.source.list_changed(space_id, kind, since, cursor)
                except (ReconnectRequired, RateLimited):
                    raise
                except AtlassianError as exc:
                    _put(events, ListedPage(space_id, kind, [], None, error=str(exc)), stop)
                    return
                fetched, converted = self.prepare(listing.fetched) if listing.fetched else ([], [])
                page = ListedPage(
                    space_id,
                    kind,
                    listing.refs,
                    listing.next_cursor,
                    as_of=listing.as_of,
                    fetched=fetched,
                    converted=converted,
                )
                if not _put(events, page, stop):
                    return
                if listing.next_cursor is None:
                    return
                cursor = listing.next_cursor
                if cursor in followed or len(followed) >= MAX_LISTING_PAGES:
                    _put(
                        events,
                        ListedPage(space_id, kind, [], None, error=LOOP if cursor in followed else ENDLESS),
                        stop,
                    )
                    return
                followed.add(cursor)
        except BaseException:
            stop.set()  # the run stops: no other task starts listing, the others end after their request
            raise
        finally:
            _put(events, _FINISHED, stop)

    @staticmethod
    def _raise_failures(futures: Sequence[Future[None]]) -> None:
        for future in futures:
            if future.done() and future.exception() is not None:
                future.result()

    def groups(self, todo: Sequence[ListingTask]) -> Iterator[list[ListedPage]]:
        """Groups of listed pages as they arrive (each space's pages in order). An error that stops the run
        is raised here as soon as it happens; the other threads then stop after their current request."""
        if not todo:
            return
        bodied = any(task.with_bodies for task in todo)
        events: queue.Queue[ListedPage | _Finished] = queue.Queue(maxsize=BODIED_QUEUE_PAGES if bodied else QUEUE_PAGES)
        stop = threading.Event()
        with ThreadPoolExecutor(max_workers=min(self.threads, len(todo)), thread_name_prefix="sync-list") as pool:
            futures = [pool.submit(self._list, task, events, stop) for task in todo]
            try:
                running = len(futures)
                while running:
                    try:
                        group = [events.get(timeout=POLL_SECONDS)]
                    except queue.Empty:
                        self._raise_failures(futures)
                        continue
                    while len(group) < GROUP_PAGES and sum(_bodies(event) for event in group) < GROUP_BODIES:
                        try:
                            group.append(events.get_nowait())
                        except queue.Empty:
                            break
                    running -= sum(1 for event in group if isinstance(event, _Finished))
                    self._raise_failures(futures)
                    pages = [event for event in group if isinstance(event, ListedPage)]
                    if pages:
                        yield pages
                for future in futures:
                    future.result()
            finally:
                stop.set()
