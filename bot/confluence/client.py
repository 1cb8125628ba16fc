"""Confluence Cloud REST v2 client for one connection: spaces, pages and blog posts.

* Requests go through the connection's :class:`~bot.confluence.gateway.Gateway` (token, budget, retries, and
  what a 401/403/404 means).
* Lists follow ``_links.next`` or the ``Link`` header, distrusted as :mod:`bot.confluence.paging` describes: a
  bad, repeated or disagreeing next link raises IncompleteListing, so a listing never ends early in silence.
* A listing entry that is not an object, or has no id, is an error too: an entry skipped would be pruned.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

import httpx

from bot.atlassian.tokens import TokenSource
from bot.confluence.budget import DEFAULT_POINTS_PER_HOUR, PointsBudget, RequestBudget
from bot.confluence.cql import cql_string
from bot.confluence.gateway import DEFAULT_TIMEOUT, MAX_TRIES, Gateway, described
from bot.confluence.paging import CursorTrail, ListingUrl, next_page
from bot.errors import AtlassianError, IncompleteListing
from bot.settings import Settings
from storage.models import utcnow

__all__ = [
    "DEFAULT_POINTS_PER_HOUR",
    "ConfluenceClient",
    "ContentItem",
    "ContentPage",
    "RequestBudget",
    "Space",
]

PAGE_LIMIT = 250
ID_BATCH = 100
#: ``/pages?id=`` and ``/blogposts?id=`` accept up to 250 ids (the API's maxItems), one request per batch.
BODY_ID_BATCH = 250
#: Spaces counted by one CQL search (its query stays far below URL limits with 255-character keys).
COUNT_SPACES = 50


@dataclass(frozen=True)
class Space:
    id: str
    key: str
    name: str
    type: str
    status: str
    webui: str


@dataclass(frozen=True)
class ContentItem:
    """A page or blog post. ``modified_at`` is ``version.createdAt``; ``body`` is storage format, when fetched."""

    id: str
    kind: str  # page | blogpost
    title: str
    space_id: str
    parent_id: str | None
    version: int
    modified_at: datetime | None
    status: str
    webui: str
    body: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class ContentPage:
    """One page of a listing; ``next_cursor`` (the checked path of the next page) continues it, None at the end."""

    items: list[ContentItem]
    next_cursor: str | None
    as_of: datetime | None = None  # Atlassian's clock when it answered (its Date header), when known


def _text(value: object) -> str:
    return value if isinstance(value, str) else "" if value is None else str(value)


def _resumed(listing: ListingUrl, cursor: str | None) -> str:
    """The URL of ``listing``'s page at ``cursor`` (a stored next path, checked like a fresh one), or its first."""
    try:
        return listing.at(listing.cursor_of(cursor)) if cursor is not None else listing.at(None)
    except IncompleteListing as exc:
        raise IncompleteListing(
            f"The stored Confluence listing cursor does not belong to this listing: {exc}"
        ) from None


def _timestamp(value: object) -> datetime | None:
    """An ISO 8601 time in UTC; one without an offset is taken as UTC (Atlassian sends UTC), a bad one is None."""
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        moment = datetime.fromisoformat(value)
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def _links(raw: dict[str, Any]) -> dict[str, Any]:
    links = raw.get("_links")
    return links if isinstance(links, dict) else {}


def _content_from(raw: dict[str, Any], kind: str) -> ContentItem:
    if not raw.get("id"):
        raise AtlassianError(f"Confluence sent a {kind} without an id.")
    version_raw = raw.get("version")
    version: dict[str, Any] = version_raw if isinstance(version_raw, dict) else {}
    body = raw.get("body")
    storage = body.get("storage") if isinstance(body, dict) else None
    value = storage.get("value") if isinstance(storage, dict) else None
    number = version.get("number")
    return ContentItem(
        id=_text(raw["id"]),
        kind=kind,
        title=_text(raw.get("title")),
        space_id=_text(raw.get("spaceId")),
        parent_id=_text(raw["parentId"]) if raw.get("parentId") else None,
        version=number if isinstance(number, int) else 0,
        modified_at=_timestamp(version.get("createdAt")),
        status=_text(raw.get("status")),
        webui=_text(_links(raw).get("webui")),
        body=value if isinstance(value, str) else None,
    )


def _space_from(raw: dict[str, Any]) -> Space:
    if not raw.get("id"):
        raise AtlassianError("Confluence sent a space without an id.")
    return Space(
        id=_text(raw["id"]),
        key=_text(raw.get("key")),
        name=_text(raw.get("name")),
        type=_text(raw.get("type")),
        status=_text(raw.get("status")),
        webui=_text(_links(raw).get("webui")),
    )


def _collection(kind: str) -> str:
    return {"page": "pages", "blogpost": "blogposts"}[kind]


def _batches(values: Sequence[str] | None, size: int = ID_BATCH) -> Iterator[list[str]]:
    """``values`` in lists of ``size``; a single empty list (no filter) when there are none."""
    chunks = [list(values[start : start + size]) for start in range(0, len(values), size)] if values else []
    return iter(chunks or [[]])


class ConfluenceClient:
    """Reads one connection's Confluence site through the API gateway. Use as a context manager, or close()."""

    def __init__(
        self,
        settings: Settings,
        tokens: TokenSource,
        connection_id: int,
        cloud_id: str,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], datetime] = utcnow,
        budget: PointsBudget | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        max_tries: int = MAX_TRIES,
        rng: random.Random | None = None,
    ) -> None:
        self._gateway = Gateway(
            settings,
            tokens,
            connection_id,
            cloud_id,
            transport=transport,
            sleep=sleep,
            clock=clock,
            budget=budget,
            timeout=timeout,
            max_tries=max_tries,
            rng=rng,
        )
        self.wiki_base: str | None = None
        """``_links.base`` of the last answer (e.g. ``https://acme.atlassian.net/wiki``); None before any."""

    def close(self) -> None:
        self._gateway.close()

    @property
    def gateway(self) -> Gateway:
        """The connection's gateway (for readers of other endpoints, e.g. bot.confluence.permissions)."""
        return self._gateway

    def __enter__(self) -> ConfluenceClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def web_url(self, item: ContentItem | Space) -> str | None:
        """The clickable link of ``item`` (``_links.base`` + ``webui``), once the base is known."""
        return self.wiki_base + item.webui if self.wiki_base is not None and item.webui else None

    # ----- public reads ------------------------------------------------------------------------
    def spaces(self, keys: Sequence[str] | None = None, *, ids: Sequence[str] | None = None) -> Iterator[Space]:
        """Every space the connection can see, or just those with the given ``keys`` / ``ids``."""
        name, values = ("ids", ids) if ids else ("keys", keys)
        for batch in _batches(values):
            params: dict[str, str | int] = {"limit": PAGE_LIMIT, **({name: ",".join(batch)} if batch else {})}
            for raw in self._paged(f"/wiki/api/v2/spaces?{urlencode(params)}"):
                yield _space_from(raw)

    def pages(self, space_id: str, *, with_body: bool) -> Iterator[ContentItem]:
        """The space's pages (current and archived), with their storage-format bodies when ``with_body``."""
        for raw in self._paged(self._listing_url(space_id, "page", with_body)):
            yield _content_from(raw, "page")

    def blogposts(self, space_id: str, *, with_body: bool) -> Iterator[ContentItem]:
        """The space's current blog posts, with their storage-format bodies when ``with_body``."""
        for raw in self._paged(self._listing_url(space_id, "blogpost", with_body)):
            yield _content_from(raw, "blogpost")

    def content_page(
        self, space_id: str, kind: str, *, with_body: bool = False, cursor: str | None = None
    ) -> ContentPage:
        """One page of a space's pages or blog posts, for checkpointed listing.

        ``cursor`` is a previous answer's ``next_cursor``, maybe stored by a run before a restart: it is checked
        like a fresh next link, so only a page of this very listing is ever asked for. (Loops across calls are
        the caller's to notice: see :class:`bot.sync.listing.ParallelListing`.)
        """
        listing = ListingUrl.of(self._listing_url(space_id, kind, with_body))
        url = _resumed(listing, cursor)
        results, following, as_of = self._list_once(listing, url)
        return ContentPage([_content_from(raw, kind) for raw in results], following, as_of)

    def changes_page(
        self, space_id: str, kind: str, *, limit: int, cursor: str | None = None, with_body: bool = False
    ) -> ContentPage:
        """One page of a space's pages or blog posts, the most recently modified first (v2
        ``sort=-modified-date``), ``limit`` of them: the caller stops once it reaches what it already has. The
        limit is not part of the listing, so each page may ask for more than the last (a first look costs one
        item); ``cursor`` is checked like :meth:`content_page`'s. With ``with_body`` each item comes with its
        storage-format body (no more points: Atlassian counts objects, not their size)."""
        listing = ListingUrl.of(self._changes_url(space_id, kind, with_body))
        url = _resumed(listing, cursor)
        results, following, as_of = self._list_once(listing, f"{url}&limit={max(1, min(limit, PAGE_LIMIT))}")
        return ContentPage([_content_from(raw, kind) for raw in results], following, as_of)

    def count(self, space_keys: Sequence[str], kinds: Sequence[str]) -> int | None:
        """About how many current items of ``kinds`` the spaces hold: CQL search's ``totalSize`` (one request of
        one result, 2 points, per COUNT_SPACES spaces; Atlassian may round it); None when an answer has none."""
        types = ", ".join(kind for kind in kinds if kind.isalpha())
        total = 0
        for batch in _batches(space_keys, COUNT_SPACES):
            if not batch or not types:
                return 0
            cql = f"space in ({', '.join(cql_string(key) for key in batch)}) and type in ({types})"
            payload = self._gateway.get(f"/wiki/rest/api/search?{urlencode({'cql': cql, 'limit': 1})}").payload
            results = payload.get("results")
            self._gateway.budget.spend(len(results) if isinstance(results, list) else 0)
            size = payload.get("totalSize")
            if not isinstance(size, int) or isinstance(size, bool) or size < 0:
                return None
            total += size
        return total

    def by_ids(self, kind: str, ids: Sequence[str]) -> Iterator[ContentItem]:
        """The pages or blog posts with these ids, with bodies, 250 per request; ids not returned are gone
        (deleted, trashed or no longer visible)."""
        for batch in _batches(ids, BODY_ID_BATCH):
            if batch:
                params = {"id": ",".join(batch), "body-format": "storage", "limit": PAGE_LIMIT}
                for raw in self._paged(f"/wiki/api/v2/{_collection(kind)}?{urlencode(params)}"):
                    yield _content_from(raw, kind)

    def page(self, page_id: str) -> ContentItem:
        """One page with its storage-format body; AtlassianRequestError (status 404) when it is gone."""
        return self._single("page", page_id)

    def blogpost(self, blogpost_id: str) -> ContentItem:
        """One blog post with its storage-format body; AtlassianRequestError (status 404) when it is gone."""
        return self._single("blogpost", blogpost_id)

    # ----- plumbing ----------------------------------------------------------------------------
    @staticmethod
    def _listing_url(space_id: str, kind: str, with_body: bool) -> str:
        params: dict[str, str | int] = {"limit": PAGE_LIMIT, **({"body-format": "storage"} if with_body else {})}
        return f"/wiki/api/v2/spaces/{quote(space_id, safe='')}/{_collection(kind)}?{urlencode(params)}"

    @staticmethod
    def _changes_url(space_id: str, kind: str, with_body: bool) -> str:
        body = "&body-format=storage" if with_body else ""
        return f"/wiki/api/v2/spaces/{quote(space_id, safe='')}/{_collection(kind)}?sort=-modified-date{body}"

    def _single(self, kind: str, content_id: str) -> ContentItem:
        url = f"/wiki/api/v2/{_collection(kind)}/{quote(content_id, safe='')}?body-format=storage"
        payload = self._gateway.get(url).payload
        self._gateway.budget.spend(1)
        self._note_base(payload)
        return _content_from(payload, kind)

    def _list_once(self, listing: ListingUrl, url: str) -> tuple[list[dict[str, Any]], str | None, datetime | None]:
        """One page of ``listing`` (at ``url``): its entries, the checked URL of the next page and Atlassian's
        clock when it answered."""
        answer = self._gateway.get(url)
        self._note_base(answer.payload)
        results = answer.payload.get("results")
        if not isinstance(results, list):
            raise AtlassianError(f"Confluence answered {described(url)} without a list of results.")
        self._gateway.budget.spend(len(results))
        if not all(isinstance(raw, dict) for raw in results):
            raise IncompleteListing(f"Confluence listed something that is not an object in {described(url)}.")
        return results, next_page(listing, answer.payload, answer.links), answer.date

    def _paged(self, url: str) -> Iterator[dict[str, Any]]:
        listing, trail = ListingUrl.of(url), CursorTrail()
        following: str | None = url
        while following is not None:
            results, nxt, _as_of = self._list_once(listing, following)
            yield from results
            following = trail.follow(nxt)

    def _note_base(self, payload: dict[str, Any]) -> None:
        base = _links(payload).get("base")
        if isinstance(base, str) and base.startswith(("https://", "http://")):
            self.wiki_base = base.rstrip("/")
