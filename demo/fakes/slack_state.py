"""In-memory workspace model behind :class:`demo.fakes.slack_api.FakeSlack`.

Plain dataclasses (users, channels, messages, ephemerals, views, trigger ids, response URLs) plus
:class:`Workspace`, which owns them, hands out Slack-shaped ids / timestamps and performs the state
changes the Web API methods need.  All access goes through the FakeSlack lock; nothing here is
thread-safe on its own.  Like Slack, stored blocks get a generated ``block_id`` / ``action_id`` when
the app did not set one, so payloads built from stored views match what Slack would send.
"""

from __future__ import annotations

import copy
import itertools
import secrets
import string
import time
from dataclasses import dataclass, field
from typing import Any

from demo.fakes.slack_blockkit import iter_elements

JsonDict = dict[str, Any]
_ALPHABET = string.ascii_uppercase + string.digits
VIEW_FIELDS = ("title", "submit", "close", "private_metadata", "callback_id", "external_id")
VIEW_FLAGS = ("notify_on_close", "clear_on_close", "submit_disabled")


def random_id(prefix: str, length: int = 10) -> str:
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(length))


@dataclass
class User:
    id: str
    name: str
    team_id: str
    real_name: str = ""
    display_name: str = ""
    is_admin: bool = False
    is_owner: bool = False
    is_bot: bool = False
    tz: str = "Europe/Paris"
    tz_offset: int = 3600

    def to_json(self) -> JsonDict:
        profile = {"display_name": self.display_name, "real_name": self.real_name, "team": self.team_id}
        return {
            "id": self.id,
            "team_id": self.team_id,
            "name": self.name,
            "deleted": False,
            "real_name": self.real_name,
            "tz": self.tz,
            "tz_label": self.tz,
            "tz_offset": self.tz_offset,
            "is_admin": self.is_admin,
            "is_owner": self.is_owner,
            "is_primary_owner": self.is_owner,
            "is_bot": self.is_bot,
            "is_app_user": False,
            "profile": profile,
        }


@dataclass
class Channel:
    id: str
    name: str
    is_private: bool = False
    is_archived: bool = False
    is_im: bool = False
    im_user: str | None = None
    members: set[str] = field(default_factory=set)
    created: int = field(default_factory=lambda: int(time.time()))

    def to_json(self, bot_user_id: str) -> JsonDict:
        if self.is_im:
            return {"id": self.id, "is_im": True, "user": self.im_user, "created": self.created, "is_open": True}
        return {
            "id": self.id,
            "name": self.name,
            "is_channel": not self.is_private,
            "is_group": self.is_private,
            "is_im": False,
            "is_mpim": False,
            "is_private": self.is_private,
            "is_archived": self.is_archived,
            "is_general": self.name == "general",
            "is_member": bot_user_id in self.members,
            "created": self.created,
        }


@dataclass
class Message:
    channel: str
    ts: str
    text: str
    blocks: list[JsonDict]
    user: str
    bot_id: str
    app_id: str
    team: str
    thread_ts: str | None = None
    reply_broadcast: bool = False
    attachments: list[JsonDict] = field(default_factory=list)
    reactions: dict[str, list[str]] = field(default_factory=dict)
    edited: JsonDict | None = None
    deleted: bool = False
    reply_ts: list[str] = field(default_factory=list)
    metadata: JsonDict | None = None  # message metadata (event_type + event_payload), as posted

    @property
    def is_reply(self) -> bool:
        return self.thread_ts is not None and self.thread_ts != self.ts

    def to_json(self) -> JsonDict:
        data: JsonDict = {"type": "message", "user": self.user, "bot_id": self.bot_id, "app_id": self.app_id}
        data.update(text=self.text, ts=self.ts, team=self.team)
        if self.blocks:
            data["blocks"] = copy.deepcopy(self.blocks)
        if self.attachments:
            data["attachments"] = copy.deepcopy(self.attachments)
        if self.thread_ts is not None:
            data["thread_ts"] = self.thread_ts
        if self.is_reply:
            data["parent_user_id"] = self.user
        if self.reply_ts:
            data.update(reply_count=len(self.reply_ts), latest_reply=self.reply_ts[-1])
        if self.reactions:
            data["reactions"] = [{"name": n, "users": u, "count": len(u)} for n, u in self.reactions.items()]
        if self.edited is not None:
            data["edited"] = dict(self.edited)
        return data


@dataclass
class Ephemeral:
    channel: str
    user: str
    ts: str
    text: str
    blocks: list[JsonDict]
    source: str
    thread_ts: str | None = None
    response_type: str = "ephemeral"
    deleted: bool = False


@dataclass
class View:
    id: str
    team_id: str
    user_id: str
    type: str
    hash: str
    app_id: str
    bot_id: str
    blocks: list[JsonDict] = field(default_factory=list)
    title: JsonDict | None = None
    submit: JsonDict | None = None
    close: JsonDict | None = None
    private_metadata: str = ""
    callback_id: str = ""
    external_id: str = ""
    notify_on_close: bool = False
    clear_on_close: bool = False
    submit_disabled: bool = False
    root_view_id: str | None = None
    previous_view_id: str | None = None
    state_values: dict[str, dict[str, JsonDict]] = field(default_factory=dict)
    closed: bool = False

    def to_json(self) -> JsonDict:
        return {
            "id": self.id,
            "team_id": self.team_id,
            "type": self.type,
            "blocks": copy.deepcopy(self.blocks),
            "private_metadata": self.private_metadata,
            "callback_id": self.callback_id,
            "state": {"values": copy.deepcopy(self.state_values)},
            "hash": self.hash,
            "title": copy.deepcopy(self.title),
            "clear_on_close": self.clear_on_close,
            "notify_on_close": self.notify_on_close,
            "close": copy.deepcopy(self.close),
            "submit": copy.deepcopy(self.submit),
            "previous_view_id": self.previous_view_id,
            "root_view_id": self.root_view_id,
            "app_id": self.app_id,
            "external_id": self.external_id,
            "app_installed_team_id": self.team_id,
            "bot_id": self.bot_id,
            "submit_disabled": self.submit_disabled,
        }


@dataclass
class Trigger:
    id: str
    user_id: str
    issued_at: float
    used: bool = False


@dataclass
class ResponseUrl:
    id: str
    channel_id: str
    user_id: str
    issued_at: float
    message_ts: str | None = None
    uses: int = 0
    last_ephemeral: Ephemeral | None = None


def with_generated_ids(blocks: list[JsonDict]) -> list[JsonDict]:
    """Deep copy of ``blocks`` where every block has a ``block_id`` and element an ``action_id``."""
    blocks = copy.deepcopy(blocks)
    for block in blocks:
        if isinstance(block, dict):
            block.setdefault("block_id", random_id("", 5))
    for _block, element in iter_elements(blocks):
        if element.get("type") != "image":
            element.setdefault("action_id", random_id("", 5))
    return blocks


class Workspace:
    """One Slack team: users, channels, messages, views and the ids Slack would generate."""

    def __init__(self, team_id: str, bot_user_id: str, bot_id: str, app_id: str) -> None:
        self.team_id, self.bot_user_id, self.bot_id, self.app_id = team_id, bot_user_id, bot_id, app_id
        self.users: dict[str, User] = {}
        self.channels: dict[str, Channel] = {}
        self.messages: dict[str, dict[str, Message]] = {}
        self.ephemerals: list[Ephemeral] = []
        self.views: dict[str, View] = {}
        self.modal_stacks: dict[str, list[str]] = {}
        self.home_views: dict[str, str] = {}
        self.triggers: dict[str, Trigger] = {}
        self.response_urls: dict[str, ResponseUrl] = {}
        self._last_micros = 0
        self._counter = itertools.count(1)

    # ---- ids -------------------------------------------------------------------------------------
    def new_ts(self) -> str:
        """A message timestamp ("1732471234.000100" style), strictly increasing."""
        self._last_micros = max(int(time.time() * 1_000_000), self._last_micros + 1)
        seconds, micros = divmod(self._last_micros, 1_000_000)
        return f"{seconds}.{micros:06d}"

    def new_hash(self) -> str:
        return f"{int(time.time())}.{secrets.token_hex(4)}"

    def new_trigger_id(self) -> str:
        return f"{next(self._counter)}{secrets.randbelow(10**9)}.{self.team_id[1:]}.{secrets.token_hex(16)}"

    # ---- users & channels ------------------------------------------------------------------------
    def open_dm(self, user_id: str) -> tuple[Channel, bool]:
        """The bot's DM channel with ``user_id`` (created on first use); second item = already open."""
        for channel in self.channels.values():
            if channel.is_im and channel.im_user == user_id:
                return channel, True
        channel = Channel(id=random_id("D"), name=user_id, is_private=True, is_im=True, im_user=user_id)
        channel.members = {user_id, self.bot_user_id}
        self.channels[channel.id] = channel
        self.messages[channel.id] = {}
        return channel, False

    def resolve_channel(self, ref: str) -> Channel | None:
        """Channel by id; a user id means the bot's DM with that user (as chat.postMessage allows)."""
        if ref in self.channels:
            return self.channels[ref]
        if ref in self.users:
            return self.open_dm(ref)[0]
        return None

    # ---- messages --------------------------------------------------------------------------------
    def find_message(self, channel_id: str, ts: str) -> Message | None:
        message = self.messages.get(channel_id, {}).get(ts)
        return None if message is None or message.deleted else message

    def post_message(self, channel: Channel, body: JsonDict) -> Message:
        thread_ts = body.get("thread_ts") or None
        parent = self.find_message(channel.id, str(thread_ts)) if thread_ts else None
        if parent is not None and parent.is_reply:
            parent = self.find_message(channel.id, str(parent.thread_ts))
        message = Message(
            channel=channel.id,
            ts=self.new_ts(),
            text=str(body.get("text") or ""),
            blocks=with_generated_ids(body.get("blocks") or []),
            attachments=copy.deepcopy(body.get("attachments") or []),
            user=self.bot_user_id,
            bot_id=self.bot_id,
            app_id=self.app_id,
            team=self.team_id,
            reply_broadcast=bool(body.get("reply_broadcast")) and thread_ts is not None,
            metadata=copy.deepcopy(body.get("metadata")),
        )
        if thread_ts:
            message.thread_ts = parent.ts if parent is not None else str(thread_ts)
        if parent is not None:
            parent.thread_ts = parent.ts
            parent.reply_ts.append(message.ts)
        self.messages[channel.id][message.ts] = message
        return message

    def channel_messages(self, channel_id: str, thread_ts: str | None = None) -> list[Message]:
        live = [m for m in self.messages.get(channel_id, {}).values() if not m.deleted]
        if thread_ts is None:
            return [m for m in live if not m.is_reply or m.reply_broadcast]
        return [m for m in live if m.ts == thread_ts or m.thread_ts == thread_ts]

    def add_ephemeral(self, channel: str, user: str, body: JsonDict, source: str) -> Ephemeral:
        ephemeral = Ephemeral(
            channel=channel,
            user=user,
            ts=self.new_ts(),
            text=str(body.get("text") or ""),
            blocks=with_generated_ids(body.get("blocks") or []),
            source=source,
            thread_ts=body.get("thread_ts"),
        )
        self.ephemerals.append(ephemeral)
        return ephemeral

    # ---- views -----------------------------------------------------------------------------------
    def create_view(self, user_id: str, definition: JsonDict) -> View:
        view = View(
            id=random_id("V"),
            team_id=self.team_id,
            user_id=user_id,
            type=str(definition["type"]),
            hash=self.new_hash(),
            app_id=self.app_id,
            bot_id=self.bot_id,
        )
        self.apply_definition(view, definition)
        self.views[view.id] = view
        return view

    def apply_definition(self, view: View, definition: JsonDict) -> None:
        """Replace a view's content; input values survive when block_id + action_id are unchanged."""
        view.blocks = with_generated_ids(definition.get("blocks") or [])
        for key in VIEW_FIELDS:
            default: Any = None if key in ("title", "submit", "close") else ""
            setattr(view, key, copy.deepcopy(definition.get(key, default)))
        for key in VIEW_FLAGS:
            setattr(view, key, bool(definition.get(key, False)))
        kept: dict[str, dict[str, JsonDict]] = {}
        for block, element in iter_elements(view.blocks):
            old = view.state_values.get(block["block_id"], {}).get(element.get("action_id", ""))
            if block.get("type") == "input" and old is not None:
                kept.setdefault(block["block_id"], {})[element["action_id"]] = old
        view.state_values = kept
        view.hash = self.new_hash()

    def find_view(self, view_id: str | None = None, external_id: str | None = None) -> View | None:
        for view in self.views.values():
            if view.closed:
                continue
            if (view_id and view.id == view_id) or (external_id and view.external_id == external_id):
                return view
        return None

    def external_id_taken(self, external_id: str, except_view: str | None = None) -> bool:
        found = self.find_view(external_id=external_id) if external_id else None
        return found is not None and found.id != except_view

    def open_modal(self, user_id: str, definition: JsonDict) -> View:
        self.close_stack(user_id)
        view = self.create_view(user_id, definition)
        view.root_view_id = view.id
        self.modal_stacks[user_id] = [view.id]
        return view

    def push_modal(self, user_id: str, definition: JsonDict) -> View:
        stack = self.modal_stacks[user_id]
        view = self.create_view(user_id, definition)
        view.root_view_id, view.previous_view_id = stack[0], stack[-1]
        stack.append(view.id)
        return view

    def close_view(self, view: View) -> None:
        """Close ``view`` and every view pushed on top of it."""
        stack = self.modal_stacks.get(view.user_id, [])
        if view.id in stack:
            for view_id in stack[stack.index(view.id) :]:
                self.views[view_id].closed = True
            del stack[stack.index(view.id) :]
        view.closed = True

    def close_stack(self, user_id: str) -> None:
        stack = self.modal_stacks.get(user_id, [])
        if stack:
            self.close_view(self.views[stack[0]])
