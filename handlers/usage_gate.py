"""Who may use a datastore (issue #12 item 5), enforced where its content appears: search and share only in
its listed channels, or only for the members of its Slack user group (``usergroups.users.list`` with the
bot's token, cached briefly). A group that cannot be read closes the datastore — never opens it — and the
refusal says so. Every refusal says who can change the limit."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.datastores.access import AccessChanges, UsageRule
from bot.datastores.queries import DatastoreInfo
from bot.states import LimitKind
from handlers.permissions import Permissions
from handlers.slack_once import TRANSPORT_ERRORS
from handlers.views.usage_limits import channels_refusal, group_refusal, unreadable_refusal

__all__ = ["GROUP_TTL", "GroupMembers", "GroupUnreadable", "UsageGate"]

logger = logging.getLogger(__name__)

#: How long a user group's members are trusted before Slack is asked again.
GROUP_TTL = 60.0


class GroupUnreadable(Exception):
    """Slack did not say who is in the group (``reason``: its error code, or what failed)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class _Entry:
    members: frozenset[str]
    until: float


class GroupMembers:
    """Members of Slack user groups, per workspace, cached for ``ttl`` seconds (failures are never cached)."""

    def __init__(self, *, ttl: float = GROUP_TTL, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl, self.clock = ttl, clock
        self._cache: dict[tuple[str, str], _Entry] = {}
        self._lock = threading.Lock()

    def members(self, client: WebClient, *, team_id: str, group_id: str) -> frozenset[str]:
        key = (team_id, group_id)
        with self._lock:
            entry = self._cache.get(key)
        if entry is not None and entry.until > self.clock():
            return entry.members
        try:
            answer = client.usergroups_users_list(usergroup=group_id)
        except SlackApiError as exc:
            raise GroupUnreadable(str(exc.response.get("error") or exc.response.status_code)) from None
        except TRANSPORT_ERRORS as exc:
            raise GroupUnreadable(type(exc).__name__) from None
        users = answer.get("users")
        if not isinstance(users, list):
            raise GroupUnreadable("no member list in Slack's answer")
        members = frozenset(str(user) for user in users if isinstance(user, str))
        with self._lock:
            self._cache[key] = _Entry(members, self.clock() + self.ttl)
        return members

    def forget(self, *, team_id: str, group_id: str) -> None:
        with self._lock:
            self._cache.pop((team_id, group_id), None)


class UsageGate:
    def __init__(self, changes: AccessChanges, permissions: Permissions, groups: GroupMembers | None = None) -> None:
        self.changes, self.permissions = changes, permissions
        self.groups = groups or GroupMembers()

    def _who(self, info: DatastoreInfo) -> str:
        return self.permissions.who_can_change(creator_id=info.created_by, name=info.name)

    def _member(self, client: WebClient, rule: UsageRule, *, team_id: str, user_id: str) -> bool:
        if not rule.group_id:
            return False
        return user_id in self.groups.members(client, team_id=team_id, group_id=rule.group_id)

    def refusal(
        self, client: WebClient, info: DatastoreInfo, *, team_id: str, user_id: str, channel_id: str | None
    ) -> str | None:
        """Why ``user_id`` may not search or share ``info`` in ``channel_id`` (mrkdwn), or None when they may."""
        rule = self.changes.usage_rule(info.id)
        if rule.kind is LimitKind.CHANNELS:
            if channel_id is not None and channel_id in rule.channel_ids:
                return None
            return channels_refusal(info.name, rule.channel_ids, self._who(info))
        if rule.kind is LimitKind.GROUP:
            try:
                if self._member(client, rule, team_id=team_id, user_id=user_id):
                    return None
            except GroupUnreadable as exc:
                logger.warning("user group %s of datastore %s unreadable (%s): closed", rule.group_id, info.id, exc)
                return unreadable_refusal(info.name, rule.group_handle, exc.reason, self._who(info))
            return group_refusal(info.name, rule.group_handle, self._who(info))
        return None

    def listed(
        self, client: WebClient, infos: Sequence[DatastoreInfo], *, team_id: str, user_id: str
    ) -> list[DatastoreInfo]:
        """The datastores ``user_id``'s App Home lists: none limited to a group they are not in (or whose
        members cannot be read). Channel-limited ones stay listed: the tab shows no content, and their search
        works only in their channels."""
        shown = []
        rules = self.changes.usage_rules([info.id for info in infos])
        for info in infos:
            rule = rules.get(info.id, UsageRule())
            if rule.kind is LimitKind.GROUP:
                try:
                    if not self._member(client, rule, team_id=team_id, user_id=user_id):
                        continue
                except GroupUnreadable:
                    continue
            shown.append(info)
        return shown
