"""Reading who may see what from Confluence Cloud, as the connection (issue #12 step 3), for permission passes.

Endpoints, chosen for points (1 per request + 1 per page/blog post + 2 per user, group or permission object):

* **Space view permission**: v2 ``GET /wiki/api/v2/spaces/{id}/permissions`` (cursor-paged, 250 each), the
  assignments whose operation is ``read``/``space``. A user is ``u:<accountId>``, a group ``g:<groupId>``, an
  access class (principal type ``role``/``access_class`` with id ``anonymous-users``, ``authenticated-users``
  or ``all-licensed-users``) its ``c:`` key; any other principal is unknown (nobody holds it).
* **Read restrictions and ancestors of a whole space in one listing**: v1 CQL search
  ``/wiki/rest/api/content/search?cql=space="KEY" and type in (page,blogpost) order by id`` with
  ``expand=ancestors,restrictions.read.restrictions.user,restrictions.read.restrictions.group``, 200 per
  page (the cap of an expanded v1 listing). An unrestricted page costs 1 point plus its share of the request;
  a restricted one 2 more per user or group it names. Ancestors come as ids only: their restrictions are
  those of the same listing (a restriction on a page applies to every descendant), and an ancestor the listing
  did not carry (a folder, an archived parent) is read on its own with
  ``/wiki/rest/api/content/{id}/restriction/byOperation/read``.
* **Just some documents** (the new ones a sync added): the same CQL search with ``id in (…)``.

Paging follows :mod:`bot.confluence.paging`: a v1 ``_links.next`` is relative to ``_links.context``
(``/wiki``), so it is read as ``/wiki`` + next and then held to the same rules as a v2 link (same path, one
cursor, nothing of ours changed) and only its cursor is used. A restriction list that came back full (its
``size`` is its ``limit``) is read on with ``start`` until it does not.

Never wider, whatever Confluence answers: a restriction that cannot be read (a refusal, an entry that is not
an object, a principal without a usable id) becomes ``[UNKNOWN]``, which nobody holds; space permissions that
cannot be read are ``None`` (nobody may view the space). RateLimited, AtlassianUnavailable, ReconnectRequired
and IncompleteListing of the content listing go to the caller: the pass is incomplete and prunes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import quote, urlencode

from bot.access.model import ALL_LICENSED, ANONYMOUS, AUTHENTICATED, UNKNOWN, group_key, group_name_key, user_key
from bot.confluence.cql import cql_string
from bot.confluence.gateway import Answer, Gateway, described
from bot.confluence.paging import CursorTrail, ListingUrl, next_page
from bot.errors import AtlassianError, AtlassianRequestError, IncompleteListing

__all__ = ["CQL_PAGE", "ContentFacts", "PermissionReader", "space_clause_of"]

CQL_PAGE: Final = 200
PERMISSIONS_PAGE: Final = 250
RESTRICTION_PAGE: Final = 100
#: ``id in (…)`` ids per CQL search (the query string stays far below URL limits).
ID_BATCH: Final = 100
#: Identity objects (users, groups, permissions) cost 2 points each, 1 more than the core object the client
#: already counts per listed entry.
IDENTITY_POINTS: Final = 2
EXPAND: Final = "ancestors,restrictions.read.restrictions.user,restrictions.read.restrictions.group"
_CLASSES: Final = {
    "anonymous-users": ANONYMOUS,
    "authenticated-users": AUTHENTICATED,
    "all-licensed-users": ALL_LICENSED,
}
_CLASS_TYPES: Final = frozenset({"role", "access_class"})
#: Restrictions a page may name before we stop reading and call it unknown (a bound on an endless list).
MAX_RESTRICTION_PAGES: Final = 100


@dataclass(frozen=True, slots=True)
class ContentFacts:
    """What Confluence said about one page or blog post: its own read restriction (``()`` none, principal keys
    otherwise, ``(UNKNOWN,)`` unreadable) and its ancestors' ids (None when they could not be read)."""

    id: str
    kind: str
    space_key: str
    own: tuple[str, ...]
    ancestors: tuple[str, ...] | None


def space_clause_of(assignments: Sequence[object]) -> frozenset[str]:
    """The principal keys holding ``read``/``space`` among v2 space permission assignments (odd ones unknown)."""
    keys: set[str] = set()
    for raw in assignments:
        if not isinstance(raw, dict):
            keys.add(UNKNOWN)
            continue
        operation = raw.get("operation")
        if not isinstance(operation, dict) or (operation.get("key"), operation.get("targetType")) != ("read", "space"):
            continue
        principal = raw.get("principal")
        kind = principal.get("type") if isinstance(principal, dict) else None
        ident = principal.get("id") if isinstance(principal, dict) else None
        kind = kind.lower() if isinstance(kind, str) else None
        if kind == "user":
            keys.add(user_key(ident))
        elif kind == "group":
            keys.add(group_key(ident))
        elif kind in _CLASS_TYPES and isinstance(ident, str):
            keys.add(_CLASSES.get(ident.lower(), UNKNOWN))
        else:
            keys.add(UNKNOWN)
    return frozenset(keys)


def _restriction_lists(read: object) -> tuple[list[Any], list[Any], bool] | None:
    """(users, groups, whether either list came back full) of a v1 read restriction; None when malformed."""
    if not isinstance(read, dict):
        return None
    restrictions = read.get("restrictions")
    if not isinstance(restrictions, dict):
        return None
    lists: list[list[Any]] = []
    full = False
    for name in ("user", "group"):
        part = restrictions.get(name)
        if not isinstance(part, dict) or not isinstance(results := part.get("results"), list):
            return None
        limit, size = part.get("limit"), part.get("size", len(results))
        full = full or (isinstance(limit, int) and limit > 0 and isinstance(size, int) and size >= limit)
        lists.append(results)
    return lists[0], lists[1], full


def _principals(users: list[Any], groups: list[Any]) -> set[str]:
    keys: set[str] = set()
    for user in users:
        keys.add(user_key(user.get("accountId")) if isinstance(user, dict) else UNKNOWN)
    for group in groups:
        if not isinstance(group, dict):
            keys.add(UNKNOWN)
        elif group.get("id"):
            keys.add(group_key(group.get("id")))
        else:
            keys.add(group_name_key(group.get("name")))
    return keys


class PermissionReader:
    """Permission facts of one connection's site, through its :class:`~bot.confluence.gateway.Gateway` (whose
    budget should be the :class:`~bot.confluence.budget.PermissionLane`)."""

    def __init__(self, gateway: Gateway, *, page_size: int = CQL_PAGE) -> None:
        self._gateway = gateway
        self._page_size = page_size
        self.requests = 0

    # ----- space permissions -------------------------------------------------------------------
    def space_readers(self, space_id: str) -> frozenset[str] | None:
        """Who may view the space (principal keys); None when its permissions cannot be read (→ nobody)."""
        url = f"/wiki/api/v2/spaces/{quote(space_id, safe='')}/permissions?{urlencode({'limit': PERMISSIONS_PAGE})}"
        try:
            assignments = list(self._paged(url, identity=True))
        except AtlassianRequestError:
            return None
        except IncompleteListing:
            return None
        return space_clause_of(assignments) or None

    # ----- content -----------------------------------------------------------------------------
    def space_content(self, space_key: str) -> Iterator[ContentFacts]:
        """Every page and blog post of the space the connection can see, with restriction and ancestors."""
        cql = f"space = {cql_string(space_key)} and type in (page, blogpost) order by id"
        yield from self._search(cql, space_key)

    def content(self, space_key: str, ids: Sequence[str]) -> Iterator[ContentFacts]:
        """The facts of these pages and blog posts (of one space); ids not returned are gone or hidden."""
        for start in range(0, len(ids), ID_BATCH):
            batch = [i for i in ids[start : start + ID_BATCH] if i.isdigit()]
            if batch:
                cql = f"space = {cql_string(space_key)} and id in ({', '.join(batch)}) order by id"
                yield from self._search(cql, space_key)

    def restriction(self, content_id: str) -> tuple[str, ...]:
        """One content's own read restriction (``()`` when none); ``(UNKNOWN,)`` when it cannot be read."""
        if not content_id.isdigit():
            return (UNKNOWN,)
        try:
            return self._restriction_from(content_id, 0, set())
        except (AtlassianRequestError, IncompleteListing):
            return (UNKNOWN,)

    # ----- plumbing ----------------------------------------------------------------------------
    def _search(self, cql: str, space_key: str) -> Iterator[ContentFacts]:
        params = {"cql": cql, "limit": self._page_size, "expand": EXPAND}
        for raw in self._paged(f"/wiki/rest/api/content/search?{urlencode(params)}", identity=False):
            yield self._facts(raw, space_key)

    def _facts(self, raw: Any, space_key: str) -> ContentFacts:
        if not isinstance(raw, dict) or not raw.get("id"):
            raise IncompleteListing("Confluence listed content without an id, so this listing stops here.")
        content_id, kind = str(raw["id"]), str(raw.get("type") or "page")
        restrictions = raw.get("restrictions")
        read = restrictions.get("read") if isinstance(restrictions, dict) else None
        lists = _restriction_lists(read)
        own: tuple[str, ...]
        if lists is None:
            own = (UNKNOWN,)
        else:
            users, groups, full = lists
            self._gateway.budget.spend(IDENTITY_POINTS * (len(users) + len(groups)))
            keys = _principals(users, groups)
            if full:
                try:
                    keys = set(self._restriction_from(content_id, 0, set()))  # read it all, a page at a time
                except (AtlassianRequestError, IncompleteListing):
                    keys = {UNKNOWN}
            own = tuple(sorted(keys))
        ancestors_raw = raw.get("ancestors")
        ancestors: tuple[str, ...] | None = None
        if isinstance(ancestors_raw, list) and all(isinstance(a, dict) and a.get("id") for a in ancestors_raw):
            ancestors = tuple(str(a["id"]) for a in ancestors_raw)
        return ContentFacts(content_id, kind, space_key, own, ancestors)

    def _restriction_from(self, content_id: str, start: int, keys: set[str]) -> tuple[str, ...]:
        """The read restriction's principals from ``start`` on, added to ``keys``; a page at a time while a list
        comes back full."""
        path = f"/wiki/rest/api/content/{quote(content_id, safe='')}/restriction/byOperation/read"
        found = set(keys)
        for _ in range(MAX_RESTRICTION_PAGES):
            answer = self._get(f"{path}?{urlencode({'start': start, 'limit': RESTRICTION_PAGE})}")
            lists = _restriction_lists(answer)
            if lists is None:
                return (UNKNOWN,)
            users, groups, full = lists
            self._gateway.budget.spend(IDENTITY_POINTS * (len(users) + len(groups)))
            found |= _principals(users, groups)
            if not full:
                return tuple(sorted(found))
            start += RESTRICTION_PAGE
        return (UNKNOWN,)

    def _get(self, url: str) -> dict[str, Any]:
        return self._answer(url).payload

    def _answer(self, url: str) -> Answer:
        """One GET, counted in ``requests`` once Confluence answered (a refusal is an answer too)."""
        try:
            answer = self._gateway.get(url)
        except AtlassianRequestError:
            self.requests += 1
            raise
        self.requests += 1
        return answer

    def _paged(self, url: str, *, identity: bool) -> Iterator[Any]:
        """Every entry of a v2 or v1 listing, following next links by the paging rules (v1's relative to its
        ``_links.context``); each entry costs a point (identity objects two)."""
        listing, trail = ListingUrl.of(url), CursorTrail()
        following: str | None = url
        while following is not None:
            answer = self._answer(following)
            results = answer.payload.get("results")
            if not isinstance(results, list):
                raise AtlassianError(f"Confluence answered {described(following)} without a list of results.")
            self._gateway.budget.spend((IDENTITY_POINTS if identity else 1) * len(results))
            yield from results
            following = trail.follow(next_page(listing, _v2_links(answer.payload), answer.links))


def _v2_links(payload: dict[str, Any]) -> dict[str, Any]:
    """The answer with a v1 next link (relative to ``_links.context``) made a /wiki path like v2's."""
    links = payload.get("_links")
    if not isinstance(links, dict):
        return payload
    following, context = links.get("next"), links.get("context")
    if isinstance(following, str) and following.startswith("/rest/") and context == "/wiki":
        return {**payload, "_links": {**links, "next": "/wiki" + following}}
    return payload
