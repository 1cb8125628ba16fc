"""The sync worker's loop survives the unexpected: an error the engine does not turn into a state is logged with
an error id, the run is retried after a growing backoff, and after three attempts it ends Failed with that id."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from bot.confluence.client import RequestBudget
from bot.liveness import Heartbeat, LivenessCheck, Loop
from bot.sync import worker as worker_module
from bot.sync.confluence_source import ConfluenceSources
from bot.sync.convert import ConvertedDocument, Converter
from bot.sync.engine import EngineOptions, SyncEngine
from bot.sync.worker import MAX_ATTEMPTS, SyncWorker
from storage.models import SyncRun, utcnow
from tests.bot.sync.conftest import SyncWorld
from tests.harness import wait_until


class FlakyConverter(Converter):
    """Inline conversion that raises ``error`` for its first ``failures`` batches."""

    def __init__(self, failures: int, error: Exception) -> None:
        super().__init__(processes=0)
        self.failures, self.error = failures, error

    def convert(self, items: Sequence[tuple[str, str, str]]) -> list[ConvertedDocument]:
        if self.failures > 0:
            self.failures -= 1
            raise self.error
        return super().convert(items)


def _worker(world: SyncWorld, converter: Converter, **options: object) -> SyncWorker:
    sources = ConfluenceSources(world.services, world.tokens, RequestBudget(10_000_000), sleep=world.slept.append)
    # One listing thread: the full sync converts as it lists, so each attempt meets exactly one failing batch.
    options_ = EngineOptions(metadata_threads=1)
    engine = SyncEngine(world.services, sources, converter, owner="flaky-worker", options=options_)
    heartbeat = Heartbeat(world.services, Loop.WORKER, engine.owner)
    return SyncWorker(world.services, engine, poll_seconds=0.05, heartbeat=heartbeat, **options)  # type: ignore[arg-type]


ERRORS = [
    BrokenProcessPool("A process in the process pool was terminated abruptly"),
    OperationalError("UPDATE documents", {}, Exception("server closed the connection unexpectedly")),
    RuntimeError("a bug"),
    KeyError("missing"),
]


@pytest.mark.parametrize("error", ERRORS, ids=lambda e: type(e).__name__)
def test_an_unexpected_error_is_retried_and_the_run_ends_synced(
    sync_world: SyncWorld, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, error: Exception
) -> None:
    monkeypatch.setattr(worker_module, "FIRST_RETRY", timedelta(milliseconds=50))
    worker = _worker(sync_world, FlakyConverter(MAX_ATTEMPTS - 1, error))
    worker.start()
    try:
        with caplog.at_level(logging.ERROR, logger="bot.sync.worker"):
            run_id = sync_world.queue(kind="full", trigger="create")
            wait_until(lambda: sync_world.run(run_id).state == "finished", timeout=60)
        run = sync_world.run(run_id)
        assert run.outcome == "synced" and run.attempts == MAX_ATTEMPTS - 1 and run.error_id is not None
        logged = [r for r in caplog.records if "failed, error id" in r.getMessage()]
        assert len(logged) == MAX_ATTEMPTS - 1 and all(r.exc_info and r.exc_info[1] is error for r in logged)
        assert run.error_id in logged[-1].getMessage()
        assert LivenessCheck(sync_world.services, [worker.heartbeat] if worker.heartbeat else []).stale() == []
    finally:
        worker.stop()


def test_three_unexpected_failures_end_the_run_failed_and_the_worker_goes_on(
    sync_world: SyncWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(worker_module, "FIRST_RETRY", timedelta(milliseconds=50))
    worker = _worker(sync_world, FlakyConverter(MAX_ATTEMPTS, RuntimeError("always")))
    worker.start()
    try:
        first = sync_world.queue(kind="full", trigger="create")
        wait_until(lambda: sync_world.run(first).state == "finished", timeout=60)
        run = sync_world.run(first)
        assert run.outcome == "failed" and run.attempts == MAX_ATTEMPTS
        assert run.reason == f"an unexpected error stopped it 3 times (error id {run.error_id})"
        assert re.fullmatch(r"[0-9a-f]{8}", str(run.error_id))
        assert sync_world.datastore().status == "failed"
        second = sync_world.queue(kind="full", trigger="retry")  # the same worker, still looping
        wait_until(lambda: sync_world.run(second).state == "finished", timeout=60)
        assert sync_world.run(second).outcome == "synced" and sync_world.run(second).attempts == 0
    finally:
        worker.stop()


class Clock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now


def test_each_retry_waits_twice_as_long_and_nobody_takes_the_run_before(sync_world: SyncWorld) -> None:
    clock = Clock()
    worker = _worker(sync_world, Converter(processes=0), clock=clock)
    run_id = sync_world.queue(kind="full", trigger="create")
    for attempt, wait in ((1, 2), (2, 4)):
        assert worker.claim() == run_id
        worker._unexpected(run_id, RuntimeError(f"attempt {attempt}"))
        run = sync_world.run(run_id)
        assert run.attempts == attempt and run.lease_owner is None
        assert run.lease_expires_at == clock.now + timedelta(seconds=wait)
        clock.now += timedelta(seconds=wait - 0.5)
        assert worker.claim() is None  # still backing off
        clock.now += timedelta(seconds=1)
    assert worker.claim() == run_id
    worker._unexpected(run_id, RuntimeError("attempt 3"))
    run = sync_world.run(run_id)
    assert run.state == "finished" and run.outcome == "failed" and run.lease_owner is None


def test_looking_for_work_on_a_broken_database_is_logged_and_the_loop_goes_on(
    sync_world: SyncWorld, caplog: pytest.LogCaptureFixture
) -> None:
    worker = _worker(sync_world, Converter(processes=0))
    real_claim, calls = worker.claim, [0]

    def claim() -> int | None:
        calls[0] += 1
        if calls[0] <= 2:
            raise OperationalError("SELECT sync_runs", {}, Exception("the database went away"))
        return real_claim()

    worker.claim = claim  # type: ignore[method-assign]
    worker.start()
    try:
        with caplog.at_level(logging.ERROR, logger="bot.sync.worker"):
            run_id = sync_world.queue(kind="full", trigger="create")
            wait_until(lambda: sync_world.run(run_id).state == "finished", timeout=60)
        assert sync_world.run(run_id).outcome == "synced" and sync_world.run(run_id).attempts == 0
        assert len([r for r in caplog.records if "looking for work failed, error id" in r.getMessage()]) == 2
    finally:
        worker.stop()
    with sync_world.services.sessions() as session:
        assert session.scalars(select(SyncRun.error_id)).all() == [None]


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")  # the loop dies on purpose
def test_a_worker_whose_loop_died_stops_beating_and_goes_stale(sync_world: SyncWorld) -> None:
    """The heartbeat is the loop's: if the loop thread ends (here SystemExit, which no loop catches), the beats
    stop and the liveness check reports the worker stale."""
    worker = _worker(sync_world, Converter(processes=0), beat_every=0.05)
    assert worker.heartbeat is not None
    check = LivenessCheck(sync_world.services, [worker.heartbeat], stale_after=timedelta(seconds=1))

    def claim() -> int | None:
        raise SystemExit

    worker.start()
    try:
        assert check.stale() == []
        worker.claim = claim  # type: ignore[method-assign]
        wait_until(lambda: check.stale() == ["worker"], timeout=10, interval=0.05)
    finally:
        worker.stop()
