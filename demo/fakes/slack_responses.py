"""Applying interactive replies: ``response_url`` POSTs and slash-command ack bodies.

A reply is a JSON message (``text``/``blocks``) with optional ``response_type`` (``ephemeral`` default,
``in_channel``), ``replace_original`` and ``delete_original``.  ``in_channel`` posts a channel message,
``ephemeral`` records an :class:`~demo.fakes.slack_state.Ephemeral` for the user.  ``replace_original``
/ ``delete_original`` act on the message the URL belongs to (message actions) or on the last ephemeral
sent through the URL (slash commands).
"""

from __future__ import annotations

from demo.fakes.slack_methods import ApiError, JsonDict, check_message_content, flag
from demo.fakes.slack_state import Ephemeral, ResponseUrl, Workspace, with_generated_ids

RESPONSE_URL_MAX_USES = 5
RESPONSE_URL_TTL = 30 * 60.0


def use_response_url(
    ws: Workspace, target: ResponseUrl | None, body: JsonDict, now: float, limits: tuple[float, int]
) -> tuple[int, JsonDict]:
    """One POST to a response_url: ``(http status, json)``; 404 once expired (TTL) or used up."""
    ttl, max_uses = limits
    if target is None:
        return 404, {"ok": False, "error": "no_service"}
    if now - target.issued_at > ttl:
        return 404, {"ok": False, "error": "expired_url"}
    if target.uses >= max_uses:
        return 404, {"ok": False, "error": "used_url"}
    target.uses += 1
    return 200, apply_reply(ws, target, body, source="response_url")


def apply_reply(ws: Workspace, target: ResponseUrl, body: JsonDict, *, source: str) -> JsonDict:
    """Apply one reply for ``target`` (channel/user/original message); raises ApiError (HTTP 400)."""
    if flag(body.get("delete_original")):
        _delete_original(ws, target)
        return {"ok": True}
    check_message_content(body)
    if flag(body.get("replace_original")) and _replace_original(ws, target, body):
        return {"ok": True}
    if body.get("response_type") == "in_channel":
        channel = ws.channels.get(target.channel_id)
        if channel is None:
            raise ApiError("channel_not_found")
        ws.post_message(channel, {**body, "reply_broadcast": False})
    else:
        target.last_ephemeral = ws.add_ephemeral(target.channel_id, target.user_id, body, source=source)
    return {"ok": True}


def _delete_original(ws: Workspace, target: ResponseUrl) -> None:
    if target.message_ts is not None:
        message = ws.find_message(target.channel_id, target.message_ts)
        if message is None:
            raise ApiError("message_not_found")
        message.deleted = True
    elif target.last_ephemeral is not None:
        target.last_ephemeral.deleted = True
    else:
        raise ApiError("message_not_found")


def _replace_original(ws: Workspace, target: ResponseUrl, body: JsonDict) -> bool:
    """Replace the original in place; False when there is nothing to replace (then post anew)."""
    if target.message_ts is not None:
        message = ws.find_message(target.channel_id, target.message_ts)
        if message is None:
            raise ApiError("message_not_found")
        message.text = str(body.get("text") or "")
        message.blocks = with_generated_ids(body.get("blocks") or [])
        return True
    original: Ephemeral | None = target.last_ephemeral
    if original is None:
        return False
    original.text = str(body.get("text") or "")
    original.blocks = with_generated_ids(body.get("blocks") or [])
    return True
