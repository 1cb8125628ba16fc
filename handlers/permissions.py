"""Who may do what. Creating is open to everyone; syncing, deleting and reconnecting a datastore are for its
creator, the workspace's admins and owners (from ``users.info``) and the users in DATASTORE_ADMINS; changing
auto top-off is for the admins alone. A refusal names who can.

Every check is bound to the workspace the request comes from: the datastore was found in that workspace
(so its creator is a user of it), and an admin is one only if ``users.info`` — asked with the bot's token —
says the user belongs to that workspace (the same user id from another workspace is someone else).
DATASTORE_ADMINS entries are ``U012AB3CD`` (in a single-workspace install) or ``T012AB3CD:U012AB3CD`` (that
user in that workspace; the only form a multi-workspace install honours).
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from handlers.views.blocks import escape_mrkdwn, user_mention

__all__ = ["Permissions"]

logger = logging.getLogger(__name__)

#: At most this many DATASTORE_ADMINS are named in a refusal.
NAMED_ADMINS = 5


def _belongs(user: dict[str, Any], team_id: str) -> bool:
    """``users.info``'s user is a member of ``team_id`` (for Enterprise Grid: one of its org's workspaces)."""
    if user.get("team_id") == team_id:
        return True
    grid = user.get("enterprise_user")
    teams = grid.get("teams") if isinstance(grid, dict) else None
    return isinstance(teams, list) and team_id in teams


class Permissions:
    def __init__(self, admins: frozenset[str], *, multi_workspace: bool = False) -> None:
        self.admins = admins
        self._qualified = {tuple(entry.split(":", 1)) for entry in admins if ":" in entry}
        plain = {entry for entry in admins if ":" not in entry}
        if plain and multi_workspace:
            logger.warning(
                "DATASTORE_ADMINS entries without a workspace (%s) are ignored in a multi-workspace install: "
                "write them as TEAM_ID:USER_ID",
                ", ".join(sorted(plain)),
            )
            plain = set()
        self._plain = frozenset(plain)

    def _listed(self, *, team_id: str, user_id: str) -> bool:
        return user_id in self._plain or (team_id, user_id) in self._qualified

    def is_admin(self, client: WebClient, *, team_id: str, user_id: str) -> bool:
        """A workspace admin or owner, or one of DATASTORE_ADMINS — of the workspace ``team_id``."""
        try:
            user = client.users_info(user=user_id)["user"]
        except SlackApiError as exc:
            if exc.response.get("error") not in ("user_not_found", "user_not_visible"):
                raise
            logger.info("%s/%s is not a user Slack knows in this workspace", team_id, user_id)
            return False
        if not isinstance(user, dict) or not _belongs(user, team_id):
            logger.info("%s/%s is not a member of that workspace: no admin rights there", team_id, user_id)
            return False
        return self._listed(team_id=team_id, user_id=user_id) or bool(user.get("is_admin") or user.get("is_owner"))

    def may_manage(self, client: WebClient, *, team_id: str, user_id: str, creator_id: str) -> bool:
        """``creator_id`` is the creator of a datastore found in ``team_id`` (the requester's workspace)."""
        return user_id == creator_id or self.is_admin(client, team_id=team_id, user_id=user_id)

    def _admins_text(self) -> str:
        """Names the workspace-less DATASTORE_ADMINS only: a refusal never names users of other workspaces."""
        named = sorted(self._plain)[:NAMED_ADMINS]
        if not named:
            return "a workspace admin"
        people = ", ".join(user_mention(user_id) for user_id in named)
        return f"a workspace admin or {people}"

    def refusal(self, *, creator_id: str, name: str, action: str) -> str:
        creator, shown = user_mention(creator_id), escape_mrkdwn(name)
        return f"Only {creator}, who created *{shown}*, or {self._admins_text()} can {action} it. Nothing changed."

    def who_can_change(self, *, creator_id: str, name: str, what: str = "who may use") -> str:
        """``Only <@creator> or a workspace admin can change who may use *NAME*.`` (who to ask, mrkdwn)."""
        creator, shown = user_mention(creator_id), escape_mrkdwn(name)
        return f"Only {creator} or {self._admins_text()} can change {what} *{shown}*."

    def admin_refusal(self, action: str, *, attempted: bool = True) -> str:
        """Who can ``action``; ``attempted`` says the person tried (and that nothing changed)."""
        return f"Only {self._admins_text()} can {action}." + (" Nothing changed." if attempted else "")
