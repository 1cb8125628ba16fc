"""Thread-safe log of every request the fake Slack answered, with a blocking ``wait_for`` helper.

The bot keeps working after it acks a request, so tests must wait for its Web API calls::

    call = slack.wait_for_call("chat.update", lambda c: c.args["ts"] == parent_ts, timeout=5)
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

JsonDict = dict[str, Any]


@dataclass(frozen=True)
class SlackCall:
    """One recorded request: Web API method (or ``response_url``), decoded args and the answer."""

    method: str
    args: JsonDict
    status: int
    response: JsonDict
    time: float
    token: str | None = None
    http_method: str = "POST"
    #: The injected fault this call consumed (a slack_faults.FaultMode value), if any.
    fault: str | None = None
    #: What the method did when a fault applied the call anyway (e.g. the posted message), if any.
    applied: JsonDict | None = None

    @property
    def ok(self) -> bool:
        return bool(self.response.get("ok"))

    @property
    def error(self) -> str | None:
        return None if self.ok else str(self.response.get("error"))


class CallLog:
    def __init__(self) -> None:
        self._calls: list[SlackCall] = []
        self._changed = threading.Condition(threading.Lock())

    def record(self, call: SlackCall) -> None:
        with self._changed:
            self._calls.append(call)
            self._changed.notify_all()

    def calls(self, method: str | None = None) -> list[SlackCall]:
        with self._changed:
            return [c for c in self._calls if method is None or c.method == method]

    def reset(self) -> None:
        with self._changed:
            self._calls.clear()

    def wait_for(
        self, method: str, predicate: Callable[[SlackCall], bool] | None, timeout: float, count: int
    ) -> SlackCall:
        """Block until ``count`` matching calls were recorded; returns the ``count``-th one."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = [c for c in self._calls if c.method == method and (predicate is None or predicate(c))]
                if len(found) >= count:
                    return found[count - 1]
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = ", ".join(f"{c.method}({c.error or 'ok'})" for c in self._calls) or "none"
                    raise AssertionError(f"no {count}× matching {method} call within {timeout}s; calls: {seen}")
                self._changed.wait(remaining)
