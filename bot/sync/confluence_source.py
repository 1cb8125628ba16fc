"""The Confluence Cloud connector behind the engine's Source interface (v2 API through the gateway)."""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

import httpx

from bot.atlassian.tokens import TokenManager
from bot.confluence.budget import PointsBudget
from bot.confluence.client import PAGE_LIMIT, ConfluenceClient, ContentItem
from bot.errors import AtlassianError, AtlassianRequestError, IncompleteListing, RateLimited, ReconnectRequired
from bot.services import Services
from bot.sync.source import ContentRef, FetchedContent, ItemFailure, ItemGone, Listing, SpaceRef
from storage.connections import get_connection
from storage.models import Datastore
from storage.states import ConnectionStatus

__all__ = ["ConfluenceSource", "ConfluenceSources"]

logger = logging.getLogger(__name__)


#: Items the first look of a listing of changes asks for, and how much more each next page asks for.
CHANGES_FIRST = 1
CHANGES_GROWTH = 10


def _changes_cursor(cursor: str | None) -> tuple[int, str | None]:
    """The limit and next path a listing of changes stored; a cursor not in that form asks for a full page."""
    if cursor is None:
        return CHANGES_FIRST, None
    limit, _, link = cursor.partition(" ")
    if limit.isdigit() and link:
        return max(1, min(int(limit), PAGE_LIMIT)), link
    return PAGE_LIMIT, cursor


def _ref(item: ContentItem) -> ContentRef:
    return ContentRef(item.id, item.kind, item.space_id, item.title, item.version, item.modified_at, item.webui)


class ConfluenceSource:
    kinds: tuple[str, ...] = ("page", "blogpost")

    def __init__(self, client: ConfluenceClient) -> None:
        self.client = client

    def spaces(self, space_ids: Sequence[str] | None) -> list[SpaceRef]:
        if space_ids is not None and not space_ids:
            return []
        found = self.client.spaces(ids=space_ids) if space_ids else self.client.spaces()
        return [SpaceRef(space.id, space.key, space.name) for space in found if space.status == "current"]

    def estimate(self, spaces: Sequence[SpaceRef]) -> int | None:
        """CQL search's ``totalSize`` (2 points per 50 spaces). Only a count: one that fails costs the run
        nothing but its "about N pages"."""
        try:
            return self.client.count([space.key for space in spaces], self.kinds)
        except (ReconnectRequired, RateLimited):
            raise
        except AtlassianError as exc:
            logger.info("counting the pages of %d spaces failed (%s); the thread shows no total", len(spaces), exc)
            return None

    def list_page(self, space_id: str, kind: str, cursor: str | None, *, with_bodies: bool = False) -> Listing:
        """One page of a space's listing from ``cursor``. A listing with bodies that Confluence keeps failing (a
        body it cannot render fails the whole page: CONFCLOUD-76433) is asked again without them, from the same
        cursor (both listings take each other's cursors): its items are then fetched by id, one by one if need
        be, so one bad body costs that item, not the space."""
        try:
            page = self.client.content_page(space_id, kind, cursor=cursor, with_body=with_bodies)
        except (ReconnectRequired, RateLimited, IncompleteListing):
            raise
        except AtlassianError as exc:
            if not with_bodies:
                raise
            logger.warning("listing %ss of space %s with bodies failed (%s); listing them without", kind, space_id, exc)
            page = self.client.content_page(space_id, kind, cursor=cursor, with_body=False)
        refs = [_ref(item) for item in page.items]
        fetched = self._bodied(page.items) if with_bodies else []
        return Listing(refs=refs, next_cursor=page.next_cursor, as_of=page.as_of, fetched=fetched)

    def list_changed(self, space_id: str, kind: str, since: datetime, cursor: str | None) -> Listing:
        """v2 ``sort=-modified-date``: the first look asks for CHANGES_FIRST items (a space where nothing changed
        costs 2 points), each next page for CHANGES_GROWTH times more, up to 250. The cursor carries the next
        limit: ``"<limit> <checked next path>"``. The changed items come with their bodies: no second request
        and no second point for each."""
        limit, link = _changes_cursor(cursor)
        page = self.client.changes_page(space_id, kind, limit=limit, cursor=link, with_body=True)
        stamps = [item.modified_at for item in page.items if item.modified_at is not None]
        if any(later > earlier for earlier, later in itertools.pairwise(stamps)):
            # Stopping at the first older item is only right when the newest come first.
            raise IncompleteListing(
                "Confluence did not list the most recently modified pages first, so this listing of changes stops."
            )
        fresh = [item for item in page.items if item.modified_at is None or item.modified_at >= since]
        following = None
        if len(fresh) == len(page.items) and page.next_cursor is not None:
            following = f"{min(limit * CHANGES_GROWTH, PAGE_LIMIT)} {page.next_cursor}"
        return Listing(
            refs=[_ref(item) for item in fresh], next_cursor=following, as_of=page.as_of, fetched=self._bodied(fresh)
        )

    def _bodied(self, items: Sequence[ContentItem]) -> list[FetchedContent]:
        """The listed items that came with a body (an item without one is fetched by id later)."""
        return [
            FetchedContent(_ref(item), self.client.web_url(item) or "", item.body)
            for item in items
            if item.body is not None
        ]

    def fetch(self, refs: Sequence[ContentRef]) -> Iterator[FetchedContent | ItemFailure | ItemGone]:
        by_id = {ref.source_id: ref for ref in refs}
        if not by_id:
            return
        kind = next(iter(by_id.values())).kind
        try:
            items = {item.id: item for item in self.client.by_ids(kind, list(by_id))}
        except (ReconnectRequired, RateLimited):
            raise
        except AtlassianError as exc:
            logger.warning("fetching %d %ss at once failed (%s); fetching them one by one", len(refs), kind, exc)
            yield from (self._one(ref) for ref in by_id.values())
            return
        for source_id, ref in by_id.items():
            item = items.get(source_id)
            yield ItemGone(source_id) if item is None else self._fetched(ref, item)

    def _one(self, ref: ContentRef) -> FetchedContent | ItemFailure | ItemGone:
        try:
            item = self.client.page(ref.source_id) if ref.kind == "page" else self.client.blogpost(ref.source_id)
        except (ReconnectRequired, RateLimited):
            raise
        except AtlassianRequestError as exc:
            if exc.status == 404:
                return ItemGone(ref.source_id)
            return ItemFailure(ref.source_id, ref.title, f"Confluence refused it ({exc.status})")
        except AtlassianError as exc:
            return ItemFailure(ref.source_id, ref.title, str(exc))
        return self._fetched(ref, item)

    def _fetched(self, ref: ContentRef, item: ContentItem) -> FetchedContent | ItemFailure:
        if item.body is None:
            return ItemFailure(ref.source_id, ref.title, "Confluence sent the page without its content")
        current = _ref(item)  # the fetched version wins over the listed one (it may have changed since)
        return FetchedContent(ref=current, url=self.client.web_url(item) or "", body=item.body)

    def close(self) -> None:
        self.client.close()


@dataclass
class ConfluenceSources:
    """Builds the Source of a datastore: its connection's client, sharing tokens and the app-wide budget."""

    services: Services
    tokens: TokenManager
    budget: PointsBudget
    transport: httpx.BaseTransport | None = None
    sleep: Callable[[float], None] = time.sleep

    def __call__(self, datastore: Datastore) -> ConfluenceSource:
        with self.services.sessions() as session:
            connection = (
                get_connection(session, connection_id=datastore.connection_id) if datastore.connection_id else None
            )
            if connection is None:
                raise ReconnectRequired("This datastore has no Confluence connection any more.")
            if connection.status == ConnectionStatus.NEEDS_RECONNECT:
                raise ReconnectRequired("The Confluence connection needs to be reconnected.")
            connection_id, cloud_id = connection.id, connection.cloud_id
        client = ConfluenceClient(
            self.services.settings,
            self.tokens,
            connection_id,
            cloud_id,
            transport=self.transport,
            budget=self.budget,
            sleep=self.sleep,
        )
        return ConfluenceSource(client)
