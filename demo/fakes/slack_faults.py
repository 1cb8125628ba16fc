"""Fault injection for the fake Slack: what a method answers instead of (or after) doing its work.

A fault is queued per method with :meth:`demo.fakes.slack_api.FakeSlack.fail` and consumed by the next
matching calls. Its ``mode`` says what Slack did:

* ``refuse`` (default): nothing is applied; the call is answered with the error (HTTP 429 with
  ``Retry-After`` for ``ratelimited``, HTTP 200 otherwise unless ``status`` says another).
* ``apply_then_error``: the call IS applied (the message is posted), then answered with ``status`` (5xx) and
  the error, as when Slack fails after committing.
* ``apply_then_drop``: applied, then the connection is closed without an answer (the client sees
  ``RemoteDisconnected``, which slack_sdk's connection retry handler would retry).
* ``apply_then_stall``: applied, then the answer is held ``stall`` seconds, past the client's timeout.

Every consumed fault is marked on the recorded :class:`~demo.fakes.slack_calls.SlackCall` (``fault``), with
the work it applied (``applied``), so a test can assert that the fault was actually hit.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

JsonDict = dict[str, Any]

__all__ = ["Fault", "FaultMode", "FaultQueue"]


class FaultMode(StrEnum):
    REFUSE = "refuse"
    APPLY_THEN_ERROR = "apply_then_error"
    APPLY_THEN_DROP = "apply_then_drop"
    APPLY_THEN_STALL = "apply_then_stall"


@dataclass
class Fault:
    error: str
    status: int
    retry_after: int
    remaining: int
    mode: FaultMode = FaultMode.REFUSE
    stall: float = 0.0
    when: Callable[[JsonDict], bool] | None = None

    @property
    def applies_the_call(self) -> bool:
        return self.mode is not FaultMode.REFUSE

    def headers(self) -> list[tuple[str, str]]:
        return [("Retry-After", str(self.retry_after))] if self.status == 429 else []


def default_status(error: str, mode: FaultMode) -> int:
    if mode is FaultMode.APPLY_THEN_ERROR:
        return 500
    return 429 if error == "ratelimited" else 200


class FaultQueue:
    """Pending faults per method; the first one whose ``when`` matches a call's arguments is consumed."""

    def __init__(self) -> None:
        self._pending: dict[str, list[Fault]] = {}
        self._lock = threading.Lock()

    def add(self, method: str, fault: Fault) -> None:
        if fault.remaining < 1:
            raise ValueError("a fault needs times >= 1")
        if fault.mode is FaultMode.APPLY_THEN_STALL and fault.stall <= 0:
            raise ValueError("apply_then_stall needs stall > 0 (seconds past the client's timeout)")
        if fault.mode is FaultMode.APPLY_THEN_ERROR and fault.status < 500:
            raise ValueError("apply_then_error answers a server error: status must be 5xx")
        with self._lock:
            self._pending.setdefault(method, []).append(fault)

    def take(self, method: str, args: JsonDict) -> Fault | None:
        with self._lock:
            pending = self._pending.get(method) or []
            for position, fault in enumerate(pending):
                if fault.when is None or fault.when(args):
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        pending.pop(position)
                    return fault
        return None

    def pending(self, method: str | None = None) -> int:
        """How many faulty answers are still queued (of one method, or all)."""
        with self._lock:
            queues = [self._pending.get(method, [])] if method else list(self._pending.values())
            return sum(fault.remaining for queue in queues for fault in queue)
