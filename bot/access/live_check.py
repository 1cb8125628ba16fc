"""The live check of per-person search (issue #12, design note §2): ask Confluence, as the searching person,
whether they may still view the top candidates whose synced ACL is older than the freshness bound.

v2 ``GET /wiki/api/v2/pages?id=1,2,…`` (and ``/blogposts?id=…``) answers only what the caller may view, so one
request per kind checks up to :data:`CHECK_BATCH` candidates: 1 point per request + 1 per object returned, at
most 2 requests and 10 points per check of 8. A candidate Confluence does not return is denied. When Confluence
cannot be asked (down, 5xx, timeouts, rate limited, the permission lane spent, any other refusal) the candidates
stay *unchecked*, and the caller shows none of them: never unfiltered. :class:`~bot.errors.ReconnectRequired`
(the person's grant is gone) is not caught here: nothing at all may be shown then.

Pure of the database: the caller reads candidates in a session, closes it, then checks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from urllib.parse import urlencode

from bot.confluence.budget import PointsBudget
from bot.confluence.gateway import Answer
from bot.errors import AtlassianError, ReconnectRequired

__all__ = [
    "CHECK_BATCH",
    "AccessCheck",
    "Candidate",
    "LiveChecker",
    "PersonGateway",
    "canonical_link",
    "needs_check",
    "short_link",
]

#: The most candidates one check asks about (design note §2: the top ≤ 8).
CHECK_BATCH = 8
_COLLECTIONS = {"page": "pages", "blogpost": "blogposts"}
_TINY_PREFIX = "/x/"
_TINY_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


class PersonGateway(Protocol):
    """What the check needs of a :class:`~bot.confluence.gateway.Gateway` built with the person's tokens."""

    budget: PointsBudget

    def get(self, url: str) -> Answer: ...


@dataclass(frozen=True, slots=True)
class Candidate:
    """One search hit's document, as the check needs it."""

    document_id: int
    source_id: str
    kind: str  # page | blogpost
    checked_at: datetime | None  # when its ACL was read (None: never)


@dataclass(frozen=True)
class AccessCheck:
    """What one check found: ``allowed`` (Confluence returned them to the person), ``denied`` (asked, not
    returned), ``unchecked`` (could not be asked). ``short_links`` maps allowed documents to Confluence's tinyui
    link (``_links.base`` + ``_links.tinyui``) when it sent a usable one."""

    allowed: frozenset[int] = frozenset()
    denied: frozenset[int] = frozenset()
    unchecked: frozenset[int] = frozenset()
    short_links: Mapping[int, str] = field(default_factory=dict)
    requests: int = 0
    points: int = 0


def needs_check(candidate: Candidate, *, now: datetime, bound: timedelta) -> bool:
    """Whether the candidate's ACL is older than the freshness bound (or was never read)."""
    return candidate.checked_at is None or _aware(candidate.checked_at) < now - bound


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def short_link(base: object, tinyui: object) -> str | None:
    """``https://x.atlassian.net/wiki/x/AbC`` from ``_links.base`` and ``_links.tinyui``, or None when either
    is not what Confluence sends (an https base URL ending in /wiki; ``/x/`` and URL-safe base64)."""
    if not isinstance(base, str) or not isinstance(tinyui, str):
        return None
    code = tinyui.removeprefix(_TINY_PREFIX)
    if not tinyui.startswith(_TINY_PREFIX) or not code or len(code) > 16 or not set(code) <= _TINY_CHARS:
        return None
    if not base.startswith(("https://", "http://")) or any(c.isspace() or c in "<>|\"'" for c in base):
        return None
    return base.rstrip("/") + tinyui


def canonical_link(page_url: str, source_id: str) -> str | None:
    """Confluence's id-only link, ``<site>/wiki/pages/viewpage.action?pageId=<id>`` (pages and blog posts
    alike), from a stored page URL (``<site>/wiki/spaces/…``): no title in it. None when the URL has no
    ``/wiki/`` or the id is not digits."""
    base, marker, _rest = page_url.partition("/wiki/")
    if not marker or not source_id.isdigit() or not base.startswith(("https://", "http://")):
        return None
    return f"{base}/wiki/pages/viewpage.action?pageId={source_id}"


class LiveChecker:
    """Checks candidates against Confluence through one person's gateway."""

    def __init__(self, gateway: PersonGateway) -> None:
        self._gateway = gateway

    def check(self, candidates: Sequence[Candidate]) -> AccessCheck:
        """Check up to :data:`CHECK_BATCH` candidates (the rest are unchecked). ReconnectRequired propagates."""
        asked = list(candidates[:CHECK_BATCH])
        unchecked = {c.document_id for c in candidates[CHECK_BATCH:]}
        allowed: set[int] = set()
        denied: set[int] = set()
        links: dict[int, str] = {}
        requests = points = 0
        for kind, collection in _COLLECTIONS.items():
            batch = [c for c in asked if c.kind == kind]
            if not batch:
                continue
            by_source = {c.source_id: c.document_id for c in batch}
            params = {"id": ",".join(by_source), "limit": len(by_source)}
            try:
                answer = self._gateway.get(f"/wiki/api/v2/{collection}?{urlencode(params)}")
            except ReconnectRequired:  # the person's grant is gone: the caller shows nothing at all
                raise
            except AtlassianError:  # down, failing, rate limited, the lane spent, refused: not checked
                unchecked |= set(by_source.values())
                continue
            requests += 1
            points += 1
            results = _results(answer.payload)
            if results is None:  # not Confluence's list shape: nothing learnt, nothing shown
                unchecked |= set(by_source.values())
                continue
            self._gateway.budget.spend(len(results))
            points += len(results)
            base = _links(answer.payload).get("base")
            returned: set[str] = set()
            for raw in results:
                source_id = raw.get("id")
                if isinstance(source_id, str) and source_id in by_source:  # never anything not asked for
                    returned.add(source_id)
                    link = short_link(base, _links(raw).get("tinyui"))
                    if link is not None:
                        links[by_source[source_id]] = link
            allowed |= {by_source[s] for s in returned}
            denied |= {document_id for source_id, document_id in by_source.items() if source_id not in returned}
        for c in asked:  # a kind this module does not know cannot be asked about: never shown unchecked
            if c.kind not in _COLLECTIONS:
                unchecked.add(c.document_id)
        return AccessCheck(
            allowed=frozenset(allowed),
            denied=frozenset(denied),
            unchecked=frozenset(unchecked),
            short_links=links,
            requests=requests,
            points=points,
        )


def _links(raw: Mapping[str, Any]) -> Mapping[str, Any]:
    links = raw.get("_links")
    return links if isinstance(links, dict) else {}


def _results(payload: Mapping[str, Any]) -> list[Mapping[str, Any]] | None:
    results = payload.get("results")
    if not isinstance(results, list):
        return None
    return [item for item in results if isinstance(item, dict)]
