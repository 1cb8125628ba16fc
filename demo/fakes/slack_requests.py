"""Signed requests to the bot's ``POST /slack/events``, sent exactly as Slack sends them.

Usage::

    with FakeSlack() as slack, SlackRequestSender(bot_url + "/slack/events", SECRET, slack) as sender:
        sender.slash_command("create")                     # trigger_id/response_url issued by the fake
        modal = slack.wait_for_call("views.open").response["view"]
        result = sender.view_submission(modal["id"], {"name_block": {"name": "Docs"}})
        assert result.errors is None and slack.view(modal["id"]).callback_id == "step2"

Wire formats (as Slack): slash commands are form fields (the typed text with ``& < >`` sent as entities);
interactivity (``block_actions``, ``view_submission``, ``view_closed``, ``block_suggestion``) is a form field
``payload=<json>``; Events API callbacks and ``url_verification`` are ``application/json``.  Each request carries
``X-Slack-Request-Timestamp`` and ``X-Slack-Signature = v0=hex(HMAC-SHA256(secret, "v0:{ts}:{body}"))``;
``sign=`` sends it unsigned, with a wrong signature or a stale (>5 min) timestamp.
``team_id`` / ``enterprise_id`` say where the requests come from (another workspace, an Enterprise Grid org:
``enterprise``, ``team.enterprise_id`` and slash commands' ``enterprise_id`` as Slack sends them), and
``org_install`` sends them as to an org-wide install (interactivity then has ``team: null``).  The bot must
answer within ``ack_timeout`` (``slack_limits.SLACK_SECONDS``, 3 s) or an AssertionError is raised.  Answers are
applied to the fake like Slack applies them (ack text → ephemeral, ``response_action`` → view update / push /
errors / clear / close).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal
from urllib.parse import urlencode

import httpx

from demo.fakes import slack_limits
from demo.fakes.slack_api import FakeSlack
from demo.fakes.slack_payloads import (
    ack_message,
    check_options_response,
    element_value,
    find_element,
    slack_escaped,
    state_values,
)
from demo.fakes.slack_state import JsonDict, View, random_id

SignMode = Literal["valid", "unsigned", "bad_signature", "stale"]
ENTERPRISE_NAME = "Fake Org"
STALE_SECONDS = 6 * 60
VIEW_RESPONSE_ACTIONS = ("update", "push", "errors", "clear")


@dataclass
class BotResponse:
    """The bot's HTTP answer plus what was sent (``sent``: the form fields / payload / envelope)."""

    status: int
    body: str
    headers: httpx.Headers
    elapsed: float
    sent: JsonDict = field(default_factory=dict)
    errors: dict[str, str] | None = None

    @property
    def json(self) -> JsonDict | None:
        if not self.body.strip():
            return None
        data = json.loads(self.body)
        return data if isinstance(data, dict) else None


class SlackRequestSender:
    """Plays Slack's side of slash commands, interactivity and events against a running bot."""

    def __init__(
        self,
        events_url: str,
        signing_secret: str,
        slack: FakeSlack,
        *,
        team_id: str | None = None,
        enterprise_id: str | None = None,
        org_install: bool = False,
        verification_token: str = "fake-verification-token",
        ack_timeout: float | None = None,
    ) -> None:
        self.events_url, self.signing_secret, self.slack = events_url, signing_secret, slack
        self.team_id = team_id or slack.team_id
        self.enterprise_id, self.org_install = enterprise_id, org_install
        if org_install and enterprise_id is None:
            raise ValueError("an org-wide install belongs to an Enterprise Grid org: pass enterprise_id")
        self.verification_token = verification_token
        self.ack_timeout = slack_limits.SLACK_SECONDS if ack_timeout is None else ack_timeout
        self._http = httpx.Client(timeout=self.ack_timeout)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> SlackRequestSender:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # ---- transport -------------------------------------------------------------------------------
    def signature_headers(self, body: str, *, sign: SignMode = "valid") -> dict[str, str]:
        timestamp = str(int(time.time()) - (STALE_SECONDS if sign == "stale" else 0))
        if sign == "unsigned":
            return {}
        secret = self.signing_secret + ("-wrong" if sign == "bad_signature" else "")
        digest = hmac.new(secret.encode(), f"v0:{timestamp}:{body}".encode(), hashlib.sha256).hexdigest()
        return {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": f"v0={digest}"}

    def post(
        self, body: str, content_type: str, *, sign: SignMode = "valid", headers: dict[str, str] | None = None
    ) -> BotResponse:
        """POST a raw body to the events URL with Slack's headers; AssertionError on a late answer."""
        all_headers = {"Content-Type": content_type, "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)"}
        all_headers.update(self.signature_headers(body, sign=sign))
        all_headers.update(headers or {})
        started = time.monotonic()
        try:
            response = self._http.post(self.events_url, content=body.encode(), headers=all_headers)
        except httpx.TimeoutException as exc:
            raise AssertionError(f"bot did not answer within {self.ack_timeout}s: Slack shows a timeout") from exc
        return BotResponse(response.status_code, response.text, response.headers, time.monotonic() - started)

    def post_payload(self, payload: JsonDict, sign: SignMode = "valid") -> BotResponse:
        body = urlencode({"payload": json.dumps(payload, separators=(",", ":"))})
        result = self.post(body, "application/x-www-form-urlencoded", sign=sign)
        result.sent = payload
        return result

    def click_in_ephemeral(
        self, action_id: str, block_id: str, value: str, channel_id: str, user_id: str | None = None
    ) -> BotResponse:
        """Click a button in an ephemeral message (a slash command's reply): Slack sends the action with a
        response_url but no stored message, since ephemeral messages are not kept in the channel."""
        user_id = user_id or self.slack.default_user_id
        payload = self.base_payload("block_actions", user_id)
        payload.update(
            trigger_id=self.slack.issue_trigger_id(user_id),
            container={"type": "message", "channel_id": channel_id, "is_ephemeral": True},
            channel={"id": channel_id, "name": self.slack.channel(channel_id).name},
            response_url=self.slack.new_response_url(channel_id, user_id),
            actions=[
                {
                    "type": "button",
                    "action_id": action_id,
                    "block_id": block_id,
                    "value": value,
                    "action_ts": f"{time.time():.6f}",
                }
            ],
        )
        return self.post_payload(payload, "valid")

    def replay_view_submission(self, view_id: str, user_id: str | None = None) -> BotResponse:
        """Send a view_submission of the view as it is now, without applying the answer: what a double
        click on Submit sends the second time, when Slack has not closed the modal yet."""
        view = self.slack.view(view_id)
        payload = self.base_payload("view_submission", user_id or view.user_id)
        payload.update(trigger_id=self.slack.issue_trigger_id(view.user_id), response_urls=[], view=view.to_json())
        return self.post_payload(payload, "valid")

    # ---- common payload parts --------------------------------------------------------------------
    def _user(self, user_id: str) -> JsonDict:
        user = self.slack.user(user_id)
        return {"id": user.id, "username": user.name, "name": user.name, "team_id": self.team_id}

    def base_payload(self, kind: str, user_id: str) -> JsonDict:
        team: JsonDict | None = {"id": self.team_id, "domain": self.slack.team_domain}
        enterprise: JsonDict | None = None
        if self.enterprise_id is not None:
            enterprise = {"id": self.enterprise_id, "name": ENTERPRISE_NAME}
            team = {**(team or {}), "enterprise_id": self.enterprise_id, "enterprise_name": ENTERPRISE_NAME}
        return {
            "type": kind,
            "team": None if self.org_install else team,
            "user": self._user(user_id),
            "api_app_id": self.slack.app_id,
            "token": self.verification_token,
            "is_enterprise_install": self.org_install,
            "enterprise": enterprise,
        }

    def _open_view(self, view_id: str) -> View:
        view = self.slack.view(view_id)
        if view.closed:
            raise AssertionError(f"view {view_id} is closed: the user cannot interact with it")
        return view

    # ---- slash commands --------------------------------------------------------------------------
    def slash_command(
        self,
        text: str = "",
        command: str = "/datastore",
        user_id: str | None = None,
        channel_id: str | None = None,
        *,
        sign: SignMode = "valid",
    ) -> BotResponse:
        """Send a slash command; an ack with a message body is recorded as the reply Slack shows."""
        user_id, channel_id = user_id or self.slack.default_user_id, channel_id or self.slack.default_channel_id
        channel, user = self.slack.channel(channel_id), self.slack.user(user_id)
        channel_name = "directmessage" if channel.is_im else "privategroup" if channel.is_private else channel.name
        fields = {
            "token": self.verification_token,
            "team_id": self.team_id,
            "team_domain": self.slack.team_domain,
            "channel_id": channel_id,
            "channel_name": channel_name,
            "user_id": user_id,
            "user_name": user.name,
            "command": command,
            "text": slack_escaped(text),
            "api_app_id": self.slack.app_id,
            "is_enterprise_install": "true" if self.org_install else "false",
            "response_url": self.slack.new_response_url(channel_id, user_id),
            "trigger_id": self.slack.issue_trigger_id(user_id),
        }
        if self.enterprise_id is not None:
            fields.update(enterprise_id=self.enterprise_id, enterprise_name=ENTERPRISE_NAME)
        result = self.post(urlencode(fields), "application/x-www-form-urlencoded", sign=sign)
        result.sent = fields
        if result.status == 200 and result.body.strip():
            self.slack.apply_ack_reply(channel_id, user_id, ack_message(result.body))
        return result

    # ---- modals ----------------------------------------------------------------------------------
    def view_submission(
        self,
        view_id: str,
        values: dict[str, dict[str, Any]] | None = None,
        user_id: str | None = None,
        *,
        sign: SignMode = "valid",
    ) -> BotResponse:
        """Submit the top view of a modal stack and apply the bot's ``response_action``."""
        view = self._open_view(view_id)
        stack = [v.id for v in self.slack.open_views(view.user_id)]
        if view.type != "modal" or not stack or stack[-1] != view_id:
            raise AssertionError(f"view {view_id} is not the top of an open modal stack {stack}")
        user_id = user_id or view.user_id
        self.slack.set_view_state(view_id, state_values(view, values))
        payload = self.base_payload("view_submission", user_id)
        payload.update(trigger_id=self.slack.issue_trigger_id(user_id), response_urls=[])
        payload["view"] = self.slack.view(view_id).to_json()
        result = self.post_payload(payload, sign)
        if result.status == 200:
            self._apply_view_answer(view, user_id, result)
        return result

    def _apply_view_answer(self, view: View, user_id: str, result: BotResponse) -> None:
        if not result.body.strip():
            self.slack.close_view(view.id)
            return
        try:
            answer = result.json or {}
        except ValueError as exc:
            raise AssertionError(f"non-JSON view_submission ack {result.body!r}: Slack shows an error") from exc
        action = answer.get("response_action")
        if action not in VIEW_RESPONSE_ACTIONS:
            raise AssertionError(f"unknown response_action in {answer!r}: Slack shows an error")
        if action == "update":
            self.slack.replace_view(view.id, answer.get("view") or {})
        elif action == "push":
            self.slack.push_view(user_id, answer.get("view") or {})
        elif action == "clear":
            self.slack.close_view(view.id, clear=True)
        else:
            result.errors = self._checked_errors(view, answer.get("errors"))

    @staticmethod
    def _checked_errors(view: View, errors: Any) -> dict[str, str]:
        input_ids = {b.get("block_id") for b in view.blocks if b.get("type") == "input"}
        if not isinstance(errors, dict) or not errors or not set(errors) <= input_ids:
            raise AssertionError(f"response_action=errors needs input block_ids of the view {input_ids}: {errors}")
        return {str(k): str(v) for k, v in errors.items()}

    def view_closed(
        self, view_id: str, user_id: str | None = None, is_cleared: bool = False, *, sign: SignMode = "valid"
    ) -> BotResponse | None:
        """The user closes the modal (X / Cancel); Slack notifies the bot only if ``notify_on_close``."""
        view = self._open_view(view_id)
        self.slack.close_view(view_id, clear=is_cleared)
        if not view.notify_on_close:
            return None
        payload = self.base_payload("view_closed", user_id or view.user_id)
        payload.update(view=view.to_json(), is_cleared=is_cleared)
        return self.post_payload(payload, sign)

    # ---- interactive components ------------------------------------------------------------------
    def block_actions(
        self,
        action_id: str,
        block_id: str | None = None,
        value: Any = None,
        selected_option: Any = None,
        view_id: str | None = None,
        message: tuple[str, str] | None = None,
        user_id: str | None = None,
        *,
        sign: SignMode = "valid",
    ) -> BotResponse:
        """Click / select an element of a view (``view_id``) or of a message (``message=(channel, ts)``)."""
        if (view_id is None) == (message is None):
            raise ValueError("pass exactly one of view_id or message")
        user_id = user_id or (self.slack.view(view_id).user_id if view_id else self.slack.default_user_id)
        payload = self.base_payload("block_actions", user_id)
        payload["trigger_id"] = self.slack.issue_trigger_id(user_id)
        if view_id is not None:
            view = self._open_view(view_id)
            blocks = view.blocks
            payload.update(container={"type": "view", "view_id": view_id}, view=view.to_json())
        else:
            assert message is not None
            channel_id, ts = message
            stored = self.slack.message(channel_id, ts)
            if stored.deleted:
                raise AssertionError(f"message {ts} was deleted: nothing to click")
            blocks = stored.blocks
            container = {"type": "message", "message_ts": ts, "channel_id": channel_id, "is_ephemeral": False}
            payload.update(container=container, message=stored.to_json(), state={"values": {}})
            payload["channel"] = {"id": channel_id, "name": self.slack.channel(channel_id).name}
            payload["response_url"] = self.slack.new_response_url(channel_id, user_id, message_ts=ts)
        block, element = find_element(blocks, action_id, block_id)
        if block.get("type") == "input" and not block.get("dispatch_action"):
            raise AssertionError(f"input {block.get('block_id')!r} lacks dispatch_action: Slack sends no action")
        action = element_value(element, selected_option if selected_option is not None else value)
        action.update(action_id=action_id, block_id=block["block_id"], action_ts=f"{time.time():.6f}")
        payload["actions"] = [action]
        return self.post_payload(payload, sign)

    def block_suggestion(
        self, view_id: str, action_id: str, block_id: str, value: str, user_id: str | None = None
    ) -> list[JsonDict]:
        """The user types ``value`` into an external select; returns the options the bot answered."""
        view = self._open_view(view_id)
        _block, element = find_element(view.blocks, action_id, block_id)
        if not element["type"].endswith("external_select"):
            raise AssertionError(f"{action_id!r} is a {element['type']}: Slack loads options only for external")
        if len(value) < int(element.get("min_query_length", 3)):
            raise AssertionError(f"{value!r} is shorter than min_query_length: Slack sends no request")
        payload = self.base_payload("block_suggestion", user_id or view.user_id)
        payload.update(container={"type": "view", "view_id": view_id}, view=view.to_json())
        payload.update(action_id=action_id, block_id=block_id, value=value, action_ts=f"{time.time():.6f}")
        result = self.post_payload(payload, "valid")
        if result.status != 200:
            raise AssertionError(f"options request answered HTTP {result.status}: {result.body!r}")
        return check_options_response(result.json)

    # ---- Events API ------------------------------------------------------------------------------
    def event(
        self, event: JsonDict, *, sign: SignMode = "valid", retry_num: int | None = None, retry_reason: str = ""
    ) -> BotResponse:
        """Deliver ``event`` in an ``event_callback`` envelope (JSON, like the Events API)."""
        event = {"event_ts": f"{time.time():.6f}", **event}
        envelope = {
            "token": self.verification_token,
            "team_id": self.team_id,
            "api_app_id": self.slack.app_id,
            "event": event,
            "type": "event_callback",
            "event_id": random_id("Ev", 10),
            "event_time": int(time.time()),
            "authorizations": [
                {"team_id": self.team_id, "user_id": self.slack.bot_user_id, "is_bot": True}
                | {"enterprise_id": self.enterprise_id, "is_enterprise_install": self.org_install}
            ],
            "is_ext_shared_channel": False,
        }
        if self.enterprise_id is not None:
            envelope["enterprise_id"] = self.enterprise_id
        headers = {}
        if retry_num is not None:
            headers = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": retry_reason or "http_timeout"}
        result = self.post(json.dumps(envelope), "application/json", sign=sign, headers=headers)
        result.sent = envelope
        return result

    def app_home_opened(self, user_id: str | None = None, *, sign: SignMode = "valid") -> BotResponse:
        user_id = user_id or self.slack.default_user_id
        event: JsonDict = {"type": "app_home_opened", "user": user_id, "tab": "home"}
        event["channel"] = self.slack.dm_channel_id(user_id)
        home = self.slack.home_view(user_id)
        if home is not None:
            event["view"] = home.to_json()
        return self.event(event, sign=sign)

    def url_verification(self, challenge: str, *, sign: SignMode = "valid") -> BotResponse:
        body = {"token": self.verification_token, "challenge": challenge, "type": "url_verification"}
        result = self.post(json.dumps(body), "application/json", sign=sign)
        result.sent = body
        return result
