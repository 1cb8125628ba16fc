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
from collections.abc import Callable, Mapping
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
    `datastore-bot worker`) with ``env`` (by default this process's environment) plus ``metrics_dir``;
    ``on_start`` gets each new worker's owner as it is started (serve beats its "starting" heartbeat, so /healthz
    does not call a worker stale before it could beat)."""

    def __init__(
        self,
        count: int,
        *,
        metrics_dir: Path | None = None,
        env: Mapping[str, str] | None = None,
        command: tuple[str, ...] = (sys.executable, "-m", "bot.cli", "worker"),
        on_start: Callable[[str], None] = lambda _owner: None,
    ) -> None:
        self.command, self.metrics_dir, self.on_start = command, metrics_dir, on_start
        self.env = dict(os.environ if env is None else env)
        if metrics_dir is not None:
            self.env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
        self.slots = [_Slot(index) for index in range(count)]
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._watcher: threading.Thread | None = None
        self._handed: list[int] = []

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
        slot.owner, slot.restart_at, slot.started = new_owner(slot.index), None, time.monotonic()
        self.on_start(slot.owner)
        try:
            read, write = os.pipe()
        except OSError as exc:
            self._schedule(slot, f"could not be started ({exc})")
            return
        os.set_blocking(read, False)  # a killed worker's forked conversion processes may hold it open: never wait
        argv = [*self.command, "--owner", slot.owner, "--parent", str(os.getpid()), "--report-fd", str(write)]
        try:
            slot.process = subprocess.Popen(argv, env=self.env, pass_fds=(write,), stdin=subprocess.DEVNULL)
        except (OSError, subprocess.SubprocessError) as exc:
            os.close(read)
            slot.process, slot.report = None, None
            self._schedule(slot, f"could not be started ({exc})")
            return
        finally:
            os.close(write)
        slot.report = read
        logger.info("sync worker %d started (pid %d, %s)", slot.index, slot.process.pid, slot.owner)

    def _collect(self, slot: _Slot) -> None:
        """Note what a worker that exited said it handed back (it writes before it exits); its pipe is closed."""
        if slot.report is None:
            return
        try:
            said = os.read(slot.report, 64).decode(errors="replace").strip()
        except OSError:  # BlockingIOError included: it said nothing (killed)
            said = ""
        os.close(slot.report)
        slot.report = None
        if said.isdigit():
            self._handed.append(int(said))

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
            handed = len(self._handed)
            self._collect(slot)
            if len(self._handed) > handed:
                logger.info("sync worker %d handed run %d back before it exited", slot.index, self._handed[-1])
            self._schedule(slot, f"(pid {pid}) {_how(code)}")
        if slot.process is None and slot.restart_at is not None and time.monotonic() >= slot.restart_at:
            self._spawn(slot)

    def halt(self) -> None:
        """Ask every worker to stop (SIGTERM: each hands its run back) and start none again; :meth:`stop` waits."""
        self._stopping.set()
        with self._lock:
            for slot in self.slots:
                if slot.process is not None and slot.process.poll() is None:
                    slot.process.send_signal(signal.SIGTERM)

    def stop(self, timeout: float = STOP_SECONDS) -> list[int]:
        """Stop every worker (see :meth:`halt`) and wait for them, killing those still there after ``timeout``;
        the ids of the runs they handed back (also those of workers that stopped on their own, e.g. on Ctrl-C)."""
        self.halt()
        with self._lock:
            deadline = time.monotonic() + timeout
            for slot in self.slots:
                if slot.process is None:
                    continue
                try:
                    slot.process.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    logger.error("sync worker %d did not stop within %g s: killing it", slot.index, timeout)
                    slot.process.kill()
                    slot.process.wait()
                self._collect(slot)
                slot.process = None
        if self._watcher is not None:
            self._watcher.join(timeout=5)
        return sorted(set(self._handed))


def _how(code: int) -> str:
    if code >= 0:
        return f"exited with code {code}"
    name = signal.Signals(-code).name if -code in signal.valid_signals() else f"signal {-code}"
    return f"was killed by {name}"
