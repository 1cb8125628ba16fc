"""Confluence REST v1 (``/wiki/rest/api/…``) — what atlassian-python-api 4.0.7 based loaders call.

Covered: ``content`` (spaceKey/type/status/title + offset paging), ``content/search`` and
``search`` (CQL subset, cursor paging through ``_links.next``), ``content/{id}``,
``content/{id}/child/{type}``, ``content/{id}/label``, ``content/{id}/restriction/byOperation[/read]``,
``space`` and ``space/{key}``.  ``expand`` understands ``body.<format>[.value]``, ``version``,
``space``, ``history[.lastUpdated]``, ``ancestors``, ``metadata.labels`` and ``container``.
``limit`` is silently capped like the real API: 50 with a body expansion, 200 with other
expansions, 1000 otherwise; ``_links.next`` is relative to the ``/wiki`` context.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection
from typing import Any

from . import cql
from .clock import iso_ms
from .common import ApiContext, ApiError, parse_id, parse_int, query_with, tiny_link, webui
from .confluence_v2 import page_of
from .identity_json import restriction, v1_user
from .site import Content, Space
from .transport import Response, Router, json_response

BODY_CAP, EXPAND_CAP, PLAIN_CAP = 50, 200, 1000
V1Handler = Callable[[ApiContext], Response]


def _expand(ctx: ApiContext) -> set[str]:
    return {part.strip() for part in (ctx.request.param("expand") or "").split(",") if part.strip()}


def _cap(ctx: ApiContext, expand: set[str], default: int = 25) -> int:
    limit = max(0, parse_int(ctx.request.param("limit"), "limit", default))
    if any(e.startswith("body.") for e in expand):
        return min(limit, BODY_CAP)
    return min(limit, EXPAND_CAP if expand else PLAIN_CAP)


def space_json(ctx: ApiContext, space: Space, expand: Collection[str] = ()) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": space.id,
        "key": space.key,
        "name": space.name,
        "type": space.type,
        "status": space.status,
        "_links": {"webui": f"/spaces/{space.key}", "self": f"{ctx.hosted.wiki_base}/rest/api/space/{space.key}"},
        "_expandable": {"homepage": f"/rest/api/content/{space.homepage_id}", "description": ""},
    }
    if "description.plain" in expand:
        data["description"] = {"plain": {"value": f"The {space.name} space", "representation": "plain"}}
    return data


def _version(ctx: ApiContext, item: Content) -> dict[str, Any]:
    return {
        "by": v1_user(ctx, item.author_id, metered=False),
        "when": iso_ms(item.updated_at),
        "message": "",
        "number": item.version,
        "minorEdit": False,
        "contentTypeModified": False,
    }


def _body(ctx: ApiContext, item: Content, expand: set[str]) -> dict[str, Any]:
    formats = {e.split(".")[1] for e in expand if e.startswith("body.") and len(e.split(".")) > 1}
    body: dict[str, Any] = {}
    for fmt in sorted(formats):
        body[fmt] = {
            "value": ctx.site.body(item),
            "representation": fmt,
            "embeddedContent": [],
            "_expandable": {"content": f"/rest/api/content/{item.id}"},
        }
    return body


def content_json(ctx: ApiContext, item: Content, expand: set[str]) -> dict[str, Any]:
    space = ctx.site.spaces[item.space_id]
    data: dict[str, Any] = {
        "id": str(item.id),
        "type": item.kind,
        "status": item.status,
        "title": item.title,
        "macroRenderedOutput": {},
        "extensions": {"position": item.position},
        "_expandable": {
            "space": f"/rest/api/space/{space.key}",
            "version": "",
            "history": "",
            "body": "",
            "ancestors": "",
            "container": "",
            "children": "",
            "descendants": "",
        },
        "_links": {
            "webui": webui(item, space),
            "edit": f"/pages/resumedraft.action?draftId={item.id}",
            "tinyui": tiny_link(item.id),
            "self": f"{ctx.hosted.wiki_base}/rest/api/content/{item.id}",
        },
    }
    expanders: dict[str, Callable[[], Any]] = {
        "space": lambda: space_json(ctx, space),
        "container": lambda: space_json(ctx, space),
        "version": lambda: _version(ctx, item),
        "history": lambda: _history(ctx, item, expand),
        "ancestors": lambda: _ancestors(ctx, item, expand),
        "metadata": lambda: {"labels": _labels(item)},
        "restrictions": lambda: _restrictions(ctx, item, expand),
    }
    for name, build in expanders.items():
        if any(e == name or e.startswith(name + ".") for e in expand):
            data[name] = build()
            data["_expandable"].pop(name, None)
    if any(e.startswith("body.") for e in expand):
        data["body"] = _body(ctx, item, expand)
        data["_expandable"].pop("body", None)
    return data


def _history(ctx: ApiContext, item: Content, expand: set[str]) -> dict[str, Any]:
    history: dict[str, Any] = {
        "latest": item.status == "current",
        "createdBy": v1_user(ctx, item.author_id, metered=False),
        "createdDate": iso_ms(item.created_at),
    }
    if "history.lastUpdated" in expand:
        history["lastUpdated"] = _version(ctx, item)
    return history


def _ancestors(ctx: ApiContext, item: Content, expand: set[str]) -> list[dict[str, Any]]:
    chain = [ctx.site.content[i] for i in cql.FIELDS["ancestor"](item, ctx.site) if i in ctx.site.content]
    inner = {e.removeprefix("ancestors.") for e in expand if e.startswith("ancestors.")}
    return [content_json(ctx, a, inner) for a in reversed(chain)]


def _restrictions(ctx: ApiContext, item: Content, expand: set[str]) -> dict[str, Any]:
    """``expand=restrictions.read.restrictions.user,restrictions.read.restrictions.group`` (what Onyx asks for)."""
    operations = {e.split(".")[1] for e in expand if e.startswith("restrictions.") and len(e.split(".")) > 1}
    return {op: restriction(ctx, item, op) for op in sorted(operations & {"read", "update"})}


def _labels(item: Content) -> dict[str, Any]:
    names = cql.labels_of(item)
    results = [{"prefix": "global", "name": n, "id": str(abs(hash(n)) % 10**9), "label": n} for n in names]
    return {"results": results, "start": 0, "limit": 200, "size": len(results)}


def v1_list(
    ctx: ApiContext,
    results: list[dict[str, Any]],
    start: int,
    limit: int,
    next_query: str | None,
    *,
    core: bool = True,
) -> Response:
    """An offset-paged v1 list; ``core=False`` when the items were metered as identity objects already."""
    rel = ctx.wiki_path.removeprefix("/wiki")
    links = {"base": ctx.hosted.wiki_base, "context": "/wiki", "self": f"{ctx.hosted.wiki_base}{rel}"}
    if next_query is not None:
        links["next"] = f"{rel}?{next_query}"
    if core:
        ctx.meter.core += len(results)
    payload = {"results": results, "start": start, "limit": limit, "size": len(results), "_links": links}
    response = json_response(200, payload)
    response.body_ids = tuple(r["id"] for r in results if "body" in r)
    return response


def _offset_page(ctx: ApiContext, items: list[Content], expand: set[str]) -> Response:
    start = max(0, parse_int(ctx.request.param("start"), "start", 0))
    limit = _cap(ctx, expand)
    chunk = items[start : start + limit]
    more = start + limit < len(items)
    next_query = query_with(ctx.request, {"start": str(start + limit), "limit": str(limit)}) if more else None
    return v1_list(ctx, [content_json(ctx, c, expand) for c in chunk], start, limit, next_query)


def _statuses(raw: str | None) -> set[str]:
    if raw is None:
        return {"current"}
    wanted = {s.strip() for s in raw.split(",") if s.strip()}
    return {"current", "trashed", "archived"} if "any" in wanted else wanted


def get_content(ctx: ApiContext) -> Response:
    kind = ctx.request.param("type") or "page"
    statuses = _statuses(ctx.request.param("status"))
    title = ctx.request.param("title")
    space_key = ctx.request.param("spaceKey")
    space = ctx.site.space_by_key(space_key) if space_key else None
    if space_key and space is None:
        return v1_list(ctx, [], 0, _cap(ctx, _expand(ctx)), None)
    ids = ctx.site.ids(kind, space.id if space else None)
    viewer = ctx.viewer
    items = [
        c
        for c in (ctx.site.content.get(i) for i in ids)
        if c is not None and c.status in statuses and (title is None or c.title == title) and viewer.can_see(c)
    ]
    return _offset_page(ctx, items, _expand(ctx))


def _search_items(ctx: ApiContext) -> tuple[list[Content], Callable[[Content], Any], bool]:
    text = ctx.request.param("cql")
    if not text:
        raise ApiError(400, "CQL query parameter is required")
    try:
        query = cql.parse(text, ctx.site, ctx.hosted.cql_tz_offset_minutes)
    except cql.CqlError as exc:
        raise ApiError(400, f"Could not parse cql : {text} ({exc})") from exc
    archived = (ctx.request.param("includeArchivedSpaces") or "").lower() == "true"
    with ctx.site.lock:
        candidates = list(ctx.site.content.values())
    items = [
        c
        for c in candidates
        if c.status == "current"
        and (archived or ctx.site.spaces[c.space_id].status == "current")
        and ctx.viewer.can_see(c)
        and query.predicate(c)
    ]
    return items, cql.ORDER_KEYS[query.order_field], query.descending


def search_content(ctx: ApiContext) -> Response:
    return _searched(ctx)[0]


def _searched(ctx: ApiContext) -> tuple[Response, int]:
    """One page of a CQL search, and how many results the whole search has."""
    items, key, desc = _search_items(ctx)
    expand = _expand(ctx)
    limit = _cap(ctx, expand)
    start = max(0, parse_int(ctx.request.param("start"), "start", 0))
    chunk, cursor = page_of(items, key, desc, ctx, limit, offset=start)
    next_query = None
    if cursor is not None:
        next_query = query_with(
            ctx.request, {"next": "true", "cursor": cursor, "limit": str(limit), "start": str(start + len(chunk))}
        )
    return v1_list(ctx, [content_json(ctx, c, expand) for c in chunk], start, limit, next_query), len(items)


def search(ctx: ApiContext) -> Response:
    """``/rest/api/search``: like content/search but results wrap the content, and ``totalSize`` counts every
    result of the search (Atlassian's may be approximate)."""
    response, total = _searched(ctx)
    payload = json.loads(response.body)
    payload["results"] = [
        {
            "content": r,
            "title": r["title"],
            "excerpt": "",
            "url": r["_links"]["webui"],
            "entityType": "content",
            "lastModified": r.get("version", {}).get("when", ""),
        }
        for r in payload["results"]
    ]
    payload["totalSize"] = total
    wrapped = json_response(200, payload)
    wrapped.body_ids = response.body_ids
    return wrapped


def visible_content(ctx: ApiContext) -> Content:
    item = ctx.site.get(parse_id(ctx.params["id"]))
    if item is None or item.status not in _statuses(ctx.request.param("status")) or not ctx.viewer.can_see(item):
        raise ApiError(404, f"No content found with id: ContentId{{id={ctx.params['id']}}}")
    return item


def get_content_by_id(ctx: ApiContext) -> Response:
    data = content_json(ctx, visible_content(ctx), _expand(ctx))
    ctx.meter.core += 1
    response = json_response(200, data)
    response.body_ids = (data["id"],) if "body" in data else ()
    return response


def get_children(ctx: ApiContext) -> Response:
    item = visible_content(ctx)
    kind = ctx.params["type"]
    children = [c for c in ctx.site.children(item.id) if c.status == "current"] if kind == "page" else []
    children = ctx.viewer.visible(children)
    return _offset_page(ctx, children, _expand(ctx))


def get_labels(ctx: ApiContext) -> Response:
    item = visible_content(ctx)
    ctx.meter.core += 1
    return json_response(200, _labels(item))


def get_spaces(ctx: ApiContext) -> Response:
    expand = _expand(ctx)
    keys = set(ctx.request.params("spaceKey"))
    space_type, status = ctx.request.param("type"), ctx.request.param("status")
    with ctx.site.lock:
        spaces = sorted(ctx.site.spaces.values(), key=lambda s: s.id)
    spaces = [
        s
        for s in spaces
        if (not keys or s.key in keys)
        and (space_type is None or s.type == space_type)
        and (status is None or s.status == status)
        and ctx.viewer.can_read_space(s.id)
    ]
    start = max(0, parse_int(ctx.request.param("start"), "start", 0))
    limit = min(max(0, parse_int(ctx.request.param("limit"), "limit", 25)), 250)
    chunk = spaces[start : start + limit]
    more = start + limit < len(spaces)
    next_query = query_with(ctx.request, {"start": str(start + limit), "limit": str(limit)}) if more else None
    return v1_list(ctx, [space_json(ctx, s, expand) for s in chunk], start, limit, next_query)


def get_space(ctx: ApiContext) -> Response:
    space = ctx.site.space_by_key(ctx.params["key"])
    if space is None or not ctx.viewer.can_read_space(space.id):
        raise ApiError(404, f"No space with key : {ctx.params['key']}")
    ctx.meter.core += 1
    return json_response(200, space_json(ctx, space, _expand(ctx)))


ROUTES: tuple[tuple[str, V1Handler, tuple[str, ...]], ...] = (
    ("/wiki/rest/api/content", get_content, ("read:confluence-content.all", "read:content-details:confluence")),
    ("/wiki/rest/api/content/search", search_content, ("search:confluence", "read:content-details:confluence")),
    ("/wiki/rest/api/search", search, ("search:confluence", "read:content-details:confluence")),
    (
        "/wiki/rest/api/content/{id}",
        get_content_by_id,
        ("read:confluence-content.all", "read:content-details:confluence"),
    ),
    (
        "/wiki/rest/api/content/{id}/child/{type}",
        get_children,
        ("read:confluence-content.all", "read:content-details:confluence"),
    ),
    (
        "/wiki/rest/api/content/{id}/label",
        get_labels,
        ("read:confluence-content.all", "read:content-details:confluence"),
    ),
    ("/wiki/rest/api/space", get_spaces, ("read:confluence-space.summary", "read:space:confluence")),
    ("/wiki/rest/api/space/{key}", get_space, ("read:confluence-space.summary", "read:space:confluence")),
)


def register(router: Router[Any], wrap: Callable[[V1Handler, tuple[str, ...]], Any]) -> None:
    """Add every v1 route; ``wrap`` adapts a handler (auth, scopes, error rendering)."""
    for template, handler, scopes in ROUTES:
        router.add("GET", template, wrap(handler, scopes))
