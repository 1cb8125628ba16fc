"""The budget a permission pass draws through: it counts the points (so a pass knows what it cost) and waits for
the lane to refill when that is quick (bot/access/passes.py)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from bot.confluence.budget import PointsBudget
from bot.errors import RateLimited
from storage.models import utcnow

__all__ = ["MeteredBudget"]


class MeteredBudget:
    """A budget that counts the points drawn through it (so a pass knows what it cost), and waits for it to
    refill (calling ``before_wait`` first) when that takes at most ``max_wait``."""

    def __init__(
        self,
        inner: PointsBudget,
        *,
        clock: Callable[[], datetime] = utcnow,
        sleep: Callable[[float], None] = time.sleep,
        max_wait: timedelta = timedelta(0),
        before_wait: Callable[[], None] = lambda: None,
        before_take: Callable[[], None] = lambda: None,
    ) -> None:
        self.inner, self.points, self.before_take = inner, 0, before_take
        self.clock, self.sleep, self.max_wait, self.before_wait = clock, sleep, max_wait, before_wait

    @property
    def available(self) -> float:
        return self.inner.available

    def take(self, points: int = 1) -> None:
        self.before_take()
        while True:
            try:
                self.inner.take(points)
                break
            except RateLimited as exc:
                wait = (exc.until - self.clock()).total_seconds()
                if wait > self.max_wait.total_seconds():
                    raise
                self.before_wait()
                self.sleep(max(wait, 0.001))
        self.points += points

    def spend(self, points: int) -> None:
        self.inner.spend(points)
        self.points += points

    def observe(self, headers: Mapping[str, str], at: datetime) -> None:
        self.inner.observe(headers, at)
