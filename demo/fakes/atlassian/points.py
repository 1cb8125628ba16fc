"""Atlassian's points-based quota, as the reference describes it (rate-limiting page, March 2026).

Every Confluence REST answer the fake produces costs ``1 + core objects + 2 × identity objects`` (see
:class:`~.common.Meter`); refusals and errors cost the base point only, faults the fake injects cost nothing
(they stand for the gateway turning the request away), and the OAuth server, ``accessible-resources`` and
``/me`` are not Confluence API calls (0).  The cost is in each :class:`~.faults.RequestRecord` (``points``).

With a quota set (``FakeAtlassian.set_points_quota(65_000)``) the app's points are counted per UTC hour of
the fake clock (no carry-over); once the hour's budget is spent, every Confluence request gets 429 with
``Retry-After`` (seconds to the top of the hour) and the quota headers until the next hour.
"""

from __future__ import annotations

import math
import threading
from datetime import UTC, datetime

from .transport import Response, json_response

HOUR = 3600.0


class PointsBudget:
    """The app-wide hourly budget (Tier 1: one budget shared by every tenant)."""

    def __init__(self) -> None:
        self.quota: int | None = None
        self._lock = threading.Lock()
        self._hour = -1
        self._used = 0

    def _roll(self, now: float) -> None:
        hour = int(now // HOUR)
        if hour != self._hour:
            self._hour, self._used = hour, 0

    def used(self, now: float) -> int:
        with self._lock:
            self._roll(now)
            return self._used

    def charge(self, now: float, points: int) -> None:
        with self._lock:
            self._roll(now)
            self._used += points

    def refusal(self, now: float) -> Response | None:
        """The 429 to send instead of answering, when this hour's budget is spent."""
        if self.quota is None or self.used(now) < self.quota:
            return None
        response = json_response(429, {"code": 429, "message": "Rate limit exceeded."}, self.headers(now))
        response.headers += [
            ("Retry-After", str(max(1, math.ceil(HOUR - now % HOUR)))),
            ("RateLimit-Reason", "confluence-quota-global-based"),
        ]
        response.note = "points quota"
        return response

    def headers(self, now: float) -> list[tuple[str, str]]:
        """Quota headers for an answer (none while no quota is set)."""
        if self.quota is None:
            return []
        remaining = max(0, self.quota - self.used(now))
        reset = datetime.fromtimestamp((now // HOUR + 1) * HOUR, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return [
            ("X-RateLimit-Limit", str(self.quota)),
            ("X-RateLimit-Remaining", str(remaining)),
            ("X-RateLimit-Reset", reset),
            ("X-RateLimit-NearLimit", "true" if remaining < self.quota * 0.2 else "false"),
            ("RateLimit-Policy", f'"global-app-quota";q={self.quota};w=3600'),
        ]
