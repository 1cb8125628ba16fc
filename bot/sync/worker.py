"""Sync workers: take runnable runs from the database (leases make this safe across processes) and drive
them with the engine. ``datastore-bot serve`` runs one in a background thread.

The loop survives and reports the unexpected: anything a run raises that the engine does not turn into a
state (a broken conversion pool, a database error, a bug) is logged with an error id and its traceback, and
the run is retried after a backoff — at most ``MAX_ATTEMPTS`` times, then it ends Failed with that error id,
which its thread shows. The worker beats a heartbeat row while its loop lives (bot/liveness.py).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.exc import SQLAlchemyError

from bot.errors import BotError
from bot.incidents import new_error_id
from bot.liveness import BEAT_EVERY, Heartbeat
from bot.logs import log_context
from bot.services import Services
from bot.sync.engine import SyncEngine
from storage import sync_runs as runs
from storage.models import utcnow

__all__ = ["MAX_ATTEMPTS", "SyncWorker", "worker_id"]

logger = logging.getLogger(__name__)

#: Unexpected failures a run may have before it ends Failed.
MAX_ATTEMPTS = 3
#: The wait before the run is tried again after its first unexpected failure; it doubles each time.
FIRST_RETRY = timedelta(seconds=2)
#: The longest the loop waits after failing to even look for work (the database is down, say).
LONGEST_IDLE = 30.0


def worker_id() -> str:
    """Who holds a lease: host, process and a random suffix (unique per worker object)."""
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class SyncWorker:
    def __init__(
        self,
        services: Services,
        engine: SyncEngine,
        *,
        poll_seconds: float = 1.0,
        clock: Callable[[], datetime] = utcnow,
        heartbeat: Heartbeat | None = None,
        beat_every: float = BEAT_EVERY,
    ) -> None:
        self.services, self.engine, self.poll_seconds, self.clock = services, engine, poll_seconds, clock
        self.heartbeat, self.beat_every = heartbeat, beat_every
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._beating: threading.Thread | None = None
        self._current: int | None = None

    def claim(self) -> int | None:
        """Take the lease of one runnable run, if any."""
        now = self.clock()
        with self.services.sessions.begin() as session:
            candidates = runs.runnable_run_ids(session, now=now)
        for run_id in candidates:
            with self.services.sessions.begin() as session:
                if runs.claim_run(
                    session, run_id=run_id, owner=self.engine.owner, now=now, lease=self.engine.options.lease
                ):
                    return run_id
        return None

    def drive(self, run_id: int) -> bool:
        """Claim ``run_id`` and drive it here (the CLI's foreground sync); False if another worker has it."""
        with self.services.sessions.begin() as session:
            claimed = runs.claim_run(
                session, run_id=run_id, owner=self.engine.owner, now=self.clock(), lease=self.engine.options.lease
            )
        if claimed:
            self.engine.run(run_id)
        return claimed

    def run_once(self) -> int | None:
        """Claim and drive one run; returns its id, or None when there was nothing to do."""
        run_id = self.claim()
        if run_id is None:
            return None
        self._drive_claimed(run_id)
        return run_id

    def _drive_claimed(self, run_id: int) -> None:
        self._current = run_id
        try:
            with log_context(run_id=run_id):
                logger.info("sync run %s: started by %s", run_id, self.engine.owner)
                self.engine.run(run_id)
        finally:
            self._current = None

    def run_until_idle(self) -> list[int]:
        """Drive runs until none is runnable (the CLI's foreground sync, and tests)."""
        done = []
        while (run_id := self.run_once()) is not None:
            done.append(run_id)
        return done

    def _loop(self) -> None:
        idle = self.poll_seconds
        while not self._stop.is_set():
            run_id: int | None = None
            try:
                run_id = self.claim()
                if run_id is not None:
                    self._drive_claimed(run_id)
                idle = self.poll_seconds
            except Exception as exc:  # noqa: BLE001 — the worker loop's boundary: it survives and reports (docstring)
                with log_context(run_id=run_id):
                    self._unexpected(run_id, exc)
                idle = self.poll_seconds if run_id is not None else min(LONGEST_IDLE, idle * 2)
            if run_id is None:
                self._stop.wait(idle)

    def _unexpected(self, run_id: int | None, exc: Exception) -> None:
        error_id = new_error_id()
        what = f"run {run_id}" if run_id is not None else "looking for work"
        logger.error("sync worker %s: %s failed, error id %s", self.engine.owner, what, error_id, exc_info=exc)
        if run_id is None:
            return
        try:
            self._retry_or_fail(run_id, error_id)
        except (SQLAlchemyError, BotError) as nested:
            # The run's lease runs out instead and another attempt picks it up.
            logger.error("sync run %s: its failure (error id %s) could not be recorded: %s", run_id, error_id, nested)

    def _retry_or_fail(self, run_id: int, error_id: str) -> None:
        with self.services.sessions.begin() as session:
            attempts = runs.record_unexpected_failure(session, run_id=run_id, error_id=error_id)
        if attempts >= MAX_ATTEMPTS:
            reason = f"an unexpected error stopped it {attempts} times (error id {error_id})"
            self.engine.fail(run_id, reason)
            logger.error("sync run %s: failed after %d attempts, error id %s", run_id, attempts, error_id)
            return
        retry_at = self.clock() + FIRST_RETRY * 2 ** (attempts - 1)
        with self.services.sessions.begin() as session:
            runs.release_for_retry(session, run_id=run_id, owner=self.engine.owner, retry_at=retry_at)
        logger.warning(
            "sync run %s: attempt %d failed (error id %s); retrying at %s", run_id, attempts, error_id, retry_at
        )

    def _hand_back(self) -> int | None:
        """Release the lease of the run being driven (`serve` stopping): its engine stops at its next
        transaction (LeaseLost) and any worker may resume the run at once instead of after the lease. The run's
        id when one was handed back."""
        run_id = self._current
        if run_id is None:
            return None
        try:
            with self.services.sessions.begin() as session:
                handed = runs.release_lease(session, run_id=run_id, owner=self.engine.owner)
        except SQLAlchemyError as exc:
            logger.warning("sync run %s: could not be handed back (%s); its lease runs out instead", run_id, exc)
            return None
        if not handed:
            return None
        logger.info("sync run %s: handed back by %s, which is stopping", run_id, self.engine.owner)
        return run_id

    def _beat(self) -> None:
        assert self.heartbeat is not None
        while not self._stop.is_set() and self._thread is not None and self._thread.is_alive():
            current = self._current
            self.heartbeat.beat("idle" if current is None else f"run {current}", force=True)
            self._stop.wait(self.beat_every)

    def start(self) -> None:
        if self.heartbeat is not None:
            self.heartbeat.beat("starting", force=True)
        self._thread = threading.Thread(target=self._loop, name="sync-worker", daemon=True)
        self._thread.start()
        if self.heartbeat is not None:
            self._beating = threading.Thread(target=self._beat, name="sync-worker-heartbeat", daemon=True)
            self._beating.start()

    def stop(self, timeout: float = 30.0) -> int | None:
        """Stop the loop; the id of the run it handed back (see _hand_back), if it was driving one."""
        self._stop.set()
        handed = self._hand_back()
        if self._thread is not None:
            self._thread.join(timeout=timeout)
        if self._beating is not None:
            self._beating.join(timeout=5)
        return handed
