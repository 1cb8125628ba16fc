"""`datastore-bot sync NAME [--full]`: drive a datastore's sync in the foreground with a progress bar
(bot/cli_progress.py). Ctrl-C hands the run back — its lease released — so the next `sync`, or a running
`serve`, resumes it from its checkpoints at once."""

from __future__ import annotations

import argparse
import gc
import sys

from sqlalchemy.exc import SQLAlchemyError

from bot.cli_progress import Counts, SyncProgress
from bot.services import Services
from storage import sync_runs as runs
from storage.models import SyncRun
from storage.states import PauseKind, RunKind, RunOutcome, RunState, RunTrigger

__all__ = ["sync_now"]


def _counts(services: Services, run_id: int) -> Counts | None:
    with services.sessions() as session:
        run = session.get(SyncRun, run_id)
        return Counts.of(run) if run is not None else None


def _take(services: Services, datastore_id: int, *, full: bool) -> int:
    """The datastore's unfinished run (resumed), or a new queued one."""
    with services.sessions.begin() as session:
        run = runs.unfinished_run(session, datastore_id=datastore_id) or runs.queue_run(
            session,
            datastore_id=datastore_id,
            kind=RunKind.FULL if full else RunKind.INCREMENTAL,
            trigger=RunTrigger.MANUAL,
        )
        assert run is not None
        if run.state == RunState.PAUSED and run.pause_kind not in (PauseKind.RATE_LIMIT, PauseKind.QUOTA):
            run.state = RunState.QUEUED
        return int(run.id)


def _handed_back(services: Services, run_id: int, owner: str, name: str) -> str:
    """Release the lease of an interrupted run; what happened, in words, for the one line Ctrl-C prints."""
    try:
        with services.sessions.begin() as session:
            released = runs.release_lease(session, run_id=run_id, owner=owner)
            run = session.get(SyncRun, run_id)
    except SQLAlchemyError as exc:
        minutes = max(1, round(services.settings.sync_lease_seconds / 60))
        return (
            f"the sync of {name} could not be handed back ({type(exc).__name__}); the next sync resumes it once "
            f"its lease runs out, within {minutes} min"
        )
    if run is not None and run.state == RunState.FINISHED:
        return f"the sync of {name} had already ended {run.outcome}"
    if not released:
        return f"the sync of {name} was not started here; nothing changed"
    where = f" at {run.processed + run.failed:,}/{run.to_process:,} pages" if run and run.to_process else ""
    return f"the sync of {name} is handed back{where}: `datastore-bot sync {name}` or a running `serve` resumes it now"


def sync_now(services: Services, args: argparse.Namespace, *, name: str, datastore_id: int) -> int:
    from bot.sync.runtime import SyncRuntime

    run_id = _take(services, datastore_id, full=args.full)
    runtime = SyncRuntime(services)
    interrupted = False
    try:
        worker = runtime.worker()
        progress = SyncProgress(name, lambda: _counts(services, run_id), out=sys.stdout, terminal=sys.stdout.isatty())
        try:
            with progress.shown():
                driven = worker.drive(run_id)
        except KeyboardInterrupt:
            interrupted = True
        if interrupted:
            # Out of the except block, so the interrupt's traceback is unreferenced. A Ctrl-C inside a statement
            # leaves its cursor alive in that traceback's frames (a reference cycle); until they are collected,
            # SQLite keeps the interrupted write transaction — and its lock — open, and the hand-back would wait
            # on it, then fail with "database is locked".
            gc.collect()
            raise KeyboardInterrupt(_handed_back(services, run_id, worker.engine.owner, name))
    finally:
        runtime.close()
    with services.sessions() as session:
        run = session.get(SyncRun, run_id)
        assert run is not None
        if not driven:
            print(f"{name}: another process is syncing it right now ({run.phase}).")
            return 1
        print(
            f"{name}: {run.outcome or run.state} — {run.processed:,} processed, {run.unchanged:,} "
            f"unchanged, {run.failed:,} failed, {run.deleted:,} deleted" + (f" ({run.reason})" if run.reason else "")
        )
        return 0 if run.outcome in (RunOutcome.SYNCED, RunOutcome.PARTIALLY_SYNCED) else 1
