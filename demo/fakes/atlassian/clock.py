"""Controllable clock shared by every part of the fake Atlassian.

Time flows with the real monotonic clock (so timestamps of successive mutations differ) plus an
offset that tests move forward with :meth:`FakeClock.advance` to expire tokens and grace windows
without sleeping.  ``frozen=True`` stops the real-time component for fully deterministic tests.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

DEFAULT_START = datetime(2026, 11, 2, 9, 0, 0, tzinfo=UTC).timestamp()


class FakeClock:
    """Epoch-seconds clock: ``start + real elapsed (unless frozen) + advanced offset``."""

    def __init__(self, start: float = DEFAULT_START, *, frozen: bool = False) -> None:
        self._start = start
        self._frozen = frozen
        self._origin = time.monotonic()
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        """Current fake time in epoch seconds."""
        with self._lock:
            elapsed = 0.0 if self._frozen else time.monotonic() - self._origin
            return self._start + elapsed + self._offset

    def advance(self, seconds: float) -> None:
        """Move time forward (never backwards)."""
        if seconds < 0:
            raise ValueError("the fake clock only moves forward")
        with self._lock:
            self._offset += seconds

    def freeze(self) -> None:
        """Stop the real-time component; keeps the current reading."""
        with self._lock:
            if not self._frozen:
                self._offset += time.monotonic() - self._origin
                self._frozen = True


def iso_ms(epoch: float) -> str:
    """Format like Confluence v2: ``2024-01-31T12:34:56.789Z``."""
    stamp = datetime.fromtimestamp(epoch, tz=UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"
