"""``usergroups.list`` and ``usergroups.users.list`` of the fake Slack (bot token, ``usergroups:read``).

As in Slack: ``usergroups.users.list`` needs ``usergroup`` (``no_such_subteam`` for an unknown or disabled one)
and answers ``{"users": [ids]}``; ``usergroups.list`` lists the enabled groups with id, handle and name. A
missing scope or an outage is injected with ``FakeSlack.fail("usergroups.users.list", "missing_scope")``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from demo.fakes.slack_methods import ApiContext, ApiError, JsonDict, Method

__all__ = ["UserGroup", "UserGroups"]


@dataclass
class UserGroup:
    id: str
    handle: str
    name: str
    members: list[str] = field(default_factory=list)
    disabled: bool = False


class UserGroups:
    """The workspace's user groups (guarded by the fake's lock: its methods run under it)."""

    def __init__(self) -> None:
        self.groups: dict[str, UserGroup] = {}

    def add(self, group_id: str, handle: str, members: Iterable[str], *, name: str = "") -> UserGroup:
        group = UserGroup(group_id, handle, name or handle, list(members))
        self.groups[group_id] = group
        return group

    def _users_list(self, ctx: ApiContext, args: JsonDict) -> JsonDict:
        group = self.groups.get(str(args.get("usergroup") or ""))
        if not args.get("usergroup"):
            raise ApiError("invalid_arguments")
        if group is None or group.disabled:
            raise ApiError("no_such_subteam")
        return {"ok": True, "users": list(group.members)}

    def _list(self, ctx: ApiContext, args: JsonDict) -> JsonDict:
        listed = [
            {"id": g.id, "team_id": ctx.ws.team_id, "handle": g.handle, "name": g.name, "user_count": len(g.members)}
            for g in self.groups.values()
            if not g.disabled
        ]
        return {"ok": True, "usergroups": listed}

    def methods(self) -> dict[str, Method]:
        return {"usergroups.users.list": self._users_list, "usergroups.list": self._list}
