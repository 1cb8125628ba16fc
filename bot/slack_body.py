"""Reading a verified request body the way Slack writes it, refusing (400) any body Slack never sends.

Slack sends slash commands as form fields, interactivity as one form field ``payload`` holding a JSON object,
and Events API callbacks as a JSON object; always UTF-8. The content type must match the body (a JSON body
labelled as a form is refused, and the other way round), form field names hold no hidden character (a
leading byte order mark would otherwise hide in the first name), JSON must be strict (no duplicate keys, NaN or
absurd nesting), and the result must have the shape of its kind (bot/slack_envelopes.py).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.errors import RequestRejected
from bot.http_body import form_fields
from bot.slack_envelopes import SlackKind, validate_envelope
from bot.text_policy import hidden_characters

__all__ = ["FORM", "JSON", "SlackBody", "parse_slack_body", "slack_kind"]

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"

_JSON_KINDS = {SlackKind.EVENT, SlackKind.URL_VERIFICATION, SlackKind.APP_RATE_LIMITED}
_INTERACTIVE_KINDS = {
    SlackKind.BLOCK_ACTIONS,
    SlackKind.BLOCK_SUGGESTION,
    SlackKind.VIEW_SUBMISSION,
    SlackKind.VIEW_CLOSED,
}


@dataclass(frozen=True)
class SlackBody:
    """A verified body of a known kind, parsed: what Bolt's listeners see."""

    kind: SlackKind
    fields: dict[str, Any]


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for key, value in pairs:
        if key in data:
            raise ValueError("duplicate key")
        data[key] = value
    return data


def _no_constants(_name: str) -> Any:
    raise ValueError("NaN and Infinity are not JSON")


def _json_object(text: str, what: str) -> dict[str, Any]:
    try:
        data = json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_no_constants)
    except RecursionError:
        raise RequestRejected(400, f"{what} is nested too deeply") from None
    except ValueError:
        raise RequestRejected(400, f"{what} is not strict JSON") from None
    if not isinstance(data, dict):
        raise RequestRejected(400, f"{what} is JSON but not an object")
    return data


def _kind_of(data: dict[str, Any], allowed: set[SlackKind], what: str) -> SlackKind:
    kind = data.get("type")
    if not isinstance(kind, str) or kind not in allowed:
        raise RequestRejected(400, f"{what} has no type Slack sends here")
    return SlackKind(kind)


def _form(text: str) -> SlackBody:
    if text.startswith("{"):
        raise RequestRejected(400, "form body holds JSON")  # Bolt would read it as JSON: never let the two differ
    fields = form_fields(text)
    if any(hidden_characters(name) for name in fields):
        raise RequestRejected(400, "form field name holds a hidden character")  # a BOM, say: Slack sends none
    markers = [name for name in ("payload", "command", "ssl_check") if name in fields]
    if len(markers) != 1:
        raise RequestRejected(400, "form holds none or several of payload, command and ssl_check")
    if markers == ["payload"]:
        payload = _json_object(fields["payload"], "payload")
        return SlackBody(_kind_of(payload, _INTERACTIVE_KINDS, "payload"), payload)
    return SlackBody(SlackKind.COMMAND if markers == ["command"] else SlackKind.SSL_CHECK, fields)


def parse_slack_body(raw: bytes, content_type: str | None) -> SlackBody:
    """The body as Slack meant it; RequestRejected 400 for anything Slack would never send."""
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type not in (FORM, JSON):
        raise RequestRejected(400, "content type is neither a form nor JSON")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise RequestRejected(400, "body is not UTF-8") from None
    if media_type == JSON:
        data = _json_object(text, "JSON body")
        parsed = SlackBody(_kind_of(data, _JSON_KINDS, "JSON body"), data)
    else:
        parsed = _form(text)
    validate_envelope(parsed.kind, parsed.fields)
    return parsed


def slack_kind(body: Mapping[str, Any]) -> SlackKind | None:
    """The kind of an already parsed body (what Bolt hands a listener or the error handler)."""
    if "command" in body:
        return SlackKind.COMMAND
    if "ssl_check" in body:
        return SlackKind.SSL_CHECK
    kind = body.get("type")
    return SlackKind(kind) if isinstance(kind, str) and kind in SlackKind.__members__.values() else None
