"""APScheduler 3.x jobs: module-level functions with fixed ids and serializable arguments.

The progress tick (every second), one incremental resync per datastore on its interval, the hourly read of
linked people's groups, the one-time access offers, and the permission passes tick (every PASSES_SECONDS:
runs the due permission passes, bot/access/passes.py). Jobs are rebuilt
from the database when ``serve`` starts, so nothing is lost on restart; deleting a datastore removes its job.
The callables a job runs are registered by name at start-up (the Slack-speaking progress updater lives in
handlers/), so the scheduler only ever stores names and ids.

No job ends in an unhandled exception: each runs inside ``_job_boundary``, which logs the unexpected with an
error id and its traceback, and the job runs again at its next time. The progress job beats the scheduler's
heartbeat (bot/liveness.py) on every tick.

Every `serve` runs a scheduler with these same jobs, and APScheduler 3 has no lock across processes: the jobs run
only in the scheduler that holds the ``scheduler`` row of storage/job_locks.py. Its own small job renews it every
HOLD_SECONDS for LEAD_SECONDS (and a job that finds the hold run out asks again before it gives up its turn); a
scheduler that stops gives it up at once, one that dies loses it once LEAD_SECONDS have passed, and the next
renewal of another process takes it. Only the rebuild of each process's own resync jobs runs everywhere. Expiry
is compared on each process's own clock, with a 2 s margin: machines whose clocks differ by more could overlap.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from bot.access.link_groups import LinkGroups, principals_max_age
from bot.access.passes import PermissionPasses
from bot.atlassian.oauth import AtlassianOAuth
from bot.atlassian.tokens import TokenManager
from bot.incidents import new_error_id
from bot.liveness import Heartbeat, Loop
from bot.services import Services
from storage.job_locks import hold_job, release_jobs
from storage.models import SYNCING_STATUSES, Datastore, SyncRun, utcnow
from storage.states import RunKind, RunTrigger
from storage.sync_runs import queue_run

__all__ = [
    "ACCESS_OFFERS_JOB_ID",
    "HOLD_JOB_ID",
    "LINK_GROUPS_JOB_ID",
    "PASSES_JOB_ID",
    "PROGRESS_JOB_ID",
    "REBUILD_JOB_ID",
    "Jobs",
    "access_offers_tick",
    "hold_tick",
    "link_groups_pass",
    "permission_passes_tick",
    "progress_tick",
    "rebuild_resyncs",
    "remove_datastore_jobs",
    "reschedule_resyncs",
    "resync_job_id",
    "scheduled_resync",
]

logger = logging.getLogger(__name__)

PROGRESS_JOB_ID = "progress-tick"
REBUILD_JOB_ID = "rebuild-resyncs"
REBUILD_SECONDS = 60
#: Person links' groups (bot/access/link_groups.py): each link is read at most hourly, passes look every 5 min.
LINK_GROUPS_JOB_ID = "link-groups"
LINK_GROUPS_SECONDS = 300
ACCESS_OFFERS_JOB_ID = "access-offers"
ACCESS_OFFERS_SECONDS = 60
PASSES_JOB_ID = "permission-passes"
PASSES_SECONDS = 10  # a tick with nothing due is one query; a finished sync's pages wait at most this long
#: The lock all jobs but the rebuild run under (storage/job_locks.py), and how long one renewal holds it.
SCHEDULER_LOCK = "scheduler"
LEAD_SECONDS = 10
HOLD_JOB_ID = "scheduler-hold"
HOLD_SECONDS = 2
_TICKS: dict[str, Callable[[], None]] = {}
_OFFERS: dict[str, Callable[[], None]] = {}
_SERVICES: dict[str, Services] = {}
_JOBS: dict[str, Jobs] = {}
_PASSES: dict[str, PermissionPasses] = {}


def resync_job_id(datastore_id: int) -> str:
    return f"resync-{datastore_id}"


def _job_boundary(job: str, work: Callable[[], None]) -> None:
    try:
        work()
    except Exception as exc:
        logger.error("scheduler job %s failed, error id %s", job, new_error_id(), exc_info=exc)


def _leading(context: str) -> bool:
    """This process's scheduler under ``context`` holds the jobs now (a job of any other one does nothing); when
    its last renewal has run out, it asks again first (a slow tick never makes a due job miss its time)."""
    jobs = _JOBS.get(context)
    return jobs is not None and (jobs.leads() or jobs.renew())


def hold_tick(context: str) -> None:
    """Job: renew this scheduler's hold on the jobs (database only: no network call can delay it)."""
    jobs = _JOBS.get(context)
    if jobs is not None:
        jobs.renew()


def progress_tick(context: str) -> None:
    """Job: one pass of the progress updater registered under ``context``; the scheduler's heartbeat."""
    jobs = _JOBS.get(context)
    if jobs is None:
        return
    jobs.heartbeat.beat("tick")
    if _leading(context):
        _job_boundary(PROGRESS_JOB_ID, lambda: _TICKS[context]())


def access_offers_tick(context: str) -> None:
    """Job: send the pending one-time DMs offering per-person access (the sender registered under ``context``)."""
    offers = _OFFERS.get(context)
    if offers is not None and _leading(context):
        _job_boundary(ACCESS_OFFERS_JOB_ID, offers)


def permission_passes_tick(context: str) -> None:
    """Job: run the due permission passes of the runner registered under ``context`` (one at a time: the job
    never overlaps itself)."""
    if _leading(context):
        _job_boundary(PASSES_JOB_ID, lambda: _run_passes(context))


def _run_passes(context: str) -> None:
    runner = _PASSES.get(context)
    if runner is None:
        return
    for report in runner.run_due():
        logger.info(
            "permission pass of datastore %s: %s, %d documents, %d points, %d requests, next due %s",
            report.datastore_id,
            report.outcome,
            report.documents,
            report.points,
            report.requests,
            report.next_due_at,
        )


def scheduled_resync(context: str, datastore_id: int) -> None:
    """Job: queue an incremental resync of ``datastore_id`` (nothing if one is already queued or running)."""
    if _leading(context):
        _job_boundary(resync_job_id(datastore_id), lambda: _queue_resync(context, datastore_id))


def _queue_resync(context: str, datastore_id: int) -> None:
    services = _SERVICES[context]
    with services.sessions.begin() as session:
        datastore = session.get(Datastore, datastore_id)
        if datastore is None or datastore.status in SYNCING_STATUSES:
            return
        run = queue_run(session, datastore_id=datastore_id, kind=RunKind.INCREMENTAL, trigger=RunTrigger.SCHEDULE)
    if run is not None:
        logger.info("queued the scheduled resync of datastore %s", datastore_id)


def rebuild_resyncs(context: str) -> None:
    """Job: add resync jobs for new datastores and drop those of deleted ones."""
    _job_boundary(REBUILD_JOB_ID, lambda: _JOBS[context].rebuild_resyncs())


def link_groups_pass(context: str) -> None:
    """Job: read the groups of linked people whose principals are an hour old (bot/access/link_groups.py)."""

    def work() -> None:
        done = _JOBS[context].link_groups().run()
        if done.refreshed or done.removed:
            logger.info("person groups: %d read, %d link(s) removed", done.refreshed, done.removed)

    if _leading(context):
        _job_boundary(LINK_GROUPS_JOB_ID, work)


def reschedule_resyncs() -> None:
    """Apply changed intervals in this process now (other processes do at their next minutely rebuild)."""
    for jobs in list(_JOBS.values()):
        jobs.rebuild_resyncs()


def remove_datastore_jobs(datastore_id: int) -> None:
    """Stop a deleted datastore's jobs in this process now (other processes drop them at their next rebuild,
    and a resync of a datastore that no longer exists does nothing)."""
    for jobs in list(_JOBS.values()):
        jobs.remove_datastore(datastore_id)


class Jobs:
    def __init__(self, services: Services, *, context: str = "default", tick_seconds: float = 1.0) -> None:
        self.services, self.context, self.tick_seconds = services, context, tick_seconds
        self.scheduler = BackgroundScheduler(timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1})
        owner = f"{socket.gethostname()[:32]}:{os.getpid()}:{context}:{uuid.uuid4().hex[:8]}"
        self.heartbeat = Heartbeat(services, Loop.SCHEDULER, owner)
        self._link_groups: LinkGroups | None = None
        self._leads_until: datetime | None = None
        _SERVICES[context] = services
        _JOBS[context] = self

    def start(
        self,
        tick: Callable[[], None],
        *,
        offers: Callable[[], None] | None = None,
        passes: PermissionPasses | None = None,
    ) -> None:
        _TICKS[self.context] = tick
        if passes is not None:
            _PASSES[self.context] = passes
            self.scheduler.add_job(
                permission_passes_tick,
                "interval",
                seconds=PASSES_SECONDS,
                args=[self.context],
                id=PASSES_JOB_ID,
                replace_existing=True,
            )
        if offers is not None:
            _OFFERS[self.context] = offers
            self.scheduler.add_job(
                access_offers_tick,
                "interval",
                seconds=ACCESS_OFFERS_SECONDS,
                args=[self.context],
                id=ACCESS_OFFERS_JOB_ID,
                replace_existing=True,
                next_run_time=utcnow() + timedelta(seconds=5),
            )
        self.heartbeat.beat("starting", force=True)
        self.scheduler.add_job(
            progress_tick,
            "interval",
            seconds=self.tick_seconds,
            args=[self.context],
            id=PROGRESS_JOB_ID,
            replace_existing=True,
        )
        self.scheduler.add_job(
            rebuild_resyncs,
            "interval",
            seconds=REBUILD_SECONDS,
            args=[self.context],
            id=REBUILD_JOB_ID,
            replace_existing=True,
        )
        self.scheduler.add_job(
            link_groups_pass,
            "interval",
            seconds=LINK_GROUPS_SECONDS,
            args=[self.context],
            id=LINK_GROUPS_JOB_ID,
            replace_existing=True,
        )
        self.scheduler.add_job(
            hold_tick, "interval", seconds=HOLD_SECONDS, args=[self.context], id=HOLD_JOB_ID, replace_existing=True
        )
        self.rebuild_resyncs()
        self.renew()
        self.scheduler.start()

    def renew(self) -> bool:
        """Take or renew this scheduler's hold on the jobs for LEAD_SECONDS; True while it holds them (a database
        that cannot be asked: False, and the jobs wait)."""
        now, lead = utcnow(), timedelta(seconds=LEAD_SECONDS)
        try:
            with self.services.sessions.begin() as session:
                held = hold_job(session, job_id=SCHEDULER_LOCK, owner=self.heartbeat.owner, now=now, ttl=lead)
        except SQLAlchemyError as exc:
            logger.warning("the scheduler could not renew its hold on the jobs: %s", exc)
            held = False
        if held != (self._leads_until is not None):
            logger.info("this process %s the scheduled jobs", "runs" if held else "no longer runs")
        # A little short of the row's expiry: never two processes running jobs at once for clocks a second apart.
        self._leads_until = now + lead - timedelta(seconds=2) if held else None
        return held

    def leads(self) -> bool:
        return self._leads_until is not None and utcnow() < self._leads_until

    def link_groups(self) -> LinkGroups:
        """The person-groups reader, drawing from this process's permission lane of the points budget."""
        if self._link_groups is None:
            settings = self.services.settings
            lane = self.services.permission_lane
            tokens = TokenManager(self.services, AtlassianOAuth(settings))
            max_age = principals_max_age(
                timedelta(minutes=settings.access_freshness_minutes), timedelta(seconds=LINK_GROUPS_SECONDS)
            )
            self._link_groups = LinkGroups(self.services, tokens, lane, max_age=max_age)
        return self._link_groups

    def rebuild_resyncs(self) -> None:
        """One resync job per datastore, from the database: a new datastore (or one whose interval changed)
        gets a job due one interval after its last finished run; jobs of deleted datastores go. Jobs that
        are already right are left alone, so rebuilding every minute never postpones a resync."""
        with self.services.sessions() as session:
            rows = session.execute(
                select(Datastore.id, Datastore.sync_interval_minutes, func.max(SyncRun.finished_at))
                .outerjoin(SyncRun, SyncRun.datastore_id == Datastore.id)
                .group_by(Datastore.id, Datastore.sync_interval_minutes)
            ).all()
        wanted = {resync_job_id(row[0]): row for row in rows}
        for job in self.scheduler.get_jobs():
            if job.id.startswith("resync-") and job.id not in wanted:
                job.remove()
        now = utcnow()
        for job_id, (datastore_id, minutes, last_finished) in wanted.items():
            interval = timedelta(minutes=minutes or self.services.settings.sync_interval_minutes)
            existing = self.scheduler.get_job(job_id)
            if existing is not None and getattr(existing.trigger, "interval", None) == interval:
                continue
            due = (last_finished or now) + interval
            self.scheduler.add_job(
                scheduled_resync,
                "interval",
                seconds=interval.total_seconds(),
                args=[self.context, datastore_id],
                id=job_id,
                replace_existing=True,
                next_run_time=max(due, now + timedelta(seconds=1)),
            )

    def remove_datastore(self, datastore_id: int) -> None:
        job = self.scheduler.get_job(resync_job_id(datastore_id))
        if job is not None:
            job.remove()

    def stop(self) -> None:
        runner = _PASSES.pop(self.context, None)
        if runner is not None:
            runner.stop()  # a running pass ends at its next request or wait, so shutting down never waits long
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        try:  # also after a failed renewal: the row may still be this scheduler's
            with self.services.sessions.begin() as session:
                release_jobs(session, owner=self.heartbeat.owner)  # another process takes them at its next tick
        except SQLAlchemyError as exc:
            logger.warning("the scheduler could not give up its jobs (another takes them shortly): %s", exc)
        self._leads_until = None
        _TICKS.pop(self.context, None)
        _OFFERS.pop(self.context, None)
        _SERVICES.pop(self.context, None)
        _JOBS.pop(self.context, None)
