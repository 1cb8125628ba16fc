"""The Confluence Cloud connector behind the engine's Source interface (v2 API through the gateway)."""

from __future__ import annotations

import itertools
import logging
import threading
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
#: The most body text a source keeps between listing changes and fetching them (the rest is fetched by id).
KEPT_BODY_CHARS = 16_000_000


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
        self._kept: dict[str, ContentItem] = {}  # bodies a listing of changes brought, until fetched
        self._kept_chars = 0
        self._lock = threading.Lock()  # listing threads keep, preparing threads take

    def spaces(self, space_ids: Sequence[str] | None) -> list[SpaceRef]:
        if space_ids is not None and not space_ids:
            return []
        found = self.client.spaces(ids=space_ids) if space_ids else self.client.spaces()
        return [SpaceRef(space.id, space.key, space.name) for space in found if space.status == "current"]

    def list_page(self, space_id: str, kind: str, cursor: str | None) -> Listing:
        page = self.client.content_page(space_id, kind, cursor=cursor)
        return Listing(refs=[_ref(item) for item in page.items], next_cursor=page.next_cursor, as_of=page.as_of)

    def list_changed(self, space_id: str, kind: str, since: datetime, cursor: str | None) -> Listing:
        """v2 ``sort=-modified-date``: the first look asks for CHANGES_FIRST items (a space where nothing changed
        costs 2 points), each next page for CHANGES_GROWTH times more, up to 250. The cursor carries the next
        limit: ``"<limit> <checked next path>"``. The changed items come with their bodies, kept (up to
        KEPT_BODY_CHARS) until :meth:`fetch` asks for them: no second request and no second point for each."""
        limit, link = _changes_cursor(cursor)
        page = self.client.changes_page(space_id, kind, limit=limit, cursor=link, with_body=True)
        stamps = [item.modified_at for item in page.items if item.modified_at is not None]
        if any(later > earlier for earlier, later in itertools.pairwise(stamps)):
            # Stopping at the first older item is only right when the newest come first.
            raise IncompleteListing(
                "Confluence did not list the most recently modified pages first, so this listing of changes stops."
            )
        fresh = [item for item in page.items if item.modified_at is None or item.modified_at >= since]
        self._keep(fresh)
        following = None
        if len(fresh) == len(page.items) and page.next_cursor is not None:
            following = f"{min(limit * CHANGES_GROWTH, PAGE_LIMIT)} {page.next_cursor}"
        return Listing(refs=[_ref(item) for item in fresh], next_cursor=following, as_of=page.as_of)

    def _keep(self, items: Sequence[ContentItem]) -> None:
        with self._lock:
            for item in items:
                size = len(item.body or "")
                if item.body is not None and self._kept_chars + size <= KEPT_BODY_CHARS:
                    self._kept[item.id] = item
                    self._kept_chars += size

    def _kept_for(self, refs: Sequence[ContentRef]) -> dict[str, ContentItem]:
        """The kept bodies of these refs, at the listed version (each handed out once)."""
        found = {}
        with self._lock:
            for ref in refs:
                item = self._kept.pop(ref.source_id, None)
                if item is not None:
                    self._kept_chars -= len(item.body or "")
                    if item.version == ref.version and item.kind == ref.kind:
                        found[ref.source_id] = item
        return found

    def fetch(self, refs: Sequence[ContentRef]) -> Iterator[FetchedContent | ItemFailure | ItemGone]:
        kept = self._kept_for(refs)
        yield from (self._fetched(ref, kept[ref.source_id]) for ref in refs if ref.source_id in kept)
        by_id = {ref.source_id: ref for ref in refs if ref.source_id not in kept}
        if not by_id:
            return
        kind = next(iter(by_id.values())).kind
        try:
            items = {item.id: item for item in self.client.by_ids(kind, list(by_id))}
        except (ReconnectRequired, RateLimited):
            raise
        except AtlassianError as exc:
            logger.warning("fetching %d %ss at once failed (%s); fetching them one by one", len(refs), kind, exc)
            yield from (self._one(ref) for ref in by_id.values())  # not the kept ones: those are answered
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
