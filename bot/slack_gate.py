"""The gate in front of Bolt on POST /slack/events: only a body Slack signed, and shaped as Slack writes it, passes.

In order, before any listener, database query or outbound call:

1. the body is read with the 1 MiB cap (413 above it, declared or not);
2. the signature is checked strictly on the exact bytes (401 unless it verifies, bot/slack_signature.py);
3. the body is decoded and checked against what Slack always sends (400 otherwise, bot/slack_body.py).

Each refusal is one log line (status and a reason in the bot's own words: no body, no header values, no
secret) and a small JSON answer. What passes reaches Bolt with the same bytes, plus the parsed body and the
time it was verified (``GATE_BODY``, ``GATE_VERIFIED_AT``) for the adapter in bot/app.py. Bolt checks the
signature again, and so does the error handler, with the same function.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from bot.errors import RequestRejected
from bot.http_body import read_body, replace_body
from bot.slack_body import parse_slack_body
from bot.slack_signature import Verdict, verify_signature

if TYPE_CHECKING:
    from bot.web import StartResponse, WsgiApp

__all__ = ["GATE_BODY", "GATE_VERIFIED_AT", "RECEIVED_AT", "SlackGate", "refusal_answer"]

logger = logging.getLogger(__name__)

#: environ keys the gate sets for the Bolt adapter: the parsed SlackBody and when the signature was verified.
GATE_BODY = "datastore_bot.slack_body"
GATE_VERIFIED_AT = "datastore_bot.verified_at"
#: The Bolt context key the adapter copies ``GATE_VERIFIED_AT`` into (the error handler re-verifies as of then).
RECEIVED_AT = "datastore_received_at"

_STATUS_LINES = {
    400: ("400 Bad Request", "bad_request"),
    401: ("401 Unauthorized", "invalid_signature"),
    405: ("405 Method Not Allowed", "method_not_allowed"),
    413: ("413 Content Too Large", "body_too_large"),
    414: ("414 URI Too Long", "query_too_long"),
}


def refusal_answer(status: int) -> tuple[str, list[tuple[str, str]], bytes]:
    """The JSON answer to a refused request: a fixed error code per status, nothing from the request."""
    line, code = _STATUS_LINES[status]
    body = json.dumps({"ok": False, "error": code}).encode()
    headers = [("Content-Type", "application/json"), ("Cache-Control", "no-store")]
    return line, [*headers, ("Content-Length", str(len(body)))], body


class SlackGate:
    """WSGI middleware for POST /slack/events (the Router sends nothing else here)."""

    def __init__(self, inner: WsgiApp, signing_secret: str, *, clock: Callable[[], float] = time.time) -> None:
        if not signing_secret:
            raise ValueError("the Slack gate needs the signing secret")
        self._inner, self._secret, self._clock = inner, signing_secret, clock

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        now = self._clock()
        try:
            raw = read_body(environ)
            verdict = verify_signature(
                self._secret,
                timestamp=environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP"),
                signature=environ.get("HTTP_X_SLACK_SIGNATURE"),
                body=raw,
                now=now,
            )
            if verdict is not Verdict.VERIFIED:
                raise RequestRejected(401, verdict.value)
            parsed = parse_slack_body(raw, environ.get("CONTENT_TYPE"))
        except RequestRejected as refused:
            logger.warning(
                "refused a request to /slack/events from %s: %d, %s",
                environ.get("REMOTE_ADDR", "?"),
                refused.status,
                refused.reason,
            )
            status, headers, body = refusal_answer(refused.status)
            start_response(status, headers)
            return [body]
        replace_body(environ, raw)
        environ[GATE_BODY] = parsed
        environ[GATE_VERIFIED_AT] = now
        return self._inner(environ, start_response)
