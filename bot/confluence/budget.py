"""The app-wide budget of Confluence request points (Atlassian's quota is shared by every tenant of the app)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Protocol

from bot.errors import RateLimited
from bot.metrics import ATLASSIAN_POINTS
from storage.models import utcnow

__all__ = ["DEFAULT_POINTS_PER_HOUR", "PERMISSION_SHARE", "PermissionLane", "PointsBudget", "RequestBudget"]

#: Below Atlassian's Tier 1 quota of 65,000 points an hour, which all tenants of the app share.
DEFAULT_POINTS_PER_HOUR = 60_000
#: The most of the hourly budget permission work (passes, group reads, per-search checks) may take (issue #12).
PERMISSION_SHARE = 0.2


class PointsBudget(Protocol):
    """What a :class:`~bot.confluence.gateway.Gateway` draws from: :class:`RequestBudget` or a lane of it."""

    @property
    def available(self) -> float: ...

    def take(self, points: int = 1) -> None: ...

    def spend(self, points: int) -> None: ...

    def observe(self, headers: Mapping[str, str], at: datetime) -> None:
        """What Atlassian's answer (sent at ``at``, by its Date header) said of the app's quota (its rate-limit
        headers); most budgets ignore it."""
        ...


class RequestBudget:
    """Thread-safe token bucket of request points refilled evenly over the hour. :meth:`take` raises RateLimited
    (with when the points will be back) rather than block; :meth:`spend` charges objects read, maybe into debt."""

    def __init__(
        self,
        points_per_hour: int = DEFAULT_POINTS_PER_HOUR,
        *,
        clock: Callable[[], datetime] = utcnow,
        metered: bool = False,
    ):
        if points_per_hour <= 0:
            raise ValueError("points_per_hour must be positive")
        self._capacity = float(points_per_hour)
        self._per_second = points_per_hour / 3600.0
        self._clock = clock
        self._level = self._capacity
        self._updated = clock()
        self._lock = threading.Lock()
        #: The app-wide budget counts what it hands out in /metrics (lanes of it do not: that would count twice).
        self._metered = metered

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
        if self._metered:
            ATLASSIAN_POINTS.inc(points)

    def spend(self, points: int) -> None:
        with self._lock:
            self._refill(self._clock())
            self._level -= points
        if self._metered and points > 0:
            ATLASSIAN_POINTS.inc(points)

    def observe(self, headers: Mapping[str, str], at: datetime) -> None:
        """A process's own budget knows nothing of other processes: the shared one corrects itself."""


class PermissionLane:
    """A lane of the app-wide budget for permission work: at most ``share`` of its hourly points.

    :meth:`take` needs the points both in the lane and in the app-wide budget (RateLimited otherwise, with when
    the lane refills); :meth:`spend` charges both. So permission work never takes more than ``share`` of the
    hour, and never spends what syncs have already used."""

    def __init__(
        self,
        budget: PointsBudget,
        points_per_hour: int = DEFAULT_POINTS_PER_HOUR,
        *,
        share: float = PERMISSION_SHARE,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        if not 0 < share <= 1:
            raise ValueError("share must be in (0, 1]")
        self.budget = budget
        self.share = share
        self._lane = RequestBudget(max(1, int(points_per_hour * share)), clock=clock)

    @property
    def available(self) -> float:
        return min(self._lane.available, self.budget.available)

    @property
    def points_per_hour(self) -> float:
        """The lane's own hourly allowance."""
        return self._lane._capacity

    def take(self, points: int = 1) -> None:
        self._lane.take(points)
        try:
            self.budget.take(points)
        except RateLimited:
            self._lane.spend(-points)  # give the lane its points back: nothing was sent
            raise

    def spend(self, points: int) -> None:
        self._lane.spend(points)
        self.budget.spend(points)

    def observe(self, headers: Mapping[str, str], at: datetime) -> None:
        self.budget.observe(headers, at)
