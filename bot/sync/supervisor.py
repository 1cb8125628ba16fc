"""`serve`'s sync workers: SERVE_WORKERS `datastore-bot worker` processes next to the web process, so a big sync
never competes with Slack's answers for the web process's interpreter lock.

Each worker is started with serve, with the lease and heartbeat owner serve chose for it (so /healthz reports it),
serve's pid (it stops when serve is gone, even after a SIGKILL) and a pipe on which it says which run it handed
back. One that dies is started again after a pause that grows while it keeps dying quickly (1 s up to a minute);
:meth:`WorkerSupervisor.stop` sends each SIGTERM (it hands its run back and exits) and kills the ones still there
after ``STOP_SECONDS``. Their logs go where serve's go; their counters reach serve's /metrics through
PROMETHEUS_MULTIPROC_DIR (bot/metrics.py).
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bot.liveness import Loop

__all__ = ["RESTART_DELAYS", "STOP_SECONDS", "WorkerBeat", "WorkerSupervisor"]

logger = logging.getLogger(__name__)

#: Pauses before a dead worker is started again, longer each time it died within ``STEADY_SECONDS`` of starting.
RESTART_DELAYS = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0)
#: A worker that lived this long is steady: when it dies, the next one starts after the first pause again.
STEADY_SECONDS = 60.0
#: How long a stopping worker has to hand its run back and exit before it is killed.
STOP_SECONDS = 40.0
WATCH_SECONDS = 0.5


def new_owner(index: int) -> str:
    """A worker's lease and heartbeat owner: this host, serve's pid, the slot and a random suffix."""
    return f"{socket.gethostname()[:32]}:{os.getpid()}w{index}:{uuid.uuid4().hex[:8]}"


@dataclass
class _Slot:
    index: int
    owner: str = ""
    process: subprocess.Popen[bytes] | None = None
    report: int | None = None  # the read end of its pipe
    started: float = 0.0
    quick_deaths: int = 0
    restart_at: float | None = None


@dataclass(frozen=True)
class WorkerBeat:
    """The heartbeat /healthz checks for one worker slot: the owner of the worker running in it now."""

    slot: _Slot
    loop: Loop = Loop.WORKER

    @property
    def owner(self) -> str:
        return self.slot.owner


class WorkerSupervisor:
    """``count`` worker processes, each started as ``command`` (by default this interpreter running
    `datastore-bot worker`) with ``env`` (by default this process's environment) plus ``metrics_dir``."""

    def __init__(
        self,
        count: int,
        *,
        metrics_dir: Path | None = None,
        env: Mapping[str, str] | None = None,
        command: tuple[str, ...] = (sys.executable, "-m", "bot.cli", "worker"),
    ) -> None:
        self.command, self.metrics_dir = command, metrics_dir
        self.env = dict(os.environ if env is None else env)
        if metrics_dir is not None:
            self.env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
        self.slots = [_Slot(index) for index in range(count)]
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._watcher: threading.Thread | None = None

    def beats(self) -> list[WorkerBeat]:
        return [WorkerBeat(slot) for slot in self.slots]

    def start(self) -> None:
        with self._lock:
            for slot in self.slots:
                self._spawn(slot)
        if self.slots:
            self._watcher = threading.Thread(target=self._watch, name="worker-supervisor", daemon=True)
            self._watcher.start()

    def _spawn(self, slot: _Slot) -> None:
        slot.owner, slot.restart_at = new_owner(slot.index), None
        read, write = os.pipe()
        argv = [*self.command, "--owner", slot.owner, "--parent", str(os.getpid()), "--report-fd", str(write)]
        try:
            slot.process = subprocess.Popen(argv, env=self.env, pass_fds=(write,), stdin=subprocess.DEVNULL)
        except OSError as exc:
            os.close(read)
            slot.process, slot.report = None, None
            self._schedule(slot, f"could not be started ({exc})")
            return
        finally:
            os.close(write)
        slot.report, slot.started = read, time.monotonic()
        logger.info("sync worker %d started (pid %d, %s)", slot.index, slot.process.pid, slot.owner)

    @staticmethod
    def _collect(slot: _Slot) -> int | None:
        """What a worker that exited said it handed back (a run id, or None); its pipe is closed."""
        if slot.report is None:
            return None
        try:
            said = os.read(slot.report, 64).decode(errors="replace").strip()
        except OSError:
            said = ""
        os.close(slot.report)
        slot.report = None
        return int(said) if said.isdigit() else None

    def _schedule(self, slot: _Slot, what: str) -> None:
        lived = time.monotonic() - slot.started
        slot.quick_deaths = slot.quick_deaths + 1 if lived < STEADY_SECONDS else 1
        delay = RESTART_DELAYS[min(slot.quick_deaths, len(RESTART_DELAYS)) - 1]
        slot.restart_at = time.monotonic() + delay
        logger.error("sync worker %d %s; starting it again in %g s", slot.index, what, delay)

    def _watch(self) -> None:
        while not self._stopping.wait(WATCH_SECONDS):
            with self._lock:
                if self._stopping.is_set():
                    return
                for slot in self.slots:
                    self._look_after(slot)

    def _look_after(self, slot: _Slot) -> None:
        if slot.process is not None and (code := slot.process.poll()) is not None:
            pid, slot.process = slot.process.pid, None
            if (handed := self._collect(slot)) is not None:
                logger.info("sync worker %d handed run %d back before it exited", slot.index, handed)
            how = f"was killed by {signal.Signals(-code).name}" if code < 0 else f"exited with code {code}"
            self._schedule(slot, f"(pid {pid}) {how}")
        if slot.process is None and slot.restart_at is not None and time.monotonic() >= slot.restart_at:
            self._spawn(slot)

    def stop(self, timeout: float = STOP_SECONDS) -> list[int]:
        """Stop every worker (each hands its run back); the ids of the runs they handed back."""
        self._stopping.set()
        handed: list[int] = []
        with self._lock:
            running = [slot for slot in self.slots if slot.process is not None]
            for slot in running:
                assert slot.process is not None
                slot.process.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + timeout
            for slot in running:
                assert slot.process is not None
                try:
                    slot.process.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    logger.error("sync worker %d did not stop within %g s: killing it", slot.index, timeout)
                    slot.process.kill()
                    slot.process.wait()
                if (run_id := self._collect(slot)) is not None:
                    handed.append(run_id)
                slot.process = None
        if self._watcher is not None:
            self._watcher.join(timeout=5)
        return handed
