"""The app-wide Atlassian points budget, shared by every process through the database.

Atlassian's quota for a 3LO app is per UTC hour, shared by all its tenants, with no carry-over. Each process
keeps its own :class:`~bot.confluence.budget.RequestBudget` (it paces the process over the hour) and draws, under
it, from one count per UTC hour in the database (storage/points.py): a restart does not refill the hour, and two
processes cannot spend it twice.

A process claims points in chunks (CHUNK_SHARE of the hour, at least MIN_CHUNK; doubled while claims come
quickly, up to MAX_CHUNK_SHARE), so the database sees a write per chunk, not one per request, and a busy sync few
of them; a chunk not used up by the end of its hour lapses with it. Objects Atlassian
counts after a request (``spend``) are charged even past the limit: the hour's count is then in debt, and the next
``take`` waits for the next hour. When Atlassian's answers carry ``X-RateLimit-Limit`` / ``X-RateLimit-Remaining``
the count is raised to what Atlassian says the app has used (other deployments of the app spend it too).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from bot.confluence.budget import RequestBudget
from bot.errors import RateLimited
from storage.models import utcnow
from storage.points import charge_points, claim_points, points_spent, prune_windows, raise_points

__all__ = ["CHUNK_SHARE", "MIN_CHUNK", "SharedBudget", "hour_of", "quota_message", "used_from_headers"]

logger = logging.getLogger(__name__)

#: A claim is this share of the hour's points, at least MIN_CHUNK points; while claims follow each other within
#: QUICK_CLAIMS it doubles, up to MAX_CHUNK_SHARE (so a process holds at most that much unused).
CHUNK_SHARE = 0.01
MIN_CHUNK = 25
MAX_CHUNK_SHARE = 0.08
QUICK_CLAIMS = timedelta(seconds=10)
#: How often a process corrects the hour's count from Atlassian's headers, at most.
OBSERVE_EVERY = timedelta(seconds=30)


def hour_of(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def quota_message(until: datetime) -> str:
    return f"Paused for Atlassian's hourly quota — resuming at {until:%H:%M} UTC."


def used_from_headers(headers: Mapping[str, str]) -> int | None:
    """Points the app has used this hour by Atlassian's ``X-RateLimit-Limit`` and ``-Remaining`` headers (None
    when either is missing or not a sensible count, or when they describe a tenant's quota, not the app's)."""
    if "tenant" in (headers.get("ratelimit-reason") or "").lower():
        return None
    limit, remaining = headers.get("x-ratelimit-limit") or "", headers.get("x-ratelimit-remaining") or ""
    if not all(value.isascii() and value.isdigit() and len(value) <= 9 for value in (limit, remaining)):
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
        self._base_chunk = max(MIN_CHUNK, int(points_per_hour * CHUNK_SHARE))
        self._max_chunk = max(self._base_chunk, int(points_per_hour * MAX_CHUNK_SHARE))
        self._chunk = self._base_chunk
        self._claimed_at: datetime | None = None
        self._lock = threading.Lock()
        self._window: datetime | None = None
        self._held = 0  # points claimed for this window and not used yet
        self._known_spent = 0  # the hour's count as this process last saw it
        self._observed_at: datetime | None = None
        self._warned_at: datetime | None = None

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

    def observe(self, headers: Mapping[str, str], at: datetime) -> None:
        """Correct the hour's count from Atlassian's rate-limit headers of an answer sent at ``at`` (its Date):
        only for the hour it is in now, at most every OBSERVE_EVERY."""
        used = used_from_headers(headers)
        if used is None:
            return
        now = self._clock()
        with self._lock:
            self._roll(now)
            if hour_of(at) != self._window:  # an answer of the hour before (or a skewed clock): not this hour's
                return
            if self._observed_at is not None and now - self._observed_at < OBSERVE_EVERY:
                return
            self._observed_at = now
            if used <= self._known_spent:
                return
            try:
                with self._sessions.begin() as session:
                    raise_points(session, window=self._window, at_least=used)
                    self._known_spent = points_spent(session, window=self._window)
            except SQLAlchemyError as exc:
                self._unreachable(exc)

    def _unreachable(self, exc: SQLAlchemyError) -> None:
        """The database cannot count points now: this process goes on with its own pacing budget alone (it
        never spends more than the hour in any case), and says so at most once a minute."""
        now = self._clock()
        if self._warned_at is None or now - self._warned_at >= timedelta(minutes=1):
            self._warned_at = now
            logger.warning("the shared Atlassian points count is unreachable (%s); pacing this process alone", exc)

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
            try:
                self._claim(window, points, need, strict=strict)
            except SQLAlchemyError as exc:
                self._held = 0
                self._unreachable(exc)

    def _claim(self, window: datetime, points: int, need: int, *, strict: bool) -> None:
        """Claim ``need`` more points (a chunk when it can) for a draw of ``points``; under the lock."""
        now = self._clock()
        quick = self._claimed_at is not None and now - self._claimed_at < QUICK_CLAIMS
        self._chunk = min(self._max_chunk, self._chunk * 2) if quick else self._base_chunk
        self._claimed_at = now
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
            if self._known_spent <= self._max_chunk:  # the hour's first claims: forget yesterday's hours
                prune_windows(session, before=window - timedelta(days=1))
