"""Bounded reading of what a browser or Slack sends: the one capped body reader for every route and form.

Nothing reads an unbounded body: waitress refuses bodies a little above the cap (``SERVER_BODY_LIMIT``), and
routes read through :func:`read_body`, which refuses a declared ``Content-Length`` above the cap without
reading it and otherwise reads at most one byte more than the cap (bodies without a length included).
:func:`replace_body` hands the bytes read on to the next WSGI app exactly as they arrived.
"""

from __future__ import annotations

import io
import re
import unicodedata
from typing import Any
from urllib.parse import parse_qsl

from bot.errors import RequestRejected

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_QUERY_BYTES",
    "SERVER_BODY_LIMIT",
    "form_fields",
    "query_params",
    "read_body",
    "replace_body",
]

#: The largest request body the bot accepts on any route (Slack's own payloads stay far below it).
MAX_BODY_BYTES = 1024 * 1024
#: waitress's server-wide limit: above the routes' cap, so each route answers with its own page, yet bounded.
SERVER_BODY_LIMIT = MAX_BODY_BYTES + 64 * 1024
#: The longest query string a browser route accepts (OAuth redirects carry a code and a state).
MAX_QUERY_BYTES = 8 * 1024
#: More form or query fields than any page of the bot sends.
MAX_FIELDS = 64

_DIGITS = re.compile(r"[0-9]{1,19}")
_CHUNK = 64 * 1024


def read_body(environ: dict[str, Any], *, cap: int = MAX_BODY_BYTES) -> bytes:
    """The request body, at most ``cap`` bytes; RequestRejected 413 above it, 400 for a broken Content-Length."""
    declared = environ.get("CONTENT_LENGTH") or ""
    if declared and _DIGITS.fullmatch(declared) is None:
        raise RequestRejected(400, "Content-Length is not a number")
    if declared and int(declared) > cap:
        raise RequestRejected(413, f"Content-Length {int(declared)} is above the {cap}-byte cap")
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    wanted = int(declared) if declared else cap + 1
    chunks: list[bytes] = []
    received = 0
    while received < wanted:
        chunk = stream.read(min(_CHUNK, wanted - received))
        if not chunk:
            break
        chunks.append(chunk)
        received += len(chunk)
    if received > cap:
        raise RequestRejected(413, f"body is above the {cap}-byte cap")
    return b"".join(chunks)


def replace_body(environ: dict[str, Any], body: bytes) -> None:
    """Put ``body`` back as the request's input, so the next app reads exactly these bytes."""
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))


def _has_control(text: str) -> bool:
    return any(unicodedata.category(char) in ("Cc", "Cf") for char in text)


def form_fields(encoded: str, *, what: str = "form") -> dict[str, str]:
    """``a=1&b=2`` as a dict; RequestRejected 400 for undecodable escapes, repeated fields or too many."""
    try:
        pairs = parse_qsl(encoded, keep_blank_values=True, errors="strict", max_num_fields=MAX_FIELDS)
    except (UnicodeDecodeError, ValueError):
        raise RequestRejected(400, f"{what} is not valid URL encoding of UTF-8 text") from None
    fields: dict[str, str] = {}
    for name, value in pairs:
        if name in fields:
            raise RequestRejected(400, f"{what} repeats a field")
        fields[name] = value
    return fields


def query_params(environ: dict[str, Any]) -> dict[str, str]:
    """The query string of a browser route: at most 8 KiB (414 above), each field once, no control characters."""
    raw = environ.get("QUERY_STRING", "")
    if len(raw) > MAX_QUERY_BYTES:
        raise RequestRejected(414, f"query string is above {MAX_QUERY_BYTES} bytes")
    params = form_fields(raw, what="query string")
    if any(_has_control(name) or _has_control(value) for name, value in params.items()):
        raise RequestRejected(400, "query string holds control characters")
    return params
