"""Fault injection, latency and the request log of the fake Atlassian.

A :class:`FaultRule` matches requests by an ``fnmatch`` pattern tested against the endpoint key
(``"GET /wiki/api/v2/pages/{id}"``) and against the raw request line (``"GET /ex/confluence/…"``).
Kinds: ``429`` (+ ``Retry-After`` and rate-limit headers), ``500``/``502``/``503``, ``timeout``
(hold the connection, then close it without answering) and ``malformed_json`` (200 whose body is
truncated mid-document).  Every request, faulted or not, lands in the :class:`RequestLog`.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from fnmatch import fnmatchcase

from .transport import Drop, Outcome, Response, json_response


class FaultKind(StrEnum):
    RATE_LIMIT = "429"
    SERVER_ERROR = "500"
    BAD_GATEWAY = "502"
    UNAVAILABLE = "503"
    TIMEOUT = "timeout"
    MALFORMED_JSON = "malformed_json"


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

    def matches(self, endpoint: str, request_line: str) -> bool:
        return fnmatchcase(endpoint, self.pattern) or fnmatchcase(request_line, self.pattern)

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

    def latency_for(self, endpoint: str, request_line: str) -> float:
        with self._lock:
            for rule in reversed(self._latency):
                if fnmatchcase(endpoint, rule.pattern) or fnmatchcase(request_line, rule.pattern):
                    return rule.seconds
            return self.default_latency

    def take(self, endpoint: str, request_line: str) -> FaultRule | None:
        """Consume one hit of the first live rule that matches, if any."""
        with self._lock:
            for rule in self._rules:
                if rule.exhausted or not rule.matches(endpoint, request_line):
                    continue
                if rule.skip > 0:
                    rule.skip -= 1
                    continue
                rule.hits += 1
                return rule
        return None


def apply_fault(rule: FaultRule, real: Response | None) -> Outcome:
    """Turn a matched rule (and, for malformed JSON, the real response) into the outcome."""
    if rule.kind is FaultKind.RATE_LIMIT:
        return _rate_limited(rule)
    if rule.kind is FaultKind.TIMEOUT:
        return Drop(rule.hold)
    if rule.kind is FaultKind.MALFORMED_JSON:
        body = real.body if real is not None and len(real.body) > 2 else b'{"results":[{"id":"1"}]}'
        return Response(200, body[: max(1, len(body) // 2)], [("Content-Type", "application/json")])
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

    def by_endpoint(self) -> Counter[str]:
        return Counter(r.endpoint for r in self.snapshot())

    def by_principal(self) -> Counter[str]:
        return Counter(r.principal or "-" for r in self.snapshot())

    def body_fetches(self) -> Counter[str]:
        """How many times each content id's body was served (v1 or v2, list or single)."""
        return Counter(cid for r in self.snapshot() for cid in r.body_ids)

    def refresh_count(self) -> int:
        return self.count("POST /oauth/token", note="refresh_token")
