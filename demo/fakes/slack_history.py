"""``conversations.history`` and ``conversations.replies`` of the fake Slack: what a bot may read back.

As in Slack (bot token with the ``*:history`` scopes): the bot reads the channels it is a member of and its
DMs; a public channel it is not in answers ``not_in_channel``, a private one ``channel_not_found``. History
lists top-level messages (and broadcast replies) newest first; replies list a thread oldest first, parent
included (a deleted parent that still has replies shows as a tombstone). Both page with ``limit`` and an
opaque ``cursor`` and filter by ``oldest`` / ``latest`` (``inclusive``); message metadata is returned only
with ``include_all_metadata``.
"""

from __future__ import annotations

import base64
from typing import Any

from demo.fakes.slack_methods import ApiContext, ApiError, JsonDict, Method, flag, message_json
from demo.fakes.slack_state import Channel, Message

__all__ = ["HISTORY_METHODS"]

MAX_LIMIT = 999


def _readable_channel(ctx: ApiContext, ref: Any) -> Channel:
    channel = ctx.ws.channels.get(str(ref or ""))
    if channel is None:
        raise ApiError("channel_not_found")
    if ctx.ws.bot_user_id not in channel.members:
        raise ApiError("channel_not_found" if channel.is_private else "not_in_channel")
    return channel


def _bound(args: JsonDict, name: str) -> float | None:
    value = args.get(name)
    if value in (None, ""):
        return None
    try:
        return float(str(value))
    except ValueError:
        raise ApiError(f"invalid_ts_{name}") from None


def _in_window(messages: list[Message], args: JsonDict) -> list[Message]:
    oldest, latest, inclusive = _bound(args, "oldest"), _bound(args, "latest"), flag(args.get("inclusive"))

    def keep(message: Message) -> bool:
        ts = float(message.ts)
        after = oldest is None or ts > oldest or (inclusive and ts == oldest)
        before = latest is None or ts < latest or (inclusive and ts == latest)
        return after and before

    return [m for m in messages if keep(m)]


def _page(items: list[JsonDict], args: JsonDict, default_limit: int) -> JsonDict:
    try:
        limit = int(args.get("limit") or default_limit)
    except ValueError:
        raise ApiError("invalid_limit") from None
    limit = max(1, min(limit, MAX_LIMIT))
    start = 0
    if args.get("cursor"):
        try:
            start = int(base64.b64decode(str(args["cursor"])).decode().removeprefix("offset:"))
        except ValueError:
            raise ApiError("invalid_cursor") from None
        if not 0 <= start <= len(items):
            raise ApiError("invalid_cursor")
    page, rest = items[start : start + limit], items[start + limit :]
    cursor = base64.b64encode(f"offset:{start + limit}".encode()).decode() if rest else ""
    return {"ok": True, "messages": page, "has_more": bool(rest), "response_metadata": {"next_cursor": cursor}}


def conversations_history(ctx: ApiContext, args: JsonDict) -> JsonDict:
    channel = _readable_channel(ctx, args.get("channel"))
    top = [m for m in ctx.ws.channel_messages(channel.id) if not m.is_reply or m.reply_broadcast]
    top.sort(key=lambda m: float(m.ts), reverse=True)
    metadata = flag(args.get("include_all_metadata"))
    return _page([message_json(m, with_metadata=metadata) for m in _in_window(top, args)], args, 100)


def conversations_replies(ctx: ApiContext, args: JsonDict) -> JsonDict:
    channel = _readable_channel(ctx, args.get("channel"))
    stored = ctx.ws.messages.get(channel.id, {}).get(str(args.get("ts") or ""))
    if stored is None:
        raise ApiError("thread_not_found")
    parent_ts = stored.thread_ts if stored.is_reply and stored.thread_ts else stored.ts
    parent = ctx.ws.messages[channel.id].get(parent_ts)
    replies = [m for m in ctx.ws.channel_messages(channel.id, parent_ts) if m.ts != parent_ts]
    if parent is None or (parent.deleted and not replies) or (stored.deleted and stored is not parent):
        raise ApiError("thread_not_found")
    metadata = flag(args.get("include_all_metadata"))
    ordered = sorted(replies, key=lambda m: float(m.ts))
    shown = [message_json(m, with_metadata=metadata) for m in _in_window(ordered, args)]
    if parent.deleted:
        tombstone = {"type": "message", "subtype": "tombstone", "text": "This message was deleted.", "ts": parent.ts}
        head: JsonDict = {**tombstone, "thread_ts": parent.ts, "reply_count": len(replies)}
    else:
        head = message_json(parent, with_metadata=metadata)
    return _page([head, *shown], args, 1000)


HISTORY_METHODS: dict[str, Method] = {
    "conversations.history": conversations_history,
    "conversations.replies": conversations_replies,
}
