"""Slack's request signature, checked strictly: the one verification the HTTP gate and the error handler share.

Slack signs each request with ``X-Slack-Request-Timestamp`` (Unix seconds) and
``X-Slack-Signature = "v0=" + hex(HMAC-SHA256(signing secret, "v0:{timestamp}:{raw body}"))``. Anything that is
not exactly that shape is refused before any arithmetic: the timestamp must be plain ASCII digits (no sign,
space, decimal point, exponent or non-ASCII digits such as ``١٢٣``) within five minutes of now, the signature
``v0=`` and 64 lowercase hex digits, compared in constant time. The check never raises.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from enum import StrEnum

__all__ = ["MAX_AGE_SECONDS", "Verdict", "expected_signature", "verify_signature"]

#: How far a request's timestamp may be from now, either way (Slack's documented replay window).
MAX_AGE_SECONDS = 300

# ``[0-9]`` (not ``\d``, which matches every Unicode digit) and fullmatch (``$`` would accept a trailing "\n").
_TIMESTAMP = re.compile(r"[1-9][0-9]{0,11}")
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")


class Verdict(StrEnum):
    """The outcome of a check; every value but ``VERIFIED`` is a refusal, safe to log (no request data)."""

    VERIFIED = "verified"
    NO_TIMESTAMP = "no timestamp header"
    MALFORMED_TIMESTAMP = "timestamp is not plain digits"
    STALE_TIMESTAMP = "timestamp is more than 5 minutes away from now"
    NO_SIGNATURE = "no signature header"
    MALFORMED_SIGNATURE = "signature is not v0= and 64 hex digits"
    WRONG_SIGNATURE = "signature does not match the body"


def expected_signature(secret: str, timestamp: str, body: bytes) -> str:
    """``v0=<hex>`` for ``body`` sent at ``timestamp`` (what Slack puts in X-Slack-Signature)."""
    message = b"v0:" + timestamp.encode("ascii") + b":" + body
    return "v0=" + hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def verify_signature(secret: str, *, timestamp: str | None, signature: str | None, body: bytes, now: float) -> Verdict:
    """Whether ``body`` with these two header values was signed with ``secret`` within 5 minutes of ``now``."""
    if not timestamp:
        return Verdict.NO_TIMESTAMP
    if _TIMESTAMP.fullmatch(timestamp) is None:
        return Verdict.MALFORMED_TIMESTAMP
    if abs(now - int(timestamp)) > MAX_AGE_SECONDS:
        return Verdict.STALE_TIMESTAMP
    if not signature:
        return Verdict.NO_SIGNATURE
    if _SIGNATURE.fullmatch(signature) is None:
        return Verdict.MALFORMED_SIGNATURE
    # Both are ASCII by now, so compare_digest cannot raise on them.
    if not hmac.compare_digest(expected_signature(secret, timestamp, body), signature):
        return Verdict.WRONG_SIGNATURE
    return Verdict.VERIFIED
