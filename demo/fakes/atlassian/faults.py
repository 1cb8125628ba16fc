"""Fault injection, latency and the request log of the fake Atlassian.

A :class:`FaultRule` matches requests by an ``fnmatch`` pattern tested against the endpoint key
(``"GET /wiki/api/v2/pages/{id}"``) and against the raw request line (``"GET /ex/confluence/…"``), with and
without its query (``"GET /ex/…/pages?body-format=storage&…"``).
Kinds: ``429`` (+ ``Retry-After`` and rate-limit headers), ``500``/``502``/``503``, ``timeout``
(hold the connection, then close it without answering), ``malformed_json`` (200 whose body is
truncated mid-document), ``401``/``403``/``404`` (a gateway-style refusal), ``oauth_error`` (an OAuth
error answer from the token endpoint: ``error``, its usual status or ``status``, ``description``) and
``next_link`` (the real answer with its next-page link rewritten: ``rewrite_next`` maps the real next
path, None on the last page, to what is sent instead — any JSON value in the body, None to drop it —
in the body, the ``Link`` header or both, per ``where``; ``raw_link`` replaces the whole ``Link`` header).
Every request, faulted or not, lands in the :class:`RequestLog`.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from fnmatch import fnmatchcase
from typing import Any

from .transport import Drop, Outcome, Response, json_response


class FaultKind(StrEnum):
    RATE_LIMIT = "429"
    SERVER_ERROR = "500"
    BAD_GATEWAY = "502"
    UNAVAILABLE = "503"
    TIMEOUT = "timeout"
    MALFORMED_JSON = "malformed_json"
    UNAUTHORIZED = "401"
    FORBIDDEN = "403"
    NOT_FOUND = "404"
    OAUTH_ERROR = "oauth_error"
    NEXT_LINK = "next_link"

    @property
    def needs_real(self) -> bool:
        """Whether the fault is made from the real answer (which is then computed too)."""
        return self in (FaultKind.MALFORMED_JSON, FaultKind.NEXT_LINK)


#: The status Atlassian's token endpoint answers each OAuth error with (RFC 6749 §5.2; invalid_grant as observed).
OAUTH_ERROR_STATUS = {
    "invalid_grant": 403,
    "invalid_client": 401,
    "unauthorized_client": 400,
    "access_denied": 401,
    "invalid_request": 400,
    "invalid_scope": 400,
    "unsupported_grant_type": 400,
    "temporarily_unavailable": 503,
    "server_error": 500,
}
NextRewrite = Callable[[str | None], Any]


@dataclass
class FaultRule:
    """One injected fault.  ``times=None`` means forever; ``skip`` lets N matches pass first."""

    pattern: str
    kind: FaultKind
    times: int | None = 1
    skip: int = 0
    retry_after: int = 2
    hold: float = 5.0
    hits: int = 0
    error: str = "invalid_grant"
    status: int | None = None
    description: str = "Injected refusal"
    rewrite_next: NextRewrite | None = None
    where: str = "both"  # body | header | both
    raw_link: str | None = None

    def matches(self, endpoint: str, request_line: str, query: str = "") -> bool:
        """The pattern against the endpoint key, ``METHOD /path`` and, with a query, ``METHOD /path?query``."""
        lines = (request_line, f"{request_line}?{query}") if query else (request_line,)
        return fnmatchcase(endpoint, self.pattern) or any(fnmatchcase(line, self.pattern) for line in lines)

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.hits >= self.times


@dataclass(frozen=True)
class LatencyRule:
    pattern: str
    seconds: float


def _rate_limited(rule: FaultRule) -> Response:
    response = json_response(429, {"code": 429, "message": "Rate limit exceeded."})
    response.headers += [
        ("Retry-After", str(rule.retry_after)),
        ("X-RateLimit-Limit", "65000"),
        ("X-RateLimit-Remaining", "0"),
        ("X-RateLimit-NearLimit", "true"),
        ("RateLimit-Reason", "confluence-quota-global-based"),
    ]
    return response


def _server_error(status: int, rule: FaultRule) -> Response:
    response = json_response(status, {"statusCode": status, "message": "Injected failure"})
    if status == 503:
        response.headers.append(("Retry-After", str(rule.retry_after)))
    return response


class FaultPlan:
    """Thread-safe list of fault and latency rules."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._latency: list[LatencyRule] = []
        self.default_latency = 0.0
        self._answering = threading.Event()
        self._answering.set()

    def hold(self) -> None:
        """Every request from now on waits, unanswered, until :meth:`release` (or the fake stops)."""
        self._answering.clear()

    def release(self) -> None:
        self._answering.set()

    def wait_while_held(self, stop: threading.Event) -> None:
        while not self._answering.wait(0.05) and not stop.is_set():
            pass

    def add(self, rule: FaultRule) -> FaultRule:
        with self._lock:
            self._rules.append(rule)
        return rule

    def add_latency(self, pattern: str, seconds: float) -> None:
        with self._lock:
            self._latency.append(LatencyRule(pattern, seconds))

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()
            self._latency.clear()
            self.default_latency = 0.0

    def latency_for(self, endpoint: str, request_line: str, query: str = "") -> float:
        lines = (request_line, f"{request_line}?{query}") if query else (request_line,)
        with self._lock:
            for rule in reversed(self._latency):
                if fnmatchcase(endpoint, rule.pattern) or any(fnmatchcase(line, rule.pattern) for line in lines):
                    return rule.seconds
            return self.default_latency

    def take(self, endpoint: str, request_line: str, query: str = "") -> FaultRule | None:
        """Consume one hit of the first live rule that matches, if any."""
        with self._lock:
            for rule in self._rules:
                if rule.exhausted or not rule.matches(endpoint, request_line, query):
                    continue
                if rule.skip > 0:
                    rule.skip -= 1
                    continue
                rule.hits += 1
                return rule
        return None


def _link_header(target: str, base: str | None) -> str:
    return f'<{target}>; rel="next"' + (f', <{base}>; rel="base"' if base else "")


def _rewritten_next(rule: FaultRule, real: Response) -> Response:
    """The real (200, JSON) answer with its next-page link replaced as ``rule`` says."""
    if real.status != 200:
        return real
    payload = json.loads(real.body)
    links = payload.setdefault("_links", {}) if isinstance(payload, dict) else {}
    original = links.get("next") if isinstance(links, dict) else None
    sent = rule.rewrite_next(original) if rule.rewrite_next is not None else original
    headers = [(name, value) for name, value in real.headers if name.lower() not in ("link", "content-type")]
    if rule.where in ("body", "both"):
        if sent is None:
            links.pop("next", None)
        else:
            links["next"] = sent
    if rule.raw_link is not None:
        headers.append(("Link", rule.raw_link))
    elif rule.where in ("header", "both"):
        headers += [("Link", _link_header(str(sent), links.get("base")))] if sent is not None else []
    else:
        headers += [(name, value) for name, value in real.headers if name.lower() == "link"]
    response = json_response(200, payload, headers)
    response.principal, response.body_ids, response.note = real.principal, real.body_ids, real.note
    return response


def _oauth_refusal(rule: FaultRule) -> Response:
    status = rule.status or OAUTH_ERROR_STATUS.get(rule.error, 400)
    return json_response(status, {"error": rule.error, "error_description": rule.description})


def apply_fault(rule: FaultRule, real: Response | None) -> Outcome:
    """Turn a matched rule (and, for malformed JSON or next links, the real response) into the outcome."""
    if rule.kind is FaultKind.RATE_LIMIT:
        return _rate_limited(rule)
    if rule.kind is FaultKind.TIMEOUT:
        return Drop(rule.hold)
    if rule.kind is FaultKind.MALFORMED_JSON:
        body = real.body if real is not None and len(real.body) > 2 else b'{"results":[{"id":"1"}]}'
        return Response(200, body[: max(1, len(body) // 2)], [("Content-Type", "application/json")])
    if rule.kind is FaultKind.NEXT_LINK:
        assert real is not None
        return _rewritten_next(rule, real)
    if rule.kind is FaultKind.OAUTH_ERROR:
        return _oauth_refusal(rule)
    if rule.kind in (FaultKind.UNAUTHORIZED, FaultKind.FORBIDDEN, FaultKind.NOT_FOUND):
        status = int(rule.kind.value)
        return json_response(status, {"code": status, "message": rule.description})
    return _server_error(int(rule.kind.value), rule)


@dataclass(frozen=True)
class RequestRecord:
    """One request as the fake saw it."""

    server: str
    method: str
    path: str
    query: str
    endpoint: str
    status: int
    principal: str | None
    fault: str | None = None
    body_ids: tuple[str, ...] = ()
    note: str = ""
    at: float = 0.0
    points: int = 0


@dataclass
class RequestLog:
    """Append-only request log with counters for assertions."""

    records: list[RequestRecord] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def append(self, record: RequestRecord) -> None:
        with self._lock:
            self.records.append(record)

    def clear(self) -> None:
        with self._lock:
            self.records.clear()

    def snapshot(self) -> list[RequestRecord]:
        with self._lock:
            return list(self.records)

    def __iter__(self) -> Iterator[RequestRecord]:
        return iter(self.snapshot())

    def __len__(self) -> int:
        return len(self.snapshot())

    def filter(
        self,
        endpoint: str | None = None,
        *,
        principal: str | None = None,
        status: int | None = None,
        note: str | None = None,
    ) -> list[RequestRecord]:
        """Records matching all given criteria (``endpoint`` is an fnmatch pattern)."""
        return [
            r
            for r in self.snapshot()
            if (endpoint is None or fnmatchcase(r.endpoint, endpoint))
            and (principal is None or r.principal == principal)
            and (status is None or r.status == status)
            and (note is None or r.note == note)
        ]

    def count(self, endpoint: str | None = None, **criteria: str | int | None) -> int:
        return len(self.filter(endpoint, **criteria))  # type: ignore[arg-type]

    def points(self, endpoint: str | None = None, *, principal: str | None = None, since: float | None = None) -> int:
        """Atlassian points spent (optionally on matching endpoints, by one token, at or after a clock time)."""
        return sum(r.points for r in self.filter(endpoint, principal=principal) if since is None or r.at >= since)

    def by_endpoint(self) -> Counter[str]:
        return Counter(r.endpoint for r in self.snapshot())

    def by_principal(self) -> Counter[str]:
        return Counter(r.principal or "-" for r in self.snapshot())

    def body_fetches(self) -> Counter[str]:
        """How many times each content id's body was served (v1 or v2, list or single)."""
        return Counter(cid for r in self.snapshot() for cid in r.body_ids)

    def refresh_count(self) -> int:
        return self.count("POST /oauth/token", note="refresh_token")
