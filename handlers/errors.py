"""The single ``@app.error`` handler: never a 5xx for a verified request, never anything for an unverified one.

Bolt calls it for a listener that raised, a middleware that raised, and (``raise_error_for_unhandled_request``)
a request no listener took. First it checks the request's signature again, with the gate's own function
(bot/slack_signature.py), as of when the gate let it in; Socket Mode requests come over the authenticated
websocket and count as verified. A request that does not verify gets a bare 401: nothing is logged beyond
one line, nobody is told anything, no response_url is called.

For a verified request:

- no listener took it: the answer Slack expects (an ended-form modal for a submission, an ephemeral line for a
  command, no options for an options request, an empty 200 otherwise), logged as one line;
- a listener raised before acking: the same kinds of answer in the HTTP response itself, carrying the user
  message (an error id for the unexpected);
- it raised after acking (Bolt passes ``response=None`` then): the user is told through the response_url or
  the Web API, as the HTTP answer is gone.

User-facing errors are logged without a traceback; unexpected ones with their traceback and error id.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from slack_bolt import Ack, App, BoltContext, BoltRequest, BoltResponse
from slack_bolt.error import BoltUnhandledRequestError
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.webhook import WebhookClient

from bot.errors import UserFacingError
from bot.slack_body import slack_kind
from bot.slack_envelopes import SlackKind
from bot.slack_gate import RECEIVED_AT
from bot.slack_signature import Verdict, verify_signature
from handlers.ids import SLASH_COMMAND
from handlers.views.fallback import (
    TOO_SLOW_TEXT,
    UNKNOWN_COMMAND_TEXT,
    UNKNOWN_FORM_TEXT,
    command_reply,
    ended_form_view,
    no_options,
)

__all__ = ["ErrorHandler", "KeptAck", "register", "user_message_for"]

logger = logging.getLogger(__name__)


def user_message_for(error: Exception, error_id: str) -> str:
    if isinstance(error, UserFacingError):
        return str(error)
    return f"Something went wrong on my side (error id `{error_id}`). Try again, or give this id to your admin."


def _one(values: Sequence[str] | None) -> str | None:
    return values[0] if values is not None and len(values) == 1 else None


def _tell_user(body: dict[str, Any], client: WebClient, text: str) -> None:
    user = body.get("user_id") or (body.get("user") or {}).get("id")
    channel = body.get("channel_id") or (body.get("channel") or {}).get("id")
    try:
        if body.get("response_url"):
            WebhookClient(body["response_url"]).send(text=text, response_type="ephemeral")
        elif user and channel:
            client.chat_postEphemeral(channel=channel, user=user, text=text)
        elif user:
            dm = client.conversations_open(users=user)
            client.chat_postMessage(channel=dm["channel"]["id"], text=text)
    except (SlackApiError, SlackRequestError, OSError) as exc:
        logger.warning("could not tell the user about an error: %s", exc)


def _answer(kind: SlackKind | None, text: str | None) -> BoltResponse:
    """The HTTP answer Slack expects for ``kind``, telling the user ``text`` where Slack can show it."""
    if kind is SlackKind.VIEW_SUBMISSION:
        return BoltResponse(status=200, body={"response_action": "update", "view": ended_form_view(text or "")})
    if kind is SlackKind.COMMAND and text:
        return BoltResponse(status=200, body=command_reply(text))
    if kind is SlackKind.BLOCK_SUGGESTION:
        return BoltResponse(status=200, body=no_options())
    return BoltResponse(status=200, body="")


def _what(body: dict[str, Any], kind: SlackKind | None) -> str:
    """Which listener was looked for, for the log (ids are length-checked by the gate; repr keeps one line)."""
    if kind is SlackKind.COMMAND:
        detail = body.get("command")
    elif kind in (SlackKind.VIEW_SUBMISSION, SlackKind.VIEW_CLOSED):
        detail = (body.get("view") or {}).get("callback_id")
    elif kind is SlackKind.BLOCK_ACTIONS:
        detail = ((body.get("actions") or [{}])[0]).get("action_id")
    elif kind is SlackKind.BLOCK_SUGGESTION:
        detail = body.get("action_id")
    elif kind is SlackKind.EVENT:
        detail = (body.get("event") or {}).get("type")
    else:
        detail = None
    return f"{kind or 'request'} {str(detail)[:80]!r}" if detail is not None else str(kind or "request")


class ErrorHandler:
    def __init__(self, signing_secret: str) -> None:
        self._secret = signing_secret

    def verdict(self, request: BoltRequest) -> Verdict:
        """The request's signature, checked as of when the gate received it (now, if it never passed one)."""
        if request.mode == "socket_mode":
            return Verdict.VERIFIED
        received_at = request.context.get(RECEIVED_AT)
        return verify_signature(
            self._secret,
            timestamp=_one(request.headers.get("x-slack-request-timestamp")),
            signature=_one(request.headers.get("x-slack-signature")),
            body=request.raw_body.encode("utf-8", errors="surrogatepass"),
            now=received_at if isinstance(received_at, float) else time.time(),
        )

    def handle(
        self, error: Exception, request: BoltRequest, response: BoltResponse | None, client: WebClient
    ) -> BoltResponse | None:
        verdict = self.verdict(request)
        if verdict is not Verdict.VERIFIED:
            logger.warning("error handler: ignored a request that does not verify (%s)", verdict.value)
            return None if response is None else BoltResponse(status=401, body="")
        body: dict[str, Any] = request.body if isinstance(request.body, dict) else {}
        kind = slack_kind(body)
        if isinstance(error, BoltUnhandledRequestError):
            return None if response is None else self._unhandled(body, kind)
        error_id = uuid.uuid4().hex[:8]
        if isinstance(error, UserFacingError):
            logger.info("user-facing error %s in %s: %s", error_id, _what(body, kind), error)
        else:
            logger.error("unhandled error %s in %s", error_id, _what(body, kind), exc_info=error)
        text = user_message_for(error, error_id)
        if response is None or request.context.ack.response is not None:
            _tell_user(body, client, text)  # acked already: the HTTP answer is gone
            return None
        return _answer(kind, text)

    @staticmethod
    def _unhandled(body: dict[str, Any], kind: SlackKind | None) -> BoltResponse:
        """No listener acked: none matched (an unknown id), or the one that did took longer than Slack's 3 s."""
        if kind is SlackKind.COMMAND and body.get("command") == SLASH_COMMAND:
            logger.warning("%s was not acked in time", _what(body, kind))
            return _answer(kind, TOO_SLOW_TEXT)
        logger.info("no listener for %s: answered as ended", _what(body, kind))
        unknown = {SlackKind.VIEW_SUBMISSION: UNKNOWN_FORM_TEXT, SlackKind.COMMAND: UNKNOWN_COMMAND_TEXT}
        return _answer(kind, unknown.get(kind) if kind else None)


class KeptAck(Ack):
    """An ack whose response, once given, stays. When a listener acks and then raises, Bolt (1.30) sets
    ``ack.response`` back to None after the error handler; the request thread, which polls it every 10 ms, may
    then miss the ack altogether and answer after Slack's 3 s, or not at all."""

    _kept: BoltResponse | None = None

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]

    @property
    def response(self) -> BoltResponse | None:
        return self._kept

    @response.setter
    def response(self, value: BoltResponse | None) -> None:
        if value is not None or self._kept is None:
            self._kept = value


def _keep_acks(context: BoltContext, next: Callable[[], None]) -> None:
    if not isinstance(context.get("ack"), KeptAck):
        context["ack"] = KeptAck()
    next()


def register(app: App, signing_secret: str) -> None:
    app.error(ErrorHandler(signing_secret).handle)
    app.middleware(_keep_acks)
