"""A strict fake of the Slack Web API served over a real socket, for end-to-end bot tests.

Usage::

    with FakeSlack() as slack:                      # 127.0.0.1:<random port>
        client = WebClient(token="xoxb-test-token", base_url=slack.api_url)
        slack.add_channel("C0DATA", "data")
        ...                                         # drive the bot (see slack_requests.SlackRequestSender)
        call = slack.wait_for_call("chat.postMessage", lambda c: c.args["channel"] == "C0DATA")
        assert slack.messages("C0DATA")[0].text == "Syncing…"

Every request (rejected ones included) is recorded as a :class:`SlackCall`.  The workspace starts with
a human user ``U0TESTER`` (``default_user_id``) who is, with the bot, a member of ``#general``
(``C0GENERAL``, ``default_channel_id``).  Method semantics and error codes follow Slack (see
``slack_methods.py`` / ``slack_views.py``); Block Kit limits come from ``slack_blockkit.py``.
Time-based expiry (trigger_ids, response_urls) uses a clock that :meth:`FakeSlack.advance_time` moves.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from demo.fakes import slack_limits
from demo.fakes.slack_calls import CallLog, SlackCall
from demo.fakes.slack_faults import Fault, FaultMode, FaultQueue, default_status
from demo.fakes.slack_history import HISTORY_METHODS
from demo.fakes.slack_http import HttpRequest, HttpResponse, HttpServer, json_response
from demo.fakes.slack_install import SlackInstalls
from demo.fakes.slack_methods import (
    APP_TOKEN_METHODS,
    CHAT_METHODS,
    ApiContext,
    ApiError,
    JsonDict,
    Method,
    decode_args,
    decode_json_body,
    request_token,
)
from demo.fakes.slack_queries import WorkspaceQueries
from demo.fakes.slack_responses import RESPONSE_URL_MAX_USES, RESPONSE_URL_TTL, apply_reply, use_response_url
from demo.fakes.slack_state import (
    Channel,
    ResponseUrl,
    Trigger,
    User,
    View,
    Workspace,
    random_id,
)
from demo.fakes.slack_usergroups import UserGroups
from demo.fakes.slack_views import MAX_MODAL_STACK, VIEW_METHODS, checked_view


@dataclass
class _Answer:
    status: int
    payload: JsonDict
    headers: list[tuple[str, str]] = field(default_factory=list)
    fault: Fault | None = None
    applied: JsonDict | None = None


class FakeSlack(WorkspaceQueries):
    """Fake Slack workspace + Web API server.  Thread-safe; state is guarded by one lock."""

    def __init__(
        self,
        *,
        bot_tokens: Iterable[str] = ("xoxb-test-token",),
        app_tokens: Iterable[str] = ("xapp-1-A0TEST-1-test",),
        team_id: str = "T0TEST",
        team_name: str = "Fake Team",
        team_domain: str = "fake",
        bot_user_id: str = "U0BOT",
        bot_id: str = "B0BOT",
        app_id: str = "A0TEST",
        bot_name: str = "datastore",
        chat_write_public: bool = True,
        trigger_ttl: float | None = None,
        response_url_ttl: float = RESPONSE_URL_TTL,
        response_url_max_uses: int = RESPONSE_URL_MAX_USES,
        default_user_id: str = "U0TESTER",
        default_channel_id: str = "C0GENERAL",
    ) -> None:
        self.bot_tokens, self.app_tokens = set(bot_tokens), set(app_tokens)
        self.team_id, self.team_domain, self.app_id, self.bot_user_id = team_id, team_domain, app_id, bot_user_id
        self.default_user_id, self.default_channel_id = default_user_id, default_channel_id
        self._url_limits = (response_url_ttl, response_url_max_uses)
        self._ws = Workspace(team_id, bot_user_id, bot_id, app_id)
        self._clock_offset = 0.0
        ttl = slack_limits.SLACK_SECONDS if trigger_ttl is None else trigger_ttl
        self._ctx = ApiContext(self._ws, team_name, team_domain, bot_name, chat_write_public, ttl, self.now)
        self.usergroups = UserGroups()
        self._methods: dict[str, Method] = {
            **CHAT_METHODS,
            **HISTORY_METHODS,
            **VIEW_METHODS,
            **self.usergroups.methods(),
        }
        self._lock = threading.RLock()
        self._log = CallLog()
        self._faults = FaultQueue()
        self._server = HttpServer(self._handle)
        self.installs = SlackInstalls(team_id, team_name, bot_user_id, app_id, self.bot_tokens.add)
        self.add_user(bot_user_id, bot_name, real_name="Datastore Bot", is_bot=True)
        self.add_user(default_user_id, "tester", real_name="Test User")
        self.add_channel(default_channel_id, "general", members=[default_user_id])

    # ---- lifecycle -------------------------------------------------------------------------------
    def start(self) -> FakeSlack:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return self._server.url

    @property
    def api_url(self) -> str:
        """``http://127.0.0.1:PORT/api/`` — the WebClient ``base_url`` / the bot's SLACK_API_URL."""
        return f"{self._server.url}/api/"

    def now(self) -> float:
        """Monotonic clock used for trigger_id / response_url expiry."""
        return time.monotonic() + self._clock_offset

    def enable_socket_mode(self, url: str | None) -> None:
        """``apps.connections.open`` answers ``url`` (a slack_socket.FakeSocketMode's), or refuses when None."""
        with self._lock:
            self._ctx.socket_mode_url = url

    def advance_time(self, seconds: float) -> None:
        with self._lock:
            self._clock_offset += seconds

    # ---- workspace setup -------------------------------------------------------------------------
    def add_user(
        self,
        user_id: str,
        name: str,
        *,
        real_name: str = "",
        display_name: str = "",
        is_admin: bool = False,
        is_owner: bool = False,
        is_bot: bool = False,
        tz: str = "Europe/Paris",
        tz_offset: int = 3600,
    ) -> User:
        user = User(user_id, name, self._ws.team_id, real_name or name, display_name, is_admin, is_owner, is_bot)
        user.tz, user.tz_offset = tz, tz_offset
        with self._lock:
            self._ws.users[user_id] = user
        return user

    def add_channel(
        self,
        channel_id: str,
        name: str,
        *,
        is_private: bool = False,
        is_archived: bool = False,
        bot_is_member: bool = True,
        members: Iterable[str] = (),
    ) -> Channel:
        channel = Channel(channel_id, name, is_private=is_private, is_archived=is_archived, members=set(members))
        if bot_is_member:
            channel.members.add(self.bot_user_id)
        with self._lock:
            self._ws.channels[channel_id] = channel
            self._ws.messages.setdefault(channel_id, {})
        return channel

    def add_usergroup(self, group_id: str, handle: str, members: Iterable[str]) -> None:
        """A Slack user group (``@handle``) with these members, for ``usergroups.*``."""
        with self._lock:
            self.usergroups.add(group_id, handle, members)

    def add_channel_member(self, channel_id: str, user_id: str) -> None:
        with self._lock:
            self._channel(channel_id).members.add(user_id)

    def add_message(self, channel: str, text: str, *, user: str | None = None, thread_ts: str | None = None) -> str:
        """A message posted by a human (default user) — e.g. to test ``cant_update_message``; returns ts."""
        with self._lock:
            message = self._ws.post_message(self._channel(channel), {"text": text, "thread_ts": thread_ts})
            message.user, message.bot_id, message.app_id = user or self.default_user_id, "", ""
            return message.ts

    def issue_trigger_id(self, user_id: str | None = None) -> str:
        """A fresh trigger_id for ``user_id`` (default user): single use, valid ``trigger_ttl`` seconds."""
        with self._lock:
            trigger = Trigger(self._ws.new_trigger_id(), user_id or self.default_user_id, self.now())
            self._ws.triggers[trigger.id] = trigger
            return trigger.id

    def new_response_url(
        self, channel_id: str | None = None, user_id: str | None = None, message_ts: str | None = None
    ) -> str:
        """``http://127.0.0.1:PORT/response/<id>``: 5 uses within 30 minutes, replies land in the fake."""
        with self._lock:
            target = ResponseUrl(
                id=random_id("R", 16),
                channel_id=channel_id or self.default_channel_id,
                user_id=user_id or self.default_user_id,
                issued_at=self.now(),
                message_ts=message_ts,
            )
            self._ws.response_urls[target.id] = target
        return f"{self.base_url}/response/{target.id}"

    # ---- fault injection -------------------------------------------------------------------------
    def fail(
        self,
        method: str,
        error: str = "ratelimited",
        status: int | None = None,
        retry_after: int = 1,
        times: int = 1,
        *,
        mode: FaultMode = FaultMode.REFUSE,
        stall: float = 0.0,
        when: Callable[[JsonDict], bool] | None = None,
    ) -> None:
        """Make the next ``times`` calls of ``method`` (those ``when`` accepts) fail; see slack_faults.py.

        ``refuse`` (default) applies nothing (429 + Retry-After for ratelimited); ``apply_then_error`` applies
        the call and answers ``status`` (500 by default); ``apply_then_drop`` applies it and hangs up;
        ``apply_then_stall`` applies it and answers only after ``stall`` seconds."""
        http_status = status if status is not None else default_status(error, mode)
        self._faults.add(method, Fault(error, http_status, retry_after, times, mode, stall, when))

    def pending_faults(self, method: str | None = None) -> int:
        """Faulty answers still queued: 0 once every injected fault was hit."""
        return self._faults.pending(method)

    def delete_message(self, channel: str, ts: str) -> None:
        with self._lock:
            self._ws.messages[channel][ts].deleted = True

    def archive_channel(self, channel_id: str) -> None:
        with self._lock:
            self._channel(channel_id).is_archived = True

    def remove_bot_from_channel(self, channel_id: str) -> None:
        with self._lock:
            self._channel(channel_id).members.discard(self.bot_user_id)

    def calls(self, method: str | None = None) -> list[SlackCall]:
        return self._log.calls(method)

    def reset_calls(self) -> None:
        self._log.reset()

    def wait_for_call(
        self,
        method: str,
        predicate: Callable[[SlackCall], bool] | None = None,
        timeout: float = 5.0,
        count: int = 1,
    ) -> SlackCall:
        """Block until ``count`` matching calls were recorded; returns the ``count``-th one."""
        return self._log.wait_for(method, predicate, timeout, count)

    # ---- effects of interactive responses (used by SlackRequestSender) ---------------------------
    def set_view_state(self, view_id: str, values: dict[str, dict[str, JsonDict]]) -> None:
        with self._lock:
            self._ws.views[view_id].state_values = copy.deepcopy(values)

    def replace_view(self, view_id: str, definition: JsonDict) -> View:
        """``response_action: update`` — raises AssertionError if Slack would reject the view."""
        with self._lock:
            view = self._ws.views[view_id]
            self._ws.apply_definition(view, self._checked(definition, view.type))
            return copy.deepcopy(view)

    def push_view(self, user_id: str, definition: JsonDict) -> View:
        """``response_action: push`` (no trigger needed)."""
        with self._lock:
            if len(self._ws.modal_stacks.get(user_id, [])) >= MAX_MODAL_STACK:
                raise AssertionError("response_action=push beyond 3 stacked views: Slack would reject it")
            return copy.deepcopy(self._ws.push_modal(user_id, self._checked(definition, "modal")))

    def close_view(self, view_id: str, *, clear: bool = False) -> None:
        """Close a view (and those pushed above it), or the user's whole stack when ``clear``."""
        with self._lock:
            view = self._ws.views[view_id]
            self._ws.close_stack(view.user_id) if clear else self._ws.close_view(view)

    def apply_ack_reply(self, channel_id: str, user_id: str, body: JsonDict) -> None:
        """A slash command acked with a message body: shown as a reply (ephemeral by default)."""
        with self._lock:
            target = ResponseUrl("ack", channel_id, user_id, self.now())
            apply_reply(self._ws, target, body, source="ack")

    def _checked(self, definition: JsonDict, view_type: str) -> JsonDict:
        try:
            return checked_view({"view": definition}, view_type)
        except ApiError as exc:
            raise AssertionError(f"Slack would reject this view: {exc.to_json()}") from exc

    def _handle(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/api/"):
            return self._handle_api(request.path.removeprefix("/api/"), request)
        if request.path.startswith("/response/"):
            return self._handle_response_url(request.path.removeprefix("/response/"), request)
        return json_response(404, {"ok": False, "error": "not_found"})

    def _handle_api(self, method: str, request: HttpRequest) -> HttpResponse:
        args: JsonDict = {}
        with self._lock:
            try:
                args = decode_args(request)
                token = request_token(request, args) if method != "oauth.v2.access" else None
                install = method == "oauth.v2.access"
                answer = (
                    _Answer(200, self.installs.access(request, args)) if install else self._run(method, args, token)
                )
            except ApiError as exc:
                token, answer = None, _Answer(200, exc.to_json())
            fault = answer.fault
            mode = fault.mode.value if fault is not None else None
            call = SlackCall(method, args, answer.status, answer.payload, time.monotonic(), token, request.method)
            self._log.record(replace(call, fault=mode, applied=answer.applied))
        response = json_response(answer.status, answer.payload, answer.headers)
        if fault is not None and fault.mode is FaultMode.APPLY_THEN_DROP:
            response.drop = True
        if fault is not None and fault.mode is FaultMode.APPLY_THEN_STALL:
            response.delay = fault.stall
        return response

    def _run(self, method: str, args: JsonDict, token: str | None) -> _Answer:
        implementation = self._methods.get(method)
        if implementation is None:
            return _Answer(200, {"ok": False, "error": "unknown_method", "req_method": method})
        if not token:
            raise ApiError("not_authed")
        if method in APP_TOKEN_METHODS and token not in self.app_tokens:
            raise ApiError("not_allowed_token_type" if token in self.bot_tokens else "invalid_auth")
        if method not in APP_TOKEN_METHODS and token not in self.bot_tokens:
            raise ApiError("not_allowed_token_type" if token in self.app_tokens else "invalid_auth")
        fault = self._faults.take(method, args)
        if fault is not None and not fault.applies_the_call:
            return _Answer(fault.status, {"ok": False, "error": fault.error}, fault.headers(), fault)
        try:
            result = implementation(self._ctx, args)
        except ApiError as exc:
            result = exc.to_json()
        if fault is None:
            return _Answer(200, result)
        if fault.mode is FaultMode.APPLY_THEN_ERROR:
            return _Answer(fault.status, {"ok": False, "error": fault.error}, fault.headers(), fault, result)
        return _Answer(200, result, [], fault, result)  # dropped or stalled: the client never reads it in time

    def _handle_response_url(self, url_id: str, request: HttpRequest) -> HttpResponse:
        with self._lock:
            body: JsonDict = {}
            target = self._ws.response_urls.get(url_id)
            try:
                body = decode_json_body(request)
                status, payload = use_response_url(self._ws, target, body, self.now(), self._url_limits)
            except ApiError as exc:
                status, payload = 400, exc.to_json()
            args = {**body, "response_url_id": url_id}
            self._log.record(SlackCall("response_url", args, status, payload, time.monotonic(), None, request.method))
        return json_response(status, payload)
