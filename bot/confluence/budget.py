"""The app-wide budget of Confluence request points (Atlassian's quota is shared by every tenant of the app)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from bot.errors import RateLimited
from storage.models import utcnow

__all__ = ["DEFAULT_POINTS_PER_HOUR", "RequestBudget"]

#: Below Atlassian's Tier 1 quota of 65,000 points an hour, which all tenants of the app share.
DEFAULT_POINTS_PER_HOUR = 60_000


class RequestBudget:
    """Thread-safe token bucket of request points refilled evenly over the hour. :meth:`take` raises RateLimited
    (with when the points will be back) rather than block; :meth:`spend` charges objects read, maybe into debt."""

    def __init__(self, points_per_hour: int = DEFAULT_POINTS_PER_HOUR, *, clock: Callable[[], datetime] = utcnow):
        if points_per_hour <= 0:
            raise ValueError("points_per_hour must be positive")
        self._capacity = float(points_per_hour)
        self._per_second = points_per_hour / 3600.0
        self._clock = clock
        self._level = self._capacity
        self._updated = clock()
        self._lock = threading.Lock()

    def _refill(self, now: datetime) -> None:
        elapsed = max(0.0, (now - self._updated).total_seconds())
        self._level = min(self._capacity, self._level + elapsed * self._per_second)
        self._updated = now

    @property
    def available(self) -> float:
        with self._lock:
            self._refill(self._clock())
            return self._level

    def take(self, points: int = 1) -> None:
        with self._lock:
            now = self._clock()
            self._refill(now)
            if self._level < points:
                until = now + timedelta(seconds=(points - self._level) / self._per_second)
                raise RateLimited(
                    until, f"The bot's own Confluence request budget is used up; resuming at {until:%H:%M} UTC."
                )
            self._level -= points

    def spend(self, points: int) -> None:
        with self._lock:
            self._refill(self._clock())
            self._level -= points
