"""Liveness of the long-running loops: each loop of a process beats a heartbeat row in the database, and
/healthz reports a loop whose last beat is older than ``stale_after`` (or that never beat) as not ok.

``serve`` checks the scheduler (its progress job beats every tick) and each of its sync worker processes (bot/sync/
supervisor.py; a worker beats from its own thread while its loop thread lives, also during a long run).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from sqlalchemy.exc import SQLAlchemyError

from bot.services import Services
from storage.heartbeats import beat, forget_beats_before, last_beats
from storage.models import utcnow

__all__ = ["STALE_AFTER", "Beating", "Heartbeat", "LivenessCheck", "Loop"]

logger = logging.getLogger(__name__)

#: A loop that has not beaten for this long is reported stale.
STALE_AFTER = timedelta(seconds=60)
#: How often a loop writes its heartbeat (beats in between are skipped).
BEAT_EVERY = 5.0
#: Heartbeats older than this belong to processes long gone: the first beat of a loop drops them.
FORGET_AFTER = timedelta(days=7)


class Loop(StrEnum):
    WORKER = "worker"
    SCHEDULER = "scheduler"


class Heartbeat:
    """One loop's heartbeat row. ``beat`` is cheap to call often: it writes at most every ``every`` seconds, and a
    database that cannot be written is logged, never raised (the beat goes stale, which /healthz reports)."""

    def __init__(
        self,
        services: Services,
        loop: Loop,
        owner: str,
        *,
        every: float = BEAT_EVERY,
        clock: Callable[[], datetime] = utcnow,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.services, self.loop, self.owner, self.every = services, loop, owner, every
        self.clock, self.monotonic = clock, monotonic
        self._last: float | None = None
        self._lock = threading.Lock()

    def beat(self, detail: str | None = None, *, force: bool = False) -> None:
        with self._lock:
            now = self.monotonic()
            if not force and self._last is not None and now - self._last < self.every:
                return
            try:
                with self.services.sessions.begin() as session:
                    if self._last is None:
                        forget_beats_before(session, before=self.clock() - FORGET_AFTER)
                    beat(session, component=self.loop, owner=self.owner, now=self.clock(), detail=detail)
            except SQLAlchemyError as exc:
                logger.warning("the %s heartbeat could not be written: %s", self.loop, exc)
                return
            self._last = now


class Beating(Protocol):
    """A loop /healthz checks: its kind and the owner its heartbeat rows are written under."""

    @property
    def loop(self) -> Loop: ...

    @property
    def owner(self) -> str: ...


class LivenessCheck:
    """Which of this process's loops are stale, for /healthz."""

    def __init__(
        self,
        services: Services,
        heartbeats: Sequence[Beating],
        *,
        stale_after: timedelta = STALE_AFTER,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.services, self.heartbeats, self.stale_after, self.clock = services, list(heartbeats), stale_after, clock

    def stale(self) -> list[str]:
        """The loops whose heartbeat is missing or too old (raises SQLAlchemyError if the database is down)."""
        loops = [(str(h.loop), h.owner) for h in self.heartbeats]
        with self.services.sessions() as session:
            beats = last_beats(session, loops=loops)
        oldest = self.clock() - self.stale_after
        return [component for component, owner in loops if beats.get((component, owner), oldest) <= oldest]
