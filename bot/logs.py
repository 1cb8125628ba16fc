"""Logging, configured once by the CLI: quiet at INFO, plain text or one JSON object per line, the ids of the
work at hand on every line, and no secret ever written.

* Quiet: at INFO a line per sync start, finish and pause, per error and per refusal — not per scheduler tick
  (APScheduler's loggers at WARNING) nor per Confluence or Slack request (httpx, httpcore at WARNING).
* Ids: the sync worker binds ``run_id`` and ``datastore_id`` around a run, the Slack request path binds
  ``request_id`` around a request (:func:`log_context`); every line logged meanwhile carries them, also from
  the threads :class:`ContextThreadPoolExecutor` runs work on.
* Secrets: :class:`Redactor`, applied by both formatters to all they write (the formatted message, the
  exception text and stack; the records themselves are left alone for other handlers), replaces Slack tokens
  (``xoxb-``/``xoxp-``/``xapp-``…), Bearer headers, OAuth ``code``/``state`` and token query values, JSON or
  form token fields, and the configured secret values (signing secret, bot and app tokens, client secrets,
  encryption key).
"""

from __future__ import annotations

import json
import logging
import re
import sys
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from contextvars import ContextVar, copy_context
from datetime import UTC, datetime
from functools import partial
from typing import IO, Any, ParamSpec, TypeVar

from bot.settings import Settings

__all__ = [
    "QUIET_LOGGERS",
    "REDACTED",
    "ContextThreadPoolExecutor",
    "JsonFormatter",
    "Redactor",
    "TextFormatter",
    "bind_datastore",
    "configure_logging",
    "current_ids",
    "log_context",
    "new_request_id",
    "redact",
]

P = ParamSpec("P")
T = TypeVar("T")

REDACTED = "[redacted]"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s%(ids)s: %(message)s"
#: Libraries that log a line per tick or per request at INFO: at WARNING they only speak up when it matters.
QUIET_LOGGERS = ("apscheduler", "httpx", "httpcore", "alembic", "waitress.queue", "urllib3")

_OURS = "datastore_bot_handler"
_RUN_ID: ContextVar[int | None] = ContextVar("run_id", default=None)
_DATASTORE_ID: ContextVar[int | None] = ContextVar("datastore_id", default=None)
_REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)
_IDS: tuple[tuple[str, ContextVar[Any]], ...] = (
    ("datastore_id", _DATASTORE_ID),
    ("run_id", _RUN_ID),
    ("request_id", _REQUEST_ID),
)

#: Secret-shaped text wherever it appears; group 1 (when present) is kept, the rest becomes REDACTED.
_PATTERNS = (
    re.compile(r"\b(xox[a-z]-|xapp-)[A-Za-z0-9-]+"),
    re.compile(r"(?i)(\bbearer\s+)[^\s'\",;)}\]]+"),
    # an Authorization header's whole value (Bearer or Basic credentials), in a dict, JSON or a raw header line
    re.compile(r"(?i)(\bauthorization[\"']?\s*[:=]\s*[\"']?)[^\"'\r\n]+"),
    re.compile(r"(?i)([?&;](?:code|state|access_token|refresh_token|token|client_secret|id_token)=)[^&\s'\"#<>]+"),
    re.compile(
        r"(?i)([\"']?\b(?:access_token|refresh_token|client_secret|id_token|signing_secret)[\"']?"
        r"\s*[:=]\s*[\"']?)[^\"'\s,&}]+"
    ),
    re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"),  # JWTs (Atlassian's tokens)
)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every secret value in ``secrets`` and every secret-shaped part replaced by REDACTED."""
    for secret in sorted(secrets, key=len, reverse=True):
        if secret:
            text = text.replace(secret, REDACTED)
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: (m.group(1) if m.groups() and m.group(1) else "") + REDACTED, text)
    return text


class Redactor:
    """Replaces secrets in the text of a log line (see the module docstring). The formatters of our handler apply it
    to everything they write — message, exception text, stack — so no record is changed for other handlers."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        #: Values shorter than 6 characters would redact ordinary words; no real secret is that short.
        self.secrets = tuple(s for s in secrets if len(s) >= 6)

    def __call__(self, text: str) -> str:
        return redact(text, self.secrets)


def _message(record: logging.LogRecord) -> str:
    try:
        return record.getMessage()
    except (TypeError, ValueError):  # a call whose arguments do not fit its format: keep what it said
        return f"{record.msg!s} {record.args!r}"


class TextFormatter(logging.Formatter):
    """``time LEVEL logger ids: message`` (and the traceback), redacted."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__(TEXT_FORMAT)
        self.redactor = redactor

    def format(self, record: logging.LogRecord) -> str:
        copy = logging.makeLogRecord(record.__dict__)
        copy.msg, copy.args, copy.exc_text = _message(record), None, None
        copy.ids = "".join(f" {name}={value}" for name, value in current_ids().items())
        return self.redactor(super().format(copy))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, the bound ids, and the exception;
    each text redacted before it is encoded."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": self.redactor(_message(record)),
            **current_ids(),
        }
        if record.exc_info:
            line["exception"] = self.redactor(self.formatException(record.exc_info))
        if record.stack_info:
            line["stack"] = self.redactor(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def _secrets_of(settings: Settings) -> list[str]:
    values = (
        settings.slack_signing_secret,
        settings.slack_bot_token,
        settings.slack_app_token,
        settings.slack_client_secret,
        settings.atlassian_client_secret,
        settings.encryption_key,
    )
    return [value.get_secret_value() for value in values if value is not None]


def configure_logging(settings: Settings, stream: IO[str] | None = None) -> logging.Handler | None:
    """Set up the root logger once for this process: level, format (LOG_FORMAT), ids and redaction. Like
    ``logging.basicConfig`` it leaves a root logger someone else set up alone (pytest's, in tests), and a second
    call replaces the handler of the first. Returns the handler it installed, if any."""
    root = logging.getLogger()
    ours = [handler for handler in root.handlers if getattr(handler, _OURS, False)]
    if len(ours) != len(root.handlers):
        return None
    for old in ours:
        root.removeHandler(old)
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    setattr(handler, _OURS, True)
    redactor = Redactor(_secrets_of(settings))
    handler.setFormatter(JsonFormatter(redactor) if settings.log_format == "json" else TextFormatter(redactor))
    root.addHandler(handler)
    root.setLevel(settings.log_level.upper())
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
    logging.captureWarnings(True)
    return handler


# ----- ids of the work at hand ---------------------------------------------------------------------------------
def current_ids() -> dict[str, Any]:
    """The ids bound now (only those known)."""
    return {name: var.get() for name, var in _IDS if var.get() is not None}


@contextmanager
def log_context(
    *, run_id: int | None = None, datastore_id: int | None = None, request_id: str | None = None
) -> Iterator[None]:
    """Bind the given ids for the lines logged inside; on leaving, every id is as it was before (also one
    :func:`bind_datastore` set meanwhile)."""
    given = {"run_id": run_id, "datastore_id": datastore_id, "request_id": request_id}
    tokens = [(var, var.set(var.get() if given[name] is None else given[name])) for name, var in _IDS]
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


def bind_datastore(datastore_id: int) -> None:
    """The datastore of the run at hand, once known (undone when the enclosing :func:`log_context` ends)."""
    _DATASTORE_ID.set(datastore_id)


def new_request_id() -> str:
    return uuid.uuid4().hex[:16]


class ContextThreadPoolExecutor(ThreadPoolExecutor):
    """A thread pool whose tasks run in a copy of the submitter's context, so their lines keep its ids."""

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        context = copy_context()
        return super().submit(partial(context.run, fn, *args, **kwargs))
