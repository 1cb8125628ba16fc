"""What a permission sync calls: restrictions, space permissions, users and groups (v1 and v2).

v1 (offset paging, ``_links.next`` relative to ``/wiki``):

* ``content/{id}/restriction/byOperation`` and ``…/byOperation/{read|update}`` — ``start``/``limit``
  (default and cap 100) page the user list and the group list of each operation alike;
* ``user?accountId=``, ``user/bulk?accountId=a,b``, ``user/current``, ``user/memberof?accountId=``;
* ``group`` (all, by name), ``group/by-id?id=``, ``group/member?groupId=`` (``shouldReturnTotalSize``) and
  the deprecated ``group/{groupId}/membersByGroupId`` — 200 members per page at most.

v2 (cursor paging like the other v2 lists): ``GET /spaces/{id}/permissions`` and ``POST /users-bulk``.
Content and spaces the caller may not see answer 404, as everywhere else in the fake.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from .common import ApiContext, ApiError, decode_cursor, encode_cursor, parse_id, parse_int, query_with
from .confluence_v1 import v1_list, visible_content
from .confluence_v2 import list_response, v2_limit
from .identity_json import RESTRICTION_PAGE, restriction, v1_group, v1_user, v2_space_permission, v2_user
from .people import Group, User
from .transport import Response, json_response

MEMBER_PAGE = 200
USER_SCOPES = ("read:confluence-user", "read:user:confluence")
GROUP_SCOPES = ("read:confluence-groups", "read:group:confluence")
RESTRICTION_SCOPES = (
    "read:confluence-content.all",
    "read:content-details:confluence",
    "read:content.restriction:confluence",
)
Handler = Callable[[ApiContext], Response]


def _offset(ctx: ApiContext, default: int, cap: int) -> tuple[int, int]:
    start = max(0, parse_int(ctx.request.param("start"), "start", 0))
    limit = min(max(1, parse_int(ctx.request.param("limit"), "limit", default)), cap)
    return start, limit


def _next_query(ctx: ApiContext, start: int, limit: int, total: int) -> str | None:
    if start + limit >= total:
        return None
    return query_with(ctx.request, {"start": str(start + limit), "limit": str(limit)})


# ----- restrictions -----------------------------------------------------------------------------
def get_restrictions(ctx: ApiContext) -> Response:
    item = visible_content(ctx)
    start, limit = _offset(ctx, RESTRICTION_PAGE, RESTRICTION_PAGE)
    data: dict[str, Any] = {op: restriction(ctx, item, op, start, limit) for op in ("read", "update")}
    data["_links"] = {"base": ctx.hosted.wiki_base, "context": "/wiki"}
    return json_response(200, data)


def get_restriction_for(ctx: ApiContext) -> Response:
    if ctx.params["operation"] not in ("read", "update"):
        raise ApiError(400, "Unknown operation")
    item = visible_content(ctx)
    start, limit = _offset(ctx, RESTRICTION_PAGE, RESTRICTION_PAGE)
    return json_response(200, restriction(ctx, item, ctx.params["operation"], start, limit))


# ----- users ------------------------------------------------------------------------------------
def _user_param(ctx: ApiContext) -> User:
    account_id = ctx.request.param("accountId")
    if not account_id:
        raise ApiError(400, "accountId is required")
    user = ctx.site.people.user(account_id)
    if user is None:
        raise ApiError(404, f"No user found with accountId: {account_id}")
    return user


def get_user(ctx: ApiContext) -> Response:
    return json_response(200, v1_user(ctx, _user_param(ctx).account_id))


def get_current_user(ctx: ApiContext) -> Response:
    return json_response(200, v1_user(ctx, ctx.account_id))


def get_users_bulk(ctx: ApiContext) -> Response:
    wanted = ctx.request.params("accountId")
    if not wanted:
        raise ApiError(400, "accountId is required")
    if len(wanted) > 100:
        raise ApiError(400, "At most 100 accountIds may be requested at once")
    start, limit = _offset(ctx, MEMBER_PAGE, MEMBER_PAGE)
    found = [u.account_id for u in (ctx.site.people.user(a) for a in dict.fromkeys(wanted)) if u is not None]
    chunk = [v1_user(ctx, a) for a in found[start : start + limit]]
    return v1_list(ctx, chunk, start, limit, _next_query(ctx, start, limit, len(found)), core=False)


def get_member_of(ctx: ApiContext) -> Response:
    user = _user_param(ctx)
    groups = sorted((ctx.site.people.groups[g] for g in ctx.site.people.groups_of(user.account_id)), key=_by_name)
    return _group_list(ctx, groups)


# ----- groups -----------------------------------------------------------------------------------
def _by_name(group: Group) -> str:
    return group.name.lower()


def _group_list(ctx: ApiContext, groups: list[Group]) -> Response:
    start, limit = _offset(ctx, MEMBER_PAGE, MEMBER_PAGE)
    chunk = [v1_group(ctx, g) for g in groups[start : start + limit]]
    return v1_list(ctx, chunk, start, limit, _next_query(ctx, start, limit, len(groups)), core=False)


def get_groups(ctx: ApiContext) -> Response:
    return _group_list(ctx, sorted(ctx.site.people.groups.values(), key=_by_name))


def _group_by_id(ctx: ApiContext, group_id: str | None) -> Group:
    if not group_id:
        raise ApiError(400, "groupId is required")
    group = ctx.site.people.groups.get(group_id)
    if group is None:
        raise ApiError(404, f"No group found with id: {group_id}")
    return group


def get_group_by_id(ctx: ApiContext) -> Response:
    return json_response(200, v1_group(ctx, _group_by_id(ctx, ctx.request.param("id"))))


def _members(ctx: ApiContext, group: Group) -> Response:
    start, limit = _offset(ctx, MEMBER_PAGE, MEMBER_PAGE)
    people = ctx.site.people
    members = sorted(group.members, key=lambda a: (people.require_user(a).display_name.lower(), a))
    chunk = [v1_user(ctx, a) for a in members[start : start + limit]]
    response = v1_list(ctx, chunk, start, limit, _next_query(ctx, start, limit, len(members)), core=False)
    if (ctx.request.param("shouldReturnTotalSize") or "").lower() == "true":
        payload = json.loads(response.body)
        payload["totalSize"] = len(members)
        response = json_response(200, payload)
    return response


def get_group_members(ctx: ApiContext) -> Response:
    return _members(ctx, _group_by_id(ctx, ctx.request.param("groupId")))


def get_group_members_by_path(ctx: ApiContext) -> Response:
    return _members(ctx, _group_by_id(ctx, ctx.params["groupId"]))


# ----- v2 ---------------------------------------------------------------------------------------
def get_space_permissions(ctx: ApiContext) -> Response:
    space = ctx.site.space(parse_id(ctx.params["id"]))
    if space is None or not ctx.viewer.can_read_space(space.id):
        raise ApiError(404, "Not Found")
    limit = v2_limit(ctx)
    grants = ctx.site.permissions.grants(space.id)
    cursor = ctx.request.param("cursor")
    start = int(decode_cursor(cursor).get("o", 0)) if cursor else 0
    chunk = grants[start : start + limit]
    following = encode_cursor({"o": start + limit}) if start + limit < len(grants) else None
    return list_response(ctx, [v2_space_permission(ctx, g) for g in chunk], following, core=False)


def post_users_bulk(ctx: ApiContext) -> Response:
    try:
        body = json.loads(ctx.request.body or b"null")
    except ValueError as exc:
        raise ApiError(400, "Request body is not valid JSON") from exc
    ids = body.get("accountIds") if isinstance(body, dict) else None
    if not isinstance(ids, list) or not 1 <= len(ids) <= 250 or not all(isinstance(i, str) for i in ids):
        raise ApiError(400, "accountIds must list 1 to 250 account ids")
    users = [u for u in (ctx.site.people.user(i) for i in dict.fromkeys(ids)) if u is not None]
    results = [v2_user(ctx, u) for u in users]
    base = ctx.hosted.wiki_base
    return json_response(200, {"results": results, "_links": {"base": base}}, [("Link", f'<{base}>; rel="base"')])


V1_ROUTES: tuple[tuple[str, str, Handler, tuple[str, ...]], ...] = (
    ("GET", "/wiki/rest/api/content/{id}/restriction/byOperation", get_restrictions, RESTRICTION_SCOPES),
    ("GET", "/wiki/rest/api/content/{id}/restriction/byOperation/{operation}", get_restriction_for, RESTRICTION_SCOPES),
    ("GET", "/wiki/rest/api/user/current", get_current_user, USER_SCOPES),
    ("GET", "/wiki/rest/api/user/bulk", get_users_bulk, USER_SCOPES),
    ("GET", "/wiki/rest/api/user/memberof", get_member_of, GROUP_SCOPES),
    ("GET", "/wiki/rest/api/user", get_user, USER_SCOPES),
    ("GET", "/wiki/rest/api/group", get_groups, GROUP_SCOPES),
    ("GET", "/wiki/rest/api/group/by-id", get_group_by_id, GROUP_SCOPES),
    ("GET", "/wiki/rest/api/group/member", get_group_members, GROUP_SCOPES),
    ("GET", "/wiki/rest/api/group/{groupId}/membersByGroupId", get_group_members_by_path, GROUP_SCOPES),
)
V2_ROUTES: tuple[tuple[str, str, Handler, str], ...] = (
    ("GET", "/wiki/api/v2/spaces/{id}/permissions", get_space_permissions, "read:space:confluence"),
    ("POST", "/wiki/api/v2/users-bulk", post_users_bulk, "read:user:confluence"),
)
