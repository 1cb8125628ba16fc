"""Sync workers: take runnable runs from the database (leases make this safe across processes) and drive
them with the engine. ``datastore-bot serve`` runs one in a background thread."""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from datetime import datetime

import httpx
from sqlalchemy.exc import SQLAlchemyError

from bot.errors import BotError
from bot.services import Services
from bot.sync.engine import SyncEngine
from storage import sync_runs as runs
from storage.models import utcnow

__all__ = ["SyncWorker", "worker_id"]

logger = logging.getLogger(__name__)


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
    ) -> None:
        self.services, self.engine, self.poll_seconds, self.clock = services, engine, poll_seconds, clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

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
        logger.info("sync run %s: started by %s", run_id, self.engine.owner)
        state = self.engine.run(run_id)
        logger.info("sync run %s: %s", run_id, state)
        return run_id

    def run_until_idle(self) -> list[int]:
        """Drive runs until none is runnable (the CLI's foreground sync, and tests)."""
        done = []
        while (run_id := self.run_once()) is not None:
            done.append(run_id)
        return done

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                ran = self.run_once()
            except (SQLAlchemyError, BotError, httpx.HTTPError, OSError):
                # The database or the network failed under the engine: the run's lease runs out and it is
                # picked up again; keep this worker alive for the next one.
                logger.exception("sync worker %s: a run stopped on an error", self.engine.owner)
                ran = None
            if ran is None:
                self._stop.wait(self.poll_seconds)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="sync-worker", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=timeout)
