"""Who may do what. Creating is open to everyone; syncing, deleting and reconnecting a datastore are for its
creator, the workspace's admins and owners (from ``users.info``) and the users in DATASTORE_ADMINS; changing
auto top-off is for the admins alone. A refusal names who can."""

from __future__ import annotations

from slack_sdk import WebClient

from handlers.views.blocks import escape_mrkdwn, user_mention

__all__ = ["Permissions"]

#: At most this many DATASTORE_ADMINS are named in a refusal.
NAMED_ADMINS = 5


class Permissions:
    def __init__(self, admins: frozenset[str]) -> None:
        self.admins = admins

    def is_admin(self, client: WebClient, *, user_id: str) -> bool:
        """A workspace admin or owner, or one of DATASTORE_ADMINS."""
        if user_id in self.admins:
            return True
        user = client.users_info(user=user_id)["user"]
        return bool(user.get("is_admin") or user.get("is_owner"))

    def may_manage(self, client: WebClient, *, user_id: str, creator_id: str) -> bool:
        return user_id == creator_id or self.is_admin(client, user_id=user_id)

    def _admins_text(self) -> str:
        named = sorted(self.admins)[:NAMED_ADMINS]
        if not named:
            return "a workspace admin"
        people = ", ".join(user_mention(user_id) for user_id in named)
        return f"a workspace admin or {people}"

    def refusal(self, *, creator_id: str, name: str, action: str) -> str:
        creator, shown = user_mention(creator_id), escape_mrkdwn(name)
        return f"Only {creator}, who created *{shown}*, or {self._admins_text()} can {action} it. Nothing changed."

    def admin_refusal(self, action: str, *, attempted: bool = True) -> str:
        """Who can ``action``; ``attempted`` says the person tried (and that nothing changed)."""
        return f"Only {self._admins_text()} can {action}." + (" Nothing changed." if attempted else "")
