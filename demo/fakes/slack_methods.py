"""Web API methods of the fake Slack (everything except ``views.*``, see ``slack_views.py``).

Each method is ``fn(ctx, args) -> response dict`` and raises :class:`ApiError` for Slack error codes;
the dispatcher in ``slack_api.py`` turns that into ``{"ok": false, "error": ...}`` with HTTP 200.
``args`` are already decoded (form, query or JSON; JSON-string ``blocks``/``view``/``attachments`` parsed).
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from demo.fakes.slack_blockkit import MAX_MESSAGE_TEXT, slack_length, validate_blocks
from demo.fakes.slack_http import HttpRequest
from demo.fakes.slack_state import Channel, Message, Workspace, with_generated_ids

JsonDict = dict[str, Any]
JSON_STRING_FIELDS = ("blocks", "view", "attachments", "metadata")


class ApiError(Exception):
    """A Slack error response: ``{"ok": false, "error": code, **extra}``."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra

    def to_json(self) -> JsonDict:
        return {"ok": False, "error": self.error, **self.extra}


@dataclass
class ApiContext:
    """What a method needs besides its arguments."""

    ws: Workspace
    team_name: str
    team_domain: str
    bot_name: str
    chat_write_public: bool
    trigger_ttl: float
    clock: Callable[[], float] = time.monotonic
    #: The websocket URL ``apps.connections.open`` hands out (slack_socket.FakeSocketMode sets it).
    socket_mode_url: str | None = None

    @property
    def team_url(self) -> str:
        return f"https://{self.team_domain}.slack.com/"


Method = Callable[[ApiContext, JsonDict], JsonDict]


def flag(value: Any) -> bool:
    """Slack booleans: JSON true, or "true"/"1" in form and query strings (slack_sdk sends 1/0)."""
    return value is True or (isinstance(value, str) and value.lower() in ("true", "1")) or value == 1


def invalid_arguments(messages: list[str]) -> ApiError:
    return ApiError("invalid_arguments", response_metadata={"messages": [f"[ERROR] {m}" for m in messages]})


def check_message_content(args: JsonDict, *, require_content: bool = True) -> None:
    """``no_text`` / ``msg_too_long`` / ``invalid_blocks_format`` / ``invalid_blocks`` checks."""
    text, blocks = args.get("text"), args.get("blocks")
    if require_content and not text and not blocks and not args.get("attachments"):
        raise ApiError("no_text")
    if text is not None and slack_length(str(text)) > MAX_MESSAGE_TEXT:
        raise ApiError("msg_too_long")
    if blocks is None:
        return
    if not isinstance(blocks, list):
        raise ApiError("invalid_blocks_format")
    errors = validate_blocks(blocks, "message")
    if errors:
        raise ApiError("invalid_blocks", errors=errors, response_metadata={"messages": errors})


def message_json(message: Message, *, with_metadata: bool = False) -> JsonDict:
    """A message as the Web API shows it; its metadata only where Slack returns it (include_all_metadata)."""
    data = message.to_json()
    if with_metadata and message.metadata is not None:
        data["metadata"] = copy.deepcopy(message.metadata)
    return data


def check_metadata(args: JsonDict) -> None:
    """Message metadata: ``{"event_type": "snake_case_name", "event_payload": {...}}`` or nothing."""
    if "metadata" not in args:
        return
    metadata = args["metadata"]
    event_type = metadata.get("event_type") if isinstance(metadata, dict) else None
    if not isinstance(event_type, str) or not event_type or not isinstance(metadata.get("event_payload"), dict):
        raise ApiError("invalid_metadata_format")
    if not all(c.islower() or c.isdigit() or c == "_" for c in event_type) or len(event_type) > 255:
        raise ApiError("invalid_metadata_schema")
    if len(json.dumps(metadata)) > 8_000:
        raise ApiError("metadata_too_large")


def channel_for(ctx: ApiContext, ref: Any) -> Channel:
    """Channel by id (a user id resolves to the bot's DM with that user, as chat.postMessage allows). A private
    channel the bot is not in does not exist for it, as in Slack."""
    channel = ctx.ws.resolve_channel(str(ref)) if ref else None
    if channel is None or (channel.is_private and ctx.ws.bot_user_id not in channel.members):
        raise ApiError("channel_not_found")
    return channel


def _writable_channel(ctx: ApiContext, ref: Any) -> Channel:
    channel = ctx.ws.resolve_channel(str(ref)) if ref else None
    if channel is None:
        raise ApiError("channel_not_found")
    if channel.is_archived:
        raise ApiError("is_archived")
    is_member = ctx.ws.bot_user_id in channel.members
    if not is_member and (channel.is_private or not ctx.chat_write_public):
        raise ApiError("not_in_channel")
    return channel


def _message(ctx: ApiContext, channel: Channel, ts: Any) -> Message:
    message = ctx.ws.find_message(channel.id, str(ts or ""))
    if message is None:
        raise ApiError("message_not_found")
    return message


def auth_test(ctx: ApiContext, args: JsonDict) -> JsonDict:
    ws = ctx.ws
    return {
        "ok": True,
        "url": ctx.team_url,
        "team": ctx.team_name,
        "user": ctx.bot_name,
        "team_id": ws.team_id,
        "user_id": ws.bot_user_id,
        "bot_id": ws.bot_id,
        "is_enterprise_install": False,
    }


def chat_post_message(ctx: ApiContext, args: JsonDict) -> JsonDict:
    channel = _writable_channel(ctx, args.get("channel"))
    check_message_content(args)
    check_metadata(args)
    body = dict(args, reply_broadcast=flag(args.get("reply_broadcast")))
    message = ctx.ws.post_message(channel, body)
    return {"ok": True, "channel": channel.id, "ts": message.ts, "message": message_json(message, with_metadata=True)}


def chat_update(ctx: ApiContext, args: JsonDict) -> JsonDict:
    channel = channel_for(ctx, args.get("channel"))
    message = _message(ctx, channel, args.get("ts"))
    if message.user != ctx.ws.bot_user_id:
        raise ApiError("cant_update_message")
    if channel.is_archived:
        raise ApiError("is_archived")
    check_message_content(args, require_content="text" in args or "blocks" in args)
    if "blocks" in args:
        message.blocks = with_generated_ids(args["blocks"] or [])
    elif "text" in args:
        message.blocks = []
        if str(args["text"]) != message.text:
            message.edited = {"user": ctx.ws.bot_user_id, "ts": ctx.ws.new_ts()}
    if "text" in args:
        message.text = str(args["text"] or "")
    if "attachments" in args:
        message.attachments = list(args["attachments"] or [])
    return {"ok": True, "channel": channel.id, "ts": message.ts, "text": message.text, "message": message.to_json()}


def chat_post_ephemeral(ctx: ApiContext, args: JsonDict) -> JsonDict:
    channel = _writable_channel(ctx, args.get("channel"))
    user = str(args.get("user") or "")
    if user not in ctx.ws.users or user not in channel.members:
        raise ApiError("user_not_in_channel")
    check_message_content(args)
    ephemeral = ctx.ws.add_ephemeral(channel.id, user, args, source="chat.postEphemeral")
    return {"ok": True, "message_ts": ephemeral.ts}


def chat_get_permalink(ctx: ApiContext, args: JsonDict) -> JsonDict:
    channel = channel_for(ctx, args.get("channel"))
    message = _message(ctx, channel, args.get("message_ts"))
    link = f"https://{ctx.team_domain}.slack.com/archives/{channel.id}/p{message.ts.replace('.', '')}"
    if message.is_reply:
        link += f"?thread_ts={message.thread_ts}&cid={channel.id}"
    return {"ok": True, "channel": channel.id, "permalink": link}


def reactions_add(ctx: ApiContext, args: JsonDict) -> JsonDict:
    channel = channel_for(ctx, args.get("channel"))
    message = _message(ctx, channel, args.get("timestamp"))
    name = str(args.get("name") or "")
    if not name or ":" in name or " " in name:
        raise ApiError("invalid_name")
    if channel.is_archived:
        raise ApiError("is_archived")
    users = message.reactions.setdefault(name, [])
    if ctx.ws.bot_user_id in users:
        raise ApiError("already_reacted")
    users.append(ctx.ws.bot_user_id)
    return {"ok": True}


def users_info(ctx: ApiContext, args: JsonDict) -> JsonDict:
    user = ctx.ws.users.get(str(args.get("user") or ""))
    if user is None:
        raise ApiError("user_not_found")
    return {"ok": True, "user": user.to_json()}


def conversations_info(ctx: ApiContext, args: JsonDict) -> JsonDict:
    channel = ctx.ws.channels.get(str(args.get("channel") or ""))
    if channel is None or (channel.is_private and ctx.ws.bot_user_id not in channel.members):
        raise ApiError("channel_not_found")
    return {"ok": True, "channel": channel.to_json(ctx.ws.bot_user_id)}


def conversations_open(ctx: ApiContext, args: JsonDict) -> JsonDict:
    if args.get("channel"):
        channel = ctx.ws.channels.get(str(args["channel"]))
        if channel is None or not channel.is_im:
            raise ApiError("channel_not_found")
        already_open = True
    else:
        users = [u.strip() for u in str(args.get("users") or "").split(",") if u.strip()]
        if not users:
            raise ApiError("users_list_not_supplied")
        if len(users) > 1:
            raise invalid_arguments(["the fake supports one user (no multi-person DMs)"])
        if users[0] not in ctx.ws.users:
            raise ApiError("user_not_found")
        channel, already_open = ctx.ws.open_dm(users[0])
    data: JsonDict = {"id": channel.id}
    if flag(args.get("return_im")):
        data = channel.to_json(ctx.ws.bot_user_id)
    response: JsonDict = {"ok": True, "channel": data}
    if already_open:
        response.update(no_op=True, already_open=True)
    return response


def apps_connections_open(ctx: ApiContext, args: JsonDict) -> JsonDict:
    """Socket Mode: the URL to connect to (called with the app-level ``xapp-`` token, see FakeSlack._run)."""
    if ctx.socket_mode_url is None:
        raise ApiError("socket_mode_not_enabled")
    return {"ok": True, "url": ctx.socket_mode_url}


#: Methods that take the app-level token (``xapp-…``), not a bot token.
APP_TOKEN_METHODS = frozenset({"apps.connections.open"})


def request_token(request: HttpRequest, args: JsonDict) -> str | None:
    auth = request.header("authorization")
    if auth.lower().startswith("bearer "):
        args.pop("token", None)
        return auth[7:].strip()
    token = args.pop("token", None)
    return str(token) if token else None


def decode_json_body(request: HttpRequest) -> JsonDict:
    try:
        data = json.loads(request.body or b"{}")
    except ValueError as exc:
        raise ApiError("invalid_json") from exc
    if not isinstance(data, dict):
        raise ApiError("invalid_json")
    return data


def decode_args(request: HttpRequest) -> JsonDict:
    """Query string + form or JSON body; JSON-string ``blocks``/``view``/``attachments`` decoded."""
    args: JsonDict = {k: v[0] for k, v in parse_qs(request.query, keep_blank_values=True).items()}
    if request.method == "POST" and request.body:
        if request.content_type == "application/json":
            args.update(decode_json_body(request))
        else:
            form = parse_qs(request.body.decode("utf-8"), keep_blank_values=True)
            args.update({k: v[0] for k, v in form.items()})
    for key in JSON_STRING_FIELDS:
        if isinstance(args.get(key), str):
            try:
                args[key] = json.loads(args[key])
            except ValueError:
                pass  # left as a string: the method answers invalid_blocks_format / invalid_arguments
    return args


CHAT_METHODS: dict[str, Method] = {
    "auth.test": auth_test,
    "chat.postMessage": chat_post_message,
    "chat.update": chat_update,
    "chat.postEphemeral": chat_post_ephemeral,
    "chat.getPermalink": chat_get_permalink,
    "reactions.add": reactions_add,
    "users.info": users_info,
    "conversations.info": conversations_info,
    "conversations.open": conversations_open,
    "apps.connections.open": apps_connections_open,
}
