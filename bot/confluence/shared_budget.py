"""The app-wide Atlassian points budget, shared by every process through the database.

Atlassian's quota for a 3LO app is per UTC hour, shared by all its tenants, with no carry-over. Each process
keeps its own :class:`~bot.confluence.budget.RequestBudget` (it paces the process over the hour) and draws, under
it, from one count per UTC hour in the database (storage/points.py): a restart does not refill the hour, and two
processes cannot spend it twice.

A process claims points in chunks (CHUNK_SHARE of the hour, at least MIN_CHUNK), so the database sees one write
per chunk, not one per request; a chunk not used up by the end of its hour lapses with it. Objects Atlassian
counts after a request (``spend``) are charged even past the limit: the hour's count is then in debt, and the next
``take`` waits for the next hour. When Atlassian's answers carry ``X-RateLimit-Limit`` / ``X-RateLimit-Remaining``
the count is raised to what Atlassian says the app has used (other deployments of the app spend it too).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from bot.confluence.budget import RequestBudget
from bot.errors import RateLimited
from storage.models import utcnow
from storage.points import charge_points, claim_points, points_spent, prune_windows, raise_points

__all__ = ["CHUNK_SHARE", "MIN_CHUNK", "SharedBudget", "hour_of", "quota_message", "used_from_headers"]

#: A claim is this share of the hour's points (so a process holds at most that much unused) ...
CHUNK_SHARE = 0.005
#: ... and at least this many points.
MIN_CHUNK = 25
#: How often a process corrects the hour's count from Atlassian's headers, at most.
OBSERVE_EVERY = timedelta(seconds=30)


def hour_of(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def quota_message(until: datetime) -> str:
    return f"Paused for Atlassian's hourly quota — resuming at {until:%H:%M} UTC."


def used_from_headers(headers: Mapping[str, str]) -> int | None:
    """Points the app has used this hour by Atlassian's ``X-RateLimit-Limit`` and ``-Remaining`` headers (None
    when either is missing or not a sensible count)."""
    limit, remaining = headers.get("x-ratelimit-limit"), headers.get("x-ratelimit-remaining")
    if not limit or not remaining or not limit.isdigit() or not remaining.isdigit() or len(limit) > 9:
        return None
    total, left = int(limit), int(remaining)
    return total - left if 0 < total and 0 <= left <= total else None


class SharedBudget:
    """The process's app-wide budget: a :class:`RequestBudget` for pacing, under the database's hourly count."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        points_per_hour: int,
        *,
        clock: Callable[[], datetime] = utcnow,
        metered: bool = True,
    ) -> None:
        self.local = RequestBudget(points_per_hour, clock=clock, metered=metered)
        self._sessions, self._limit, self._clock = sessions, points_per_hour, clock
        self._chunk = max(MIN_CHUNK, int(points_per_hour * CHUNK_SHARE))
        self._lock = threading.Lock()
        self._window: datetime | None = None
        self._held = 0  # points claimed for this window and not used yet
        self._known_spent = 0  # the hour's count as this process last saw it
        self._observed_at: datetime | None = None

    @property
    def points_per_hour(self) -> int:
        return self._limit

    @property
    def available(self) -> float:
        """What this process could still draw: its pacing budget, within what the hour has left (as last seen)."""
        with self._lock:
            self._roll(self._clock())
            left = self._held + max(0, self._limit - self._known_spent)
        return min(self.local.available, float(left))

    def take(self, points: int = 1) -> None:
        """Points for one request; RateLimited (until the next UTC hour, ``quota``) when the hour is spent."""
        self.local.take(points)
        try:
            self._draw(points, strict=True)
        except RateLimited:
            self.local.spend(-points)  # nothing was sent: the pacing budget gets its points back
            raise

    def spend(self, points: int) -> None:
        """Objects Atlassian counted for a request already made: charged, past the limit if need be."""
        self.local.spend(points)
        if points > 0:
            self._draw(points, strict=False)

    def observe(self, headers: Mapping[str, str]) -> None:
        """Correct the hour's count from Atlassian's rate-limit headers (at most every OBSERVE_EVERY)."""
        used = used_from_headers(headers)
        if used is None:
            return
        now = self._clock()
        with self._lock:
            self._roll(now)
            if self._observed_at is not None and now - self._observed_at < OBSERVE_EVERY:
                return
            self._observed_at = now
            if used <= self._known_spent:
                return
            window = self._window
            assert window is not None
            with self._sessions.begin() as session:
                raise_points(session, window=window, at_least=used)
                self._known_spent = points_spent(session, window=window)

    def _roll(self, now: datetime) -> None:
        """A new UTC hour: what this process held of the last one lapses with it."""
        window = hour_of(now)
        if window != self._window:
            self._window, self._held, self._known_spent, self._observed_at = window, 0, 0, None

    def _draw(self, points: int, *, strict: bool) -> None:
        now = self._clock()
        with self._lock:
            self._roll(now)
            if self._held >= points:
                self._held -= points
                return
            window = self._window
            assert window is not None
            need = points - self._held
            with self._sessions.begin() as session:
                if claim_points(session, window=window, points=max(need, self._chunk), limit=self._limit):
                    self._held += max(need, self._chunk) - points
                elif need < self._chunk and claim_points(session, window=window, points=need, limit=self._limit):
                    self._held = 0
                elif strict:
                    self._known_spent = points_spent(session, window=window)
                    until = window + timedelta(hours=1)
                    raise RateLimited(until, quota_message(until), quota=True)
                else:
                    charge_points(session, window=window, points=need)
                    self._held = 0
                self._known_spent = points_spent(session, window=window)
                if self._known_spent <= self._chunk:  # the hour's first claims: forget yesterday's hours
                    prune_windows(session, before=window - timedelta(days=1))
