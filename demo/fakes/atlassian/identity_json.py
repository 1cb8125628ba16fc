"""JSON shapes of users, groups, space permissions and read restrictions (v1 and v2).

Privacy: another person's hidden e-mail is left out of v1 users the way :class:`~.people.EmailVisibility`
says (key absent, ``null`` or ``""``) and is ``""`` in v2 users (the v2 schema types it as a string); the
caller always sees their own.  A closed account is "Former user" with no e-mail.  Every user, group and
permission object rendered here is metered as an identity object (2 points each).
"""

from __future__ import annotations

from typing import Any

from .common import ApiContext
from .people import Group, User
from .permissions import SpaceGrant
from .site import Content

RESTRICTION_PAGE = 100  # users and groups per restriction list unless ``limit`` says otherwise


def _picture(account_id: str) -> str:
    return f"/wiki/aa-avatar/{account_id}"


def _email_v1(ctx: ApiContext, user: User, data: dict[str, Any]) -> None:
    if user.account_id == ctx.account_id or not user.email_hidden:
        data["email"] = user.email
    elif user.email_visibility.value == "null":
        data["email"] = None
    elif user.email_visibility.value == "empty":
        data["email"] = ""


def v1_user(ctx: ApiContext, account_id: str, *, metered: bool = True) -> dict[str, Any]:
    """A v1 ``User``; ``metered=False`` for users embedded in content (``version.by``), which cost nothing."""
    user = ctx.site.people.user(account_id)
    if metered:
        ctx.meter.identity += 1
    data: dict[str, Any] = {
        "type": "known" if user is not None else "unknown",
        "accountId": account_id,
        "accountType": user.account_type if user else "unknown",
        "publicName": user.public_name if user else "Unknown",
        "displayName": user.public_name if user else "Unknown",
        "profilePicture": {"path": _picture(account_id), "width": 48, "height": 48, "isDefault": False},
        "isExternalCollaborator": False,
        "_expandable": {"operations": "", "personalSpace": ""},
        "_links": {"self": f"{ctx.hosted.wiki_base}/rest/api/user?accountId={account_id}"},
    }
    if user is not None:
        _email_v1(ctx, user, data)
    return data


def v2_user(ctx: ApiContext, user: User) -> dict[str, Any]:
    """A v2 ``User`` (``POST /users-bulk``)."""
    ctx.meter.identity += 1
    shown = user.account_id == ctx.account_id or not user.email_hidden
    return {
        "accountId": user.account_id,
        "accountType": user.account_type,
        "accountStatus": user.status.value,
        "displayName": user.public_name,
        "publicName": user.public_name,
        "email": user.email if shown else "",
        "isExternalCollaborator": False,
        "profilePicture": {"path": _picture(user.account_id), "isDefault": False},
    }


def v1_group(ctx: ApiContext, group: Group) -> dict[str, Any]:
    ctx.meter.identity += 1
    return {
        "type": "group",
        "name": group.name,
        "id": group.id,
        "_links": {"self": f"{ctx.hosted.wiki_base}/rest/api/group/by-id?id={group.id}"},
    }


def v2_space_permission(ctx: ApiContext, grant: SpaceGrant) -> dict[str, Any]:
    ctx.meter.identity += 1
    return {
        "id": grant.id,
        "principal": {"type": grant.principal_type, "id": grant.principal_id},
        "operation": {"key": grant.operation, "targetType": grant.target},
    }


def _array(results: list[dict[str, Any]], start: int, limit: int) -> dict[str, Any]:
    return {"results": results, "start": start, "limit": limit, "size": len(results)}


def restriction(ctx: ApiContext, item: Content, operation: str, start: int = 0, limit: int = RESTRICTION_PAGE) -> Any:
    """One operation's restriction; ``start``/``limit`` page the user list and the group list alike (a client
    keeps asking with a larger ``start`` while either list came back full)."""
    users, groups = item.restrictions if operation == "read" else ((), ())
    known = [g for g in (ctx.site.people.known_group(i) for i in groups) if g is not None]
    return {
        "operation": operation,
        "restrictions": {
            "user": _array([v1_user(ctx, u) for u in users[start : start + limit]], start, limit),
            "group": _array([v1_group(ctx, g) for g in known[start : start + limit]], start, limit),
        },
        "_expandable": {"content": f"/rest/api/content/{item.id}"},
        "_links": {"self": f"{ctx.hosted.wiki_base}/rest/api/content/{item.id}/restriction/byOperation/{operation}"},
    }
