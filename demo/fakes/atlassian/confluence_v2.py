"""Confluence Cloud REST v2 (``/wiki/api/v2/…``): spaces, pages and blog posts.

Objects follow the official OpenAPI schemas (ids as strings, ``version`` objects, ``_links``);
lists are ``{"results": [...], "_links": {"next": "/wiki/api/v2/…?cursor=…", "base": …}}`` plus
a ``Link`` header (``FakeAtlassian(paging=…)``: both, only the body's ``next``, or only the header).
Cursors are opaque keyset cursors, ``limit`` must be 1–250 (default 25), and ``body-format=storage``
puts ``body.storage`` into list and single responses.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from typing import Any

from .clock import iso_ms
from .common import (
    ApiContext,
    ApiError,
    atlas_doc,
    decode_cursor,
    encode_cursor,
    parse_id,
    parse_int,
    query_with,
    tiny_link,
    webui,
)
from .site import Content, Space
from .transport import Response, Router, json_response

PAGE_STATUSES = {"current", "archived", "deleted", "trashed"}
BLOG_STATUSES = {"current", "deleted", "trashed"}
SINGLE_STATUSES = {"current", "archived", "trashed", "deleted", "historical", "draft"}
BULK_FORMATS = {"storage", "atlas_doc_format"}
SINGLE_FORMATS = BULK_FORMATS | {"view", "export_view", "anonymous_export_view", "styled_view", "editor"}
CONTENT_SORTS: dict[str, Callable[[Content], Any]] = {
    "id": lambda c: c.id,
    "created-date": lambda c: c.created_at,
    "modified-date": lambda c: c.updated_at,
    "title": lambda c: c.title,
}
SPACE_SORTS: dict[str, Callable[[Space], Any]] = {
    "id": lambda s: s.id,
    "key": lambda s: s.key,
    "name": lambda s: s.name,
}
V2Handler = Callable[[ApiContext], Response]


# ----- serialisation ----------------------------------------------------------------------------
def space_json(ctx: ApiContext, space: Space) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": str(space.id),
        "key": space.key,
        "name": space.name,
        "type": space.type,
        "status": space.status,
        "authorId": space.author_id,
        "createdAt": iso_ms(space.created_at),
        "_links": {"webui": f"/spaces/{space.key}"},
    }
    if space.homepage_id is not None:
        data["homepageId"] = str(space.homepage_id)
    if ctx.request.param("description-format") in ("plain", "view"):
        fmt = ctx.request.param("description-format") or "plain"
        data["description"] = {fmt: {"representation": fmt, "value": f"The {space.name} space"}}
    return data


def content_json(ctx: ApiContext, item: Content, body_format: str | None) -> dict[str, Any]:
    site = ctx.site
    space = site.spaces[item.space_id]
    data: dict[str, Any] = {
        "id": str(item.id),
        "status": item.status,
        "title": item.title,
        "spaceId": str(item.space_id),
        "authorId": item.author_id,
        "createdAt": iso_ms(item.created_at),
        "version": {
            "number": item.version,
            "message": "",
            "minorEdit": False,
            "authorId": item.author_id,
            "createdAt": iso_ms(item.updated_at),
        },
        "body": {},
        "_links": {
            "webui": webui(item, space),
            "editui": f"/pages/resumedraft.action?draftId={item.id}",
            "tinyui": tiny_link(item.id),
        },
    }
    if item.kind == "page":
        data["position"] = item.position
        data["ownerId"] = item.author_id
        if item.parent_id is not None:
            data["parentId"] = str(item.parent_id)
            data["parentType"] = "page"
    if body_format is not None:
        value = atlas_doc(item, site) if body_format == "atlas_doc_format" else site.body(item)
        data["body"] = {body_format: {"representation": body_format, "value": value}}
    return data


# ----- list plumbing ----------------------------------------------------------------------------
def v2_limit(ctx: ApiContext) -> int:
    limit = parse_int(ctx.request.param("limit"), "limit", 25)
    if not 1 <= limit <= 250:
        raise ApiError(
            400, f"Provided value {{{limit}}} for 'limit' is not the correct type. Expected type is LimitParameter"
        )
    return limit


def _sort(ctx: ApiContext, allowed: dict[str, Callable[[Any], Any]]) -> tuple[str, bool]:
    raw = ctx.request.param("sort") or "id"
    field = raw.lstrip("-")
    if field not in allowed:
        raise ApiError(400, f"Provided value {{{raw}}} for 'sort' is not a valid sort order")
    return field, raw.startswith("-")


def list_response(
    ctx: ApiContext, results: list[dict[str, Any]], next_cursor: str | None, *, core: bool = True
) -> Response:
    if core:
        ctx.meter.core += len(results)
    links: dict[str, str] = {"base": ctx.hosted.wiki_base}
    headers: list[tuple[str, str]] = []
    if next_cursor is not None:
        following = f"{ctx.wiki_path}?{query_with(ctx.request, {'cursor': next_cursor})}"
        if ctx.paging in ("body", "both"):
            links["next"] = following
        if ctx.paging in ("header", "both"):  # the spec's format: `<next>; rel="next", <base>; rel="base"`
            headers.append(("Link", f'<{following}>; rel="next", <{ctx.hosted.wiki_base}>; rel="base"'))
    return json_response(200, {"results": results, "_links": links}, headers)


def page_of(
    items: list[Any], key: Callable[[Any], Any], desc: bool, ctx: ApiContext, limit: int, offset: int = 0
) -> tuple[list[Any], str | None]:
    """Keyset pagination over already-filtered items (``offset`` applies only without a cursor)."""
    ordered = sorted(items, key=lambda it: (key(it), it.id), reverse=desc)
    start = offset
    cursor = ctx.request.param("cursor")
    if cursor:
        state = decode_cursor(cursor)
        mark = (state.get("k"), state.get("i"))
        keys = [(key(it), it.id) for it in ordered]
        try:
            start = (len(keys) - bisect.bisect_left(keys[::-1], mark)) if desc else bisect.bisect_right(keys, mark)
        except TypeError as exc:
            raise ApiError(400, "Invalid cursor") from exc
    chunk = ordered[start : start + limit]
    more = start + limit < len(ordered)
    nxt = encode_cursor({"k": key(chunk[-1]), "i": chunk[-1].id}) if more and chunk else None
    return chunk, nxt


def _statuses(ctx: ApiContext, kind: str) -> set[str]:
    allowed = PAGE_STATUSES if kind == "page" else BLOG_STATUSES
    statuses = set(ctx.request.params("status"))
    if not statuses:
        return {"current", "archived"} if kind == "page" else {"current"}
    if not statuses <= allowed:
        raise ApiError(400, f"Provided value {{{','.join(sorted(statuses))}}} for 'status' is not valid")
    return statuses


def _body_format(ctx: ApiContext, allowed: set[str]) -> str | None:
    value = ctx.request.param("body-format")
    if value is not None and value not in allowed:
        raise ApiError(400, f"Provided value {{{value}}} for 'body-format' is not valid")
    return value


def _fast_id_page(
    ctx: ApiContext, ids: list[int], match: Callable[[Content], bool], limit: int
) -> tuple[list[Content], str | None]:
    """Ascending-id listing without materialising every item (the hot path for big spaces)."""
    cursor = ctx.request.param("cursor")
    after = int(decode_cursor(cursor).get("i", 0)) if cursor else 0
    found: list[Content] = []
    for content_id in ids[bisect.bisect_right(ids, after) :]:
        item = ctx.site.content.get(content_id)
        if item is not None and match(item):
            if len(found) == limit:
                return found, encode_cursor({"k": found[-1].id, "i": found[-1].id})
            found.append(item)
    return found, None


def list_content(ctx: ApiContext, kind: str, space_ids: list[int] | None) -> Response:
    limit = v2_limit(ctx)
    statuses = _statuses(ctx, kind)
    body_format = _body_format(ctx, BULK_FORMATS)
    field, desc = _sort(ctx, CONTENT_SORTS)
    title = ctx.request.param("title")
    wanted = {parse_id(v) for v in ctx.request.params("id")} or None
    if wanted is not None and len(wanted) > 250:
        raise ApiError(400, "Provided value for 'id' exceeds the maximum of 250 items")

    viewer = ctx.viewer

    def match(item: Content) -> bool:
        return (
            item.status in statuses
            and (title is None or item.title == title)
            and (wanted is None or item.id in wanted)
            and viewer.can_see(item)
        )

    if wanted is not None:  # look the ids up instead of scanning the whole site
        ids = sorted(i for i in wanted if (c := ctx.site.content.get(i)) is not None and c.kind == kind)
        if space_ids is not None:
            ids = [i for i in ids if ctx.site.content[i].space_id in space_ids]
    elif space_ids is None:
        ids = ctx.site.ids(kind)
    else:
        ids = sorted(i for sid in space_ids for i in ctx.site.ids(kind, sid))
    if field == "id" and not desc:
        chunk, nxt = _fast_id_page(ctx, ids, match, limit)
    else:
        items = [c for c in (ctx.site.content.get(i) for i in ids) if c is not None and match(c)]
        chunk, nxt = page_of(items, CONTENT_SORTS[field], desc, ctx, limit)
    results = [content_json(ctx, item, body_format) for item in chunk]
    response = list_response(ctx, results, nxt)
    if body_format:
        response.body_ids = tuple(r["id"] for r in results)
    return response


# ----- handlers ---------------------------------------------------------------------------------
def get_spaces(ctx: ApiContext) -> Response:
    limit = v2_limit(ctx)
    field, desc = _sort(ctx, SPACE_SORTS)
    ids = {parse_id(v) for v in ctx.request.params("ids")}
    keys = set(ctx.request.params("keys"))
    space_type, status = ctx.request.param("type"), ctx.request.param("status")
    if status not in (None, "current", "archived"):
        raise ApiError(400, f"Provided value {{{status}}} for 'status' is not valid")
    with ctx.site.lock:
        spaces = [
            s
            for s in ctx.site.spaces.values()
            if (not ids or s.id in ids)
            and (not keys or s.key in keys)
            and (space_type is None or s.type == space_type)
            and (status is None or s.status == status)
        ]
    spaces = [s for s in spaces if ctx.viewer.can_read_space(s.id)]
    chunk, nxt = page_of(spaces, SPACE_SORTS[field], desc, ctx, limit)
    return list_response(ctx, [space_json(ctx, s) for s in chunk], nxt)


def _space(ctx: ApiContext) -> Space:
    space = ctx.site.space(parse_id(ctx.params["id"]))
    if space is None or not ctx.viewer.can_read_space(space.id):  # someone else's space looks like no space
        raise ApiError(404, "Not Found")
    return space


def get_space(ctx: ApiContext) -> Response:
    data = space_json(ctx, _space(ctx))
    ctx.meter.core += 1
    data["_links"]["base"] = ctx.hosted.wiki_base
    return json_response(200, data)


def get_space_pages(ctx: ApiContext) -> Response:
    return list_content(ctx, "page", [_space(ctx).id])


def get_space_blogposts(ctx: ApiContext) -> Response:
    return list_content(ctx, "blogpost", [_space(ctx).id])


def _space_filter(ctx: ApiContext) -> list[int] | None:
    raw = ctx.request.params("space-id")
    return [parse_id(v) for v in raw] if raw else None


def get_pages(ctx: ApiContext) -> Response:
    return list_content(ctx, "page", _space_filter(ctx))


def get_blogposts(ctx: ApiContext) -> Response:
    return list_content(ctx, "blogpost", _space_filter(ctx))


def _single(ctx: ApiContext, kind: str) -> Response:
    item = ctx.site.get(parse_id(ctx.params["id"]), kind)
    statuses = set(ctx.request.params("status")) or {"current", "archived"}
    if not statuses <= SINGLE_STATUSES:
        raise ApiError(400, "Provided value for 'status' is not valid")
    if item is None or item.status not in statuses or not ctx.viewer.can_see(item):
        raise ApiError(404, "Not Found")
    body_format = _body_format(ctx, SINGLE_FORMATS)
    data = content_json(ctx, item, body_format)
    ctx.meter.core += 1
    data["_links"]["base"] = ctx.hosted.wiki_base
    response = json_response(200, data)
    if body_format:
        response.body_ids = (data["id"],)
    return response


def get_page(ctx: ApiContext) -> Response:
    return _single(ctx, "page")


def get_blogpost(ctx: ApiContext) -> Response:
    return _single(ctx, "blogpost")


ROUTES: tuple[tuple[str, V2Handler, str], ...] = (
    ("/wiki/api/v2/spaces", get_spaces, "read:space:confluence"),
    ("/wiki/api/v2/spaces/{id}", get_space, "read:space:confluence"),
    ("/wiki/api/v2/spaces/{id}/pages", get_space_pages, "read:page:confluence"),
    ("/wiki/api/v2/spaces/{id}/blogposts", get_space_blogposts, "read:page:confluence"),
    ("/wiki/api/v2/pages", get_pages, "read:page:confluence"),
    ("/wiki/api/v2/pages/{id}", get_page, "read:page:confluence"),
    ("/wiki/api/v2/blogposts", get_blogposts, "read:page:confluence"),
    ("/wiki/api/v2/blogposts/{id}", get_blogpost, "read:page:confluence"),
)


def register(router: Router[Any], wrap: Callable[[V2Handler, str], Any]) -> None:
    """Add every v2 route; ``wrap`` adapts a handler (auth, scopes, error rendering)."""
    for template, handler, scope in ROUTES:
        router.add("GET", template, wrap(handler, scope))
