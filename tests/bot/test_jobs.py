"""The scheduler's jobs: one resync per datastore, due one interval after its last sync, rebuilt from the
database without ever postponing a resync, and gone as soon as the datastore is deleted."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from bot.jobs import REBUILD_JOB_ID, Jobs, remove_datastore_jobs, resync_job_id
from bot.services import Services, build_services
from bot.settings import Settings
from storage.models import Datastore, SyncRun, utcnow
from tests.harness import migrate


@pytest.fixture
def services(database_url: str) -> Iterator[Services]:
    built = build_services(Settings(_env_file=None, database_url=database_url, encryption_key="x" * 43 + "="))
    migrate(built.engine)
    yield built
    built.engine.dispose()


def _datastore(services: Services, name: str, *, finished_ago: timedelta | None, minutes: int | None = None) -> int:
    with services.sessions.begin() as session:
        datastore = Datastore(team_id="T1", name=name, name_key=name, created_by="U1", sync_interval_minutes=minutes)
        session.add(datastore)
        session.flush()
        if finished_ago is not None:
            session.add(
                SyncRun(
                    datastore_id=datastore.id, state="finished", outcome="synced", finished_at=utcnow() - finished_ago
                )
            )
        return datastore.id


def test_resyncs_are_due_an_interval_after_the_last_sync_and_rebuilding_keeps_them(services: Services) -> None:
    recent = _datastore(services, "recent", finished_ago=timedelta(minutes=30))
    overdue = _datastore(services, "overdue", finished_ago=timedelta(hours=5))
    hourly = _datastore(services, "hourly", finished_ago=timedelta(minutes=10), minutes=60)
    jobs = Jobs(services, context="test-jobs")
    try:
        jobs.scheduler.start(paused=True)  # jobs get their times, none runs
        jobs.rebuild_resyncs()
        due = {d: jobs.scheduler.get_job(resync_job_id(d)).next_run_time for d in (recent, overdue, hourly)}
        now = utcnow()
        assert timedelta(minutes=149) < due[recent] - now <= timedelta(minutes=150)  # 180 min after the last sync
        assert due[overdue] - now <= timedelta(seconds=1)  # missed while the bot was down: runs now
        assert timedelta(minutes=49) < due[hourly] - now <= timedelta(minutes=50)
        jobs.rebuild_resyncs()  # the minutely rebuild leaves correct jobs alone
        assert {d: jobs.scheduler.get_job(resync_job_id(d)).next_run_time for d in due} == due
        with services.sessions.begin() as session:
            changed = session.get(Datastore, hourly)
            assert changed is not None
            changed.sync_interval_minutes = 30
        jobs.rebuild_resyncs()
        assert jobs.scheduler.get_job(resync_job_id(hourly)).trigger.interval == timedelta(minutes=30)
        remove_datastore_jobs(recent)  # a deletion in this process stops its resync at once
        assert jobs.scheduler.get_job(resync_job_id(recent)) is None
    finally:
        jobs.stop()


def test_start_schedules_the_minutely_rebuild(services: Services) -> None:
    _datastore(services, "one", finished_ago=None)
    jobs = Jobs(services, context="test-jobs-start")
    try:
        jobs.start(lambda: None)
        rebuild = jobs.scheduler.get_job(REBUILD_JOB_ID)
        assert rebuild is not None and rebuild.trigger.interval == timedelta(seconds=60)
        assert len([job for job in jobs.scheduler.get_jobs() if job.id.startswith("resync-")]) == 1
    finally:
        jobs.stop()


def test_no_job_ends_in_an_unhandled_exception(services: Services, caplog: pytest.LogCaptureFixture) -> None:
    """A failing tick, a resync of an unknown context and a rebuild on a broken database are logged with an
    error id; the progress job still beats the scheduler's heartbeat."""
    import logging

    from bot.jobs import progress_tick, rebuild_resyncs, scheduled_resync
    from bot.liveness import LivenessCheck

    jobs = Jobs(services, context="test-jobs-boundary")

    def failing_tick() -> None:
        raise RuntimeError("the tick broke")

    try:
        jobs.scheduler.start(paused=True)
        from bot import jobs as jobs_module

        jobs_module._TICKS["test-jobs-boundary"] = failing_tick
        with caplog.at_level(logging.ERROR, logger="bot.jobs"):
            progress_tick("test-jobs-boundary")
            scheduled_resync("no-such-context", 1)  # no scheduler there: nothing runs, nothing is logged
            services_of = jobs_module._SERVICES.pop("test-jobs-boundary")
            scheduled_resync("test-jobs-boundary", 1)  # its services gone: a KeyError inside the job
            jobs_module._SERVICES["test-jobs-boundary"] = services_of
            services.engine.dispose()
            rebuild_resyncs("test-jobs-boundary")
        messages = [r.getMessage() for r in caplog.records]
        assert any(m.startswith("scheduler job progress-tick failed, error id") for m in messages)
        assert any(m.startswith("scheduler job resync-1 failed, error id") for m in messages)
        assert all(r.exc_info for r in caplog.records)
        assert LivenessCheck(services, [jobs.heartbeat]).stale() == []  # it beat before its tick failed
    finally:
        jobs.stop()


def test_the_permission_passes_job_runs_the_due_passes_and_survives_their_failures(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    from bot import jobs as jobs_module
    from bot.jobs import PASSES_JOB_ID, PASSES_SECONDS, permission_passes_tick

    class Runner:
        def __init__(self) -> None:
            self.calls, self.stopped = 0, False

        def stop(self) -> None:
            self.stopped = True

        def run_due(self) -> list[object]:
            self.calls += 1
            if self.calls == 2:
                raise RuntimeError("the pass broke")
            return []

    runner = Runner()
    jobs = Jobs(services, context="test-jobs-passes")
    try:
        jobs.start(lambda: None, passes=runner)  # type: ignore[arg-type]
        job = jobs.scheduler.get_job(PASSES_JOB_ID)
        assert job is not None and job.trigger.interval == timedelta(seconds=PASSES_SECONDS)
        with caplog.at_level(logging.ERROR, logger="bot.jobs"):
            permission_passes_tick("test-jobs-passes")
            permission_passes_tick("test-jobs-passes")
            permission_passes_tick("no-such-context")
        assert runner.calls == 2
        assert all(
            r.getMessage().startswith("scheduler job permission-passes failed, error id") for r in caplog.records
        )
        assert len(caplog.records) == 1 and caplog.records[0].exc_info
    finally:
        jobs.stop()
    assert "test-jobs-passes" not in jobs_module._PASSES and runner.stopped


def _ticking(services: Services, context: str, ticks: list[str]) -> Jobs:
    jobs = Jobs(services, context=context, tick_seconds=0.1)
    jobs.start(lambda: ticks.append(context))
    return jobs


def test_of_two_schedulers_on_one_database_only_one_runs_the_jobs_and_the_other_takes_over(
    services: Services,
) -> None:
    """Two `serve` processes: their progress ticks (and every other job but the rebuild) run in one of them; when
    it stops, the other runs them from its next tick."""
    from tests.harness import wait_until

    ticks: list[str] = []
    first = _ticking(services, "test-jobs-first", ticks)
    second = _ticking(services, "test-jobs-second", ticks)
    try:
        wait_until(lambda: len(ticks) >= 10, timeout=20)
        assert set(ticks) == {"test-jobs-first"} and first.leads() and not second.leads()
        first.stop()
        count = len(ticks)
        wait_until(lambda: len(ticks) >= count + 5, timeout=20)
        assert set(ticks[count:]) == {"test-jobs-second"} and second.leads()
    finally:
        first.stop()
        second.stop()


def test_a_scheduler_that_died_loses_the_jobs_once_its_hold_runs_out(services: Services) -> None:
    from storage.job_locks import hold_job

    now = utcnow()
    with services.sessions.begin() as session:  # a scheduler that died holding the jobs, for 4 s more
        assert hold_job(session, job_id="scheduler", owner="dead", now=now, ttl=timedelta(seconds=4))
    ticks: list[str] = []
    jobs = Jobs(services, context="test-jobs-heir", tick_seconds=0.1)
    try:
        assert not jobs.renew() and not jobs.leads()
        jobs.start(lambda: ticks.append("heir"))
        from tests.harness import wait_until

        wait_until(lambda: bool(ticks), timeout=20)
        assert jobs.leads() and utcnow() - now >= timedelta(seconds=4)
    finally:
        jobs.stop()
