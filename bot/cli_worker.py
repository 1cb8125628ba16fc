"""`datastore-bot worker`: a sync worker process. `serve` starts SERVE_WORKERS of them next to its web process
(bot/sync/supervisor.py); more run on any machine that shares the PostgreSQL database.

A worker claims queued runs and drives them, beating its heartbeat row, at a lower CPU priority (WORKER_NICE) so
the web process answers Slack first. SIGTERM or Ctrl-C hands the run it is driving back at once (any worker
resumes it from its checkpoints) and exits 0. A worker `serve` started also stops when that `serve` is gone
(even killed with SIGKILL), handing its run back the same way.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import time
from types import FrameType

from bot.settings import Settings

__all__ = ["PARENT_CHECK_SECONDS", "run_worker"]

logger = logging.getLogger("datastore_bot")

#: How often a worker `serve` started looks whether that `serve` is still there.
PARENT_CHECK_SECONDS = 1.0


def _lower_priority(nice: int) -> None:
    if nice <= 0:
        return
    try:
        os.nice(nice)
    except OSError as exc:  # a platform or container that refuses: the worker runs, at the same priority
        logger.warning("sync worker: could not lower its CPU priority by %d (%s)", nice, exc)


def _report(fd: int | None, handed: int | None) -> None:
    """Tell the `serve` that started this worker which run it handed back (its Ctrl-C line says so)."""
    if fd is None:
        return
    try:
        os.write(fd, f"{handed if handed is not None else ''}\n".encode())
        os.close(fd)
    except OSError:
        pass  # that serve is gone: nobody to tell


def run_worker(settings: Settings, args: argparse.Namespace) -> int:
    from bot.metrics import start_metrics_server
    from bot.startup import prepare_worker
    from bot.sync.runtime import SyncRuntime

    services = prepare_worker(settings)
    parent: int | None = args.parent
    # A worker serve started counts into serve's /metrics (bot/metrics.py); one on its own serves them itself.
    metrics = None if parent is not None else start_metrics_server(settings, services.sessions, services.budget)
    _lower_priority(settings.worker_nice)
    why: list[str] = []  # set by a signal (a plain list: a handler must not take a lock the loop may hold)

    def _stop(signum: int, _frame: FrameType | None) -> None:
        why.append(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    if parent is not None and os.getppid() != parent:
        logger.warning("sync worker: serve (pid %d) is already gone; not starting", parent)
        _report(args.report_fd, None)
        services.engine.dispose()
        return 0
    runtime = SyncRuntime(services)
    worker = runtime.worker(owner=args.owner)
    logger.info("sync worker %s started (pid %d)", worker.engine.owner, os.getpid())
    worker.start()
    handed: int | None = None
    try:
        while not why:
            time.sleep(PARENT_CHECK_SECONDS)  # a signal ends the sleep at once
            if parent is not None and os.getppid() != parent:
                why.append(f"serve (pid {parent}) is gone")
    finally:
        handed = worker.stop()
        _report(args.report_fd, handed)  # before the slower closing, which the supervisor may cut short
        runtime.close()
        if metrics is not None:
            metrics.close()
        services.engine.dispose()
    said = f"sync run {handed} is handed back for the next worker" if handed is not None else "no sync was running"
    if parent is None and why[:1] == ["SIGINT"]:  # Ctrl-C in its terminal: one line, exit code 130, like every command
        raise KeyboardInterrupt(f"the worker stopped; {said}")
    logger.info("sync worker %s stopped (%s); %s", worker.engine.owner, why[0] if why else "stopped", said)
    return 0


def add_worker_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    worker = commands.add_parser(
        "worker",
        help="run a sync worker (more of them: on any machine sharing the PostgreSQL database)",
        description="Run a sync worker: it drives queued syncs at a lower CPU priority (WORKER_NICE), with its own "
        "/metrics on METRICS_PORT. `serve` starts SERVE_WORKERS of these itself; run more on other machines that "
        "share DATABASE_URL. SIGTERM or Ctrl-C hands the running sync back at once.",
    )
    worker.add_argument("--owner", default=None, help=argparse.SUPPRESS)  # serve: the lease and heartbeat owner
    worker.add_argument("--parent", type=int, default=None, help=argparse.SUPPRESS)  # serve's pid
    worker.add_argument("--report-fd", type=int, default=None, help=argparse.SUPPRESS)  # serve's pipe
    worker.set_defaults(handler=run_worker)
