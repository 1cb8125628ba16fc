"""Slack request bodies as data, built like SlackRequestSender builds them but not sent: corpora mutate them.

Each builder returns the fields / payload / envelope Slack would send for one kind of request, with ids,
trigger ids and response_urls issued by the fake Slack (so a bot that wrongly acted on one would show up in
``FakeSlack.calls()``). ``encode`` turns one into the exact bytes and content type Slack would POST.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import urlencode

from demo.fakes.slack_api import FakeSlack
from demo.fakes.slack_state import JsonDict

__all__ = [
    "FORM",
    "JSON",
    "block_actions",
    "block_suggestion",
    "command",
    "encode",
    "event_callback",
    "signed_headers",
    "url_verification",
    "view_closed",
    "view_submission",
]

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
VIEW_ID = "V0CORPUS01"


def signed_headers(secret: str, body: bytes, *, timestamp: str | None = None) -> dict[str, str]:
    """Slack's two headers for ``body``, signed with ``secret`` now (or at the given timestamp text)."""
    stamp = timestamp if timestamp is not None else str(int(time.time()))
    digest = hmac.new(secret.encode(), b"v0:" + stamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest}"}


def encode(kind: str, data: JsonDict) -> tuple[bytes, str]:
    """The body and content type Slack sends ``data`` of this kind with."""
    if kind == "command":
        return urlencode(data).encode(), FORM
    if kind in ("event_callback", "url_verification", "app_rate_limited"):
        return json.dumps(data).encode(), JSON
    return urlencode({"payload": json.dumps(data, separators=(",", ":"))}).encode(), FORM


def _base(slack: FakeSlack, kind: str, user_id: str | None = None) -> JsonDict:
    user = slack.user(user_id or slack.default_user_id)
    return {
        "type": kind,
        "team": {"id": slack.team_id, "domain": slack.team_domain},
        "user": {"id": user.id, "username": user.name, "name": user.name, "team_id": slack.team_id},
        "api_app_id": slack.app_id,
        "token": "fake-verification-token",
        "is_enterprise_install": False,
        "enterprise": None,
    }


def _view(slack: FakeSlack, callback_id: str, private_metadata: str, values: dict[str, Any]) -> JsonDict:
    return {
        "id": VIEW_ID,
        "team_id": slack.team_id,
        "type": "modal",
        "blocks": [],
        "private_metadata": private_metadata,
        "callback_id": callback_id,
        "state": {"values": values},
        "hash": "1700000000.abcdef12",
        "title": {"type": "plain_text", "text": "Datastore Bot"},
        "clear_on_close": False,
        "notify_on_close": False,
        "close": None,
        "submit": None,
        "previous_view_id": None,
        "root_view_id": VIEW_ID,
        "app_id": slack.app_id,
        "external_id": "",
        "app_installed_team_id": slack.team_id,
        "bot_id": "B0BOT",
    }


def command(slack: FakeSlack, text: str = "help", name: str = "/datastore") -> JsonDict:
    channel_id, user_id = slack.default_channel_id, slack.default_user_id
    return {
        "token": "fake-verification-token",
        "team_id": slack.team_id,
        "team_domain": slack.team_domain,
        "channel_id": channel_id,
        "channel_name": "general",
        "user_id": user_id,
        "user_name": "tester",
        "command": name,
        "text": text,
        "api_app_id": slack.app_id,
        "is_enterprise_install": "false",
        "response_url": slack.new_response_url(channel_id, user_id),
        "trigger_id": slack.issue_trigger_id(user_id),
    }


def block_actions(slack: FakeSlack, action_id: str, value: str = "1", *, in_view: bool = False) -> JsonDict:
    """A button click in a channel message (with a response_url), or in a modal when ``in_view``."""
    payload = _base(slack, "block_actions")
    payload["trigger_id"] = slack.issue_trigger_id(slack.default_user_id)
    action = {"type": "button", "action_id": action_id, "block_id": "corpus-block", "value": value}
    payload["actions"] = [action | {"action_ts": f"{time.time():.6f}", "text": {"type": "plain_text", "text": "Go"}}]
    if in_view:
        payload.update(container={"type": "view", "view_id": VIEW_ID}, view=_view(slack, "", "", {}))
    else:
        channel_id = slack.default_channel_id
        payload["container"] = {"type": "message", "message_ts": "1700000000.000100", "channel_id": channel_id}
        payload["channel"] = {"id": channel_id, "name": "general"}
        payload["message"] = {"type": "message", "user": slack.bot_user_id, "ts": "1700000000.000100", "text": "x"}
        payload["state"] = {"values": {}}
        payload["response_url"] = slack.new_response_url(channel_id, slack.default_user_id)
    return payload


def view_submission(
    slack: FakeSlack, callback_id: str, private_metadata: str = "", values: dict[str, Any] | None = None
) -> JsonDict:
    payload = _base(slack, "view_submission")
    payload.update(trigger_id=slack.issue_trigger_id(slack.default_user_id), response_urls=[])
    payload["view"] = _view(slack, callback_id, private_metadata, values or {})
    return payload


def view_closed(slack: FakeSlack, callback_id: str, private_metadata: str = "") -> JsonDict:
    payload = _base(slack, "view_closed")
    payload.update(view=_view(slack, callback_id, private_metadata, {}), is_cleared=False)
    return payload


def block_suggestion(slack: FakeSlack, action_id: str, value: str = "eng", private_metadata: str = "") -> JsonDict:
    payload = _base(slack, "block_suggestion")
    payload.update(container={"type": "view", "view_id": VIEW_ID}, view=_view(slack, "x", private_metadata, {}))
    payload.update(action_id=action_id, block_id="corpus-block", value=value, action_ts=f"{time.time():.6f}")
    return payload


def event_callback(slack: FakeSlack, event: JsonDict | None = None) -> JsonDict:
    """An Events API envelope; by default App Home opened by the default user."""
    user_id = slack.default_user_id
    inner = event if event is not None else {"type": "app_home_opened", "user": user_id, "tab": "home"}
    return {
        "token": "fake-verification-token",
        "team_id": slack.team_id,
        "api_app_id": slack.app_id,
        "event": {"event_ts": f"{time.time():.6f}", "channel": "D0CORPUS1", **inner},
        "type": "event_callback",
        "event_id": "Ev0CORPUS01",
        "event_time": int(time.time()),
        "authorizations": [
            {"team_id": slack.team_id, "user_id": slack.bot_user_id, "is_bot": True, "enterprise_id": None}
        ],
        "is_ext_shared_channel": False,
    }


def url_verification(challenge: str = "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P") -> JsonDict:
    return {"token": "fake-verification-token", "challenge": challenge, "type": "url_verification"}
