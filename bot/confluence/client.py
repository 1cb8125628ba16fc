"""Confluence Cloud REST v2 client for one connection: spaces, pages and blog posts, with faults handled.

* One ``httpx.Client`` per connection at ``{ATLASSIAN_API_URL}/ex/confluence/{cloud_id}``, explicit timeouts,
  Bearer from the :class:`~bot.atlassian.tokens.TokenManager` (a 401 forces one refresh, then one more try).
* Lists are paged **only** by following ``_links.next`` (checked by ``next_path``), at most MAX_PAGES pages.
* Every call is a GET, so every call is retried: ``Retry-After`` is honoured on 429 and 503 (clamped to 1–120 s);
  5xx, timeouts, connection errors and broken JSON back off exponentially with jitter; then AtlassianUnavailable.
  A 429 asking for more than 120 s means the quota is gone: RateLimited at once, carrying when to resume.
* Every request draws from the app-wide :class:`RequestBudget`; an empty budget raises RateLimited too.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import httpx

from bot.atlassian.tokens import AccessToken, TokenManager
from bot.confluence.paging import next_path
from bot.errors import AtlassianError, AtlassianRequestError, AtlassianUnavailable, RateLimited
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

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=5.0)
PAGE_LIMIT = 250
ID_BATCH = 100
#: ``/pages?id=`` and ``/blogposts?id=`` accept up to 250 ids (the API's maxItems), one request per batch.
BODY_ID_BATCH = 250
#: 250 items × 10,000 pages = 2.5 million per listing: far beyond a real space, and a bound on a looping ``next``.
MAX_PAGES = 10_000
MAX_TRIES = 5
BACKOFF_START = 0.5
BACKOFF_CAP = 30.0
RETRY_AFTER_MIN = 1.0
RETRY_AFTER_MAX = 120.0
#: Below Atlassian's Tier 1 quota of 65,000 points an hour, which all tenants of the app share.
DEFAULT_POINTS_PER_HOUR = 60_000


class RequestBudget:
    """Thread-safe token bucket of request points refilled evenly over the hour. :meth:`take` raises RateLimited
    (with when the points will be back) rather than block; :meth:`spend` charges objects read, maybe into debt."""

    def __init__(self, points_per_hour: int = DEFAULT_POINTS_PER_HOUR, *, clock: Callable[[], datetime] = utcnow):
        if points_per_hour <= 0:
            raise ValueError("points_per_hour must be positive")
        self._capacity = float(points_per_hour)
        self._per_second = points_per_hour / 3600.0
        self._clock = clock
        self._level = self._capacity
        self._updated = clock()
        self._lock = threading.Lock()

    def _refill(self, now: datetime) -> None:
        elapsed = max(0.0, (now - self._updated).total_seconds())
        self._level = min(self._capacity, self._level + elapsed * self._per_second)
        self._updated = now

    @property
    def available(self) -> float:
        with self._lock:
            self._refill(self._clock())
            return self._level

    def take(self, points: int = 1) -> None:
        with self._lock:
            now = self._clock()
            self._refill(now)
            if self._level < points:
                until = now + timedelta(seconds=(points - self._level) / self._per_second)
                raise RateLimited(
                    until, f"The bot's own Confluence request budget is used up; resuming at {until:%H:%M} UTC."
                )
            self._level -= points

    def spend(self, points: int) -> None:
        with self._lock:
            self._refill(self._clock())
            self._level -= points


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
    """One page of a listing; ``next_cursor`` (the ``_links.next`` path) continues it, None at the end."""

    items: list[ContentItem]
    next_cursor: str | None


def _text(value: object) -> str:
    return value if isinstance(value, str) else "" if value is None else str(value)


def _timestamp(value: object) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
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


def _retry_after(response: httpx.Response) -> float | None:
    try:
        seconds = float(response.headers.get("Retry-After", ""))
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


def _json_object(response: httpx.Response) -> dict[str, Any] | None:
    try:
        payload = response.json()
    except ValueError:
        return None
    return payload if isinstance(payload, dict) else None


def _collection(kind: str) -> str:
    return {"page": "pages", "blogpost": "blogposts"}[kind]


def _batches(values: Sequence[str] | None, size: int = ID_BATCH) -> Iterator[list[str]]:
    """``values`` in lists of ``size``; a single empty list (no filter) when there are none."""
    chunks = [list(values[start : start + size]) for start in range(0, len(values), size)] if values else []
    return iter(chunks or [[]])


def _described(url: str) -> str:
    """The path of ``url`` without its query (cursors are long and say nothing to a person)."""
    return urlsplit(url).path


class ConfluenceClient:
    """Reads one connection's Confluence site through the API gateway. Use as a context manager, or close()."""

    def __init__(
        self,
        settings: Settings,
        tokens: TokenManager,
        connection_id: int,
        cloud_id: str,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], datetime] = utcnow,
        budget: RequestBudget | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        max_tries: int = MAX_TRIES,
        rng: random.Random | None = None,
    ) -> None:
        self._tokens = tokens
        self._connection_id = connection_id
        self._sleep = sleep
        self._clock = clock
        self._budget = budget or RequestBudget(clock=clock)
        self._max_tries = max(1, max_tries)
        self._random = rng or random.Random()
        self._http = httpx.Client(
            base_url=f"{settings.atlassian_api_url}/ex/confluence/{quote(cloud_id, safe='')}",
            timeout=timeout,
            transport=transport,
            headers={"Accept": "application/json"},
        )
        self.wiki_base: str | None = None
        """``_links.base`` of the last answer (e.g. ``https://acme.atlassian.net/wiki``); None before any."""

    def close(self) -> None:
        self._http.close()

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

        ``cursor`` is a previous answer's ``next_cursor`` (its ``_links.next``): only a cursor of this very
        listing is accepted, so a stored one cannot point the client anywhere else.
        """
        url = self._listing_url(space_id, kind, with_body)
        if cursor is not None:
            if not cursor.startswith(url.partition("?")[0] + "?") or next_path({"_links": {"next": cursor}}) != cursor:
                raise AtlassianError("The stored Confluence listing cursor does not belong to this listing.")
            url = cursor
        results, following = self._list_once(url)
        return ContentPage([_content_from(raw, kind) for raw in results], following)

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

    def _single(self, kind: str, content_id: str) -> ContentItem:
        payload = self._get_json(f"/wiki/api/v2/{_collection(kind)}/{quote(content_id, safe='')}?body-format=storage")
        self._budget.spend(1)
        self._note_base(payload)
        return _content_from(payload, kind)

    def _list_once(self, url: str) -> tuple[list[dict[str, Any]], str | None]:
        payload = self._get_json(url)
        self._note_base(payload)
        results = payload.get("results")
        if not isinstance(results, list):
            raise AtlassianError(f"Confluence answered {_described(url)} without a list of results.")
        self._budget.spend(len(results))
        return [raw for raw in results if isinstance(raw, dict)], next_path(payload)

    def _paged(self, url: str) -> Iterator[dict[str, Any]]:
        following: str | None = url
        for _ in range(MAX_PAGES):
            if following is None:
                return
            results, following = self._list_once(following)
            yield from results
        raise AtlassianError(f"Confluence kept sending next-page links after {MAX_PAGES} pages of {_described(url)}.")

    def _note_base(self, payload: dict[str, Any]) -> None:
        base = _links(payload).get("base")
        if isinstance(base, str) and base.startswith(("https://", "http://")):
            self.wiki_base = base.rstrip("/")

    def _backoff(self, attempt: int) -> float:
        return min(BACKOFF_CAP, BACKOFF_START * 2.0 ** (attempt - 1)) * self._random.uniform(0.7, 1.3)

    def _get_json(self, url: str) -> dict[str, Any]:
        """GET ``url`` (relative to the gateway base) as a JSON object, with the retries described above."""
        token = self._tokens.current(self._connection_id)
        refreshed = False
        attempt = 0
        while True:
            self._budget.take(1)
            outcome = self._attempt(url, token)
            if isinstance(outcome, dict):
                return outcome
            problem, wait = outcome
            if problem == "401":
                if refreshed:
                    raise AtlassianRequestError(401, "Confluence refused the connection's token even after a refresh.")
                token = self._tokens.force_refresh(self._connection_id, token.version)
                refreshed = True
                continue
            attempt += 1
            delay = min(max(wait, RETRY_AFTER_MIN), RETRY_AFTER_MAX) if wait is not None else self._backoff(attempt)
            if attempt >= self._max_tries:
                if problem == "429":
                    raise RateLimited(self._clock() + timedelta(seconds=delay))
                raise AtlassianUnavailable(
                    f"Confluence kept failing on {_described(url)} ({problem}) after {attempt} tries."
                )
            self._sleep(delay)

    def _attempt(self, url: str, token: AccessToken) -> dict[str, Any] | tuple[str, float | None]:
        """The JSON object, or (what went wrong, the Retry-After to honour) for a retry."""
        try:
            response = self._http.get(url, headers={"Authorization": f"Bearer {token.value}"})
        except httpx.TransportError as exc:  # timeouts, refused or dropped connections
            return type(exc).__name__, None
        status = response.status_code
        if status == 200:
            payload = _json_object(response)
            return payload if payload is not None else ("a reply that is not JSON", None)
        if status == 401:
            return "401", None
        if status in (429, 503):
            wait = _retry_after(response)
            if status == 429 and wait is not None and wait > RETRY_AFTER_MAX:
                raise RateLimited(self._clock() + timedelta(seconds=wait))
            return str(status), wait
        if status >= 500:
            return str(status), None
        raise AtlassianRequestError(status, f"Confluence answered {status} to {_described(url)}.")
