"""Who may manage a datastore (sync, reconnect, retry): its creator and the workspace's admins and owners."""

from __future__ import annotations

from slack_sdk import WebClient

__all__ = ["may_manage", "refusal"]


def may_manage(client: WebClient, *, user_id: str, creator_id: str) -> bool:
    if user_id == creator_id:
        return True
    user = client.users_info(user=user_id)["user"]
    return bool(user.get("is_admin") or user.get("is_owner"))


def refusal(*, creator_id: str, name: str, action: str) -> str:
    return f"Only <@{creator_id}>, who created *{name}*, or a workspace admin can {action} it."
