"""APScheduler 3.x jobs: module-level functions with fixed ids and serializable arguments.

The progress tick (every second) and one incremental resync per datastore on its interval. Jobs are rebuilt
from the database when ``serve`` starts, so nothing is lost on restart; deleting a datastore removes its job.
The callables a job runs are registered by name at start-up (the Slack-speaking progress updater lives in
handlers/), so the scheduler only ever stores names and ids.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import select

from bot.services import Services
from storage.models import Datastore, utcnow
from storage.sync_runs import queue_run

__all__ = ["PROGRESS_JOB_ID", "Jobs", "progress_tick", "rebuild_resyncs", "resync_job_id", "scheduled_resync"]

logger = logging.getLogger(__name__)

PROGRESS_JOB_ID = "progress-tick"
REBUILD_JOB_ID = "rebuild-resyncs"
_TICKS: dict[str, Callable[[], None]] = {}
_SERVICES: dict[str, Services] = {}
_JOBS: dict[str, Jobs] = {}


def resync_job_id(datastore_id: int) -> str:
    return f"resync-{datastore_id}"


def progress_tick(context: str) -> None:
    """Job: one pass of the progress updater registered under ``context``."""
    _TICKS[context]()


def scheduled_resync(context: str, datastore_id: int) -> None:
    """Job: queue an incremental resync of ``datastore_id`` (nothing if one is already queued or running)."""
    services = _SERVICES[context]
    with services.sessions.begin() as session:
        datastore = session.get(Datastore, datastore_id)
        if datastore is None or datastore.status in ("initializing", "syncing_metadata", "processing"):
            return
        run = queue_run(session, datastore_id=datastore_id, kind="incremental", trigger="schedule")
    if run is not None:
        logger.info("queued the scheduled resync of datastore %s", datastore_id)


def rebuild_resyncs(context: str) -> None:
    """Job: add resync jobs for new datastores and drop those of deleted ones."""
    _JOBS[context].rebuild_resyncs()


class Jobs:
    def __init__(self, services: Services, *, context: str = "default", tick_seconds: float = 1.0) -> None:
        self.services, self.context, self.tick_seconds = services, context, tick_seconds
        self.scheduler = BackgroundScheduler(timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1})
        _SERVICES[context] = services

    def start(self, tick: Callable[[], None]) -> None:
        _TICKS[self.context] = tick
        self.scheduler.add_job(
            progress_tick,
            "interval",
            seconds=self.tick_seconds,
            args=[self.context],
            id=PROGRESS_JOB_ID,
            replace_existing=True,
        )
        self.rebuild_resyncs()
        self.scheduler.start()

    def interval_for(self, datastore: Datastore) -> timedelta:
        minutes = datastore.sync_interval_minutes or self.services.settings.sync_interval_minutes
        return timedelta(minutes=minutes)

    def rebuild_resyncs(self) -> None:
        """One resync job per datastore, from the database; jobs of deleted datastores go."""
        with self.services.sessions() as session:
            datastores = list(session.scalars(select(Datastore)))
        wanted = {resync_job_id(d.id): d for d in datastores}
        for job in self.scheduler.get_jobs():
            if job.id.startswith("resync-") and job.id not in wanted:
                job.remove()
        for job_id, datastore in wanted.items():
            self.scheduler.add_job(
                scheduled_resync,
                "interval",
                seconds=self.interval_for(datastore).total_seconds(),
                args=[self.context, datastore.id],
                id=job_id,
                replace_existing=True,
                next_run_time=utcnow() + self.interval_for(datastore),
            )

    def remove_datastore(self, datastore_id: int) -> None:
        job = self.scheduler.get_job(resync_job_id(datastore_id))
        if job is not None:
            job.remove()

    def stop(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        _TICKS.pop(self.context, None)
        _SERVICES.pop(self.context, None)
        _JOBS.pop(self.context, None)
