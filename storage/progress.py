"""Which datastore threads need a Slack update, and who may write them (never commits)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.orm import Session, aliased

from storage.datastores import OPERATOR
from storage.models import Datastore, DeletionNotice, SyncRun
from storage.states import RunState

__all__ = [
    "announce_steps_done",
    "claim_notice",
    "claim_thread",
    "finish_announcement",
    "forget_progress_shown",
    "mark_announce_step",
    "pending_notices",
    "progress_shown",
    "record_progress_shown",
    "reset_announce_steps",
    "runs_needing_slack",
    "set_progress_ts",
    "set_thread",
]


def runs_needing_slack(
    session: Session, *, now: datetime, unannounced_after: timedelta, limit: int = 200
) -> list[tuple[Datastore, SyncRun]]:
    """Each datastore whose latest run is going, or finished but not announced yet, and that has a thread —
    or, when created by the wizard more than ``unannounced_after`` ago, none yet (its announcement failed: the
    progress job opens the thread). At most ``limit``, paused runs last: a pause may last for ever (credits,
    reconnect) and its thread rarely changes, so it never crowds out a run that is going or waits for its ✅."""
    has_thread = Datastore.progress_ts.is_not(None)
    never_announced = or_(
        and_(Datastore.wizard_id.is_not(None), Datastore.created_at < now - unannounced_after),
        # `datastore-bot create --channel`: nobody else posts its announcement, so the job does at once.
        and_(Datastore.created_by == OPERATOR, Datastore.channel_id.is_not(None)),
    )
    runs = aliased(SyncRun)
    latest = select(func.max(runs.id)).where(runs.datastore_id == Datastore.id).correlate(Datastore).scalar_subquery()
    statement = (
        select(Datastore, SyncRun)
        .join(SyncRun, SyncRun.datastore_id == Datastore.id)
        .where(
            SyncRun.id == latest,
            or_(has_thread, never_announced),
            or_(SyncRun.state != RunState.FINISHED, SyncRun.announced_ts.is_(None)),
        )
        .order_by(case((SyncRun.state == RunState.PAUSED, 1), else_=0), SyncRun.id)
        .limit(limit)
    )
    return [(datastore, run) for datastore, run in session.execute(statement)]


def claim_thread(session: Session, *, datastore_id: int, owner: str, now: datetime, lease: timedelta) -> bool:
    """One process at a time updates a datastore's thread (several `serve` processes on PostgreSQL)."""
    result = session.execute(
        update(Datastore)
        .where(
            Datastore.id == datastore_id,
            or_(
                Datastore.progress_owner.is_(None),
                Datastore.progress_owner == owner,
                Datastore.progress_lease_until.is_(None),
                Datastore.progress_lease_until < now,
            ),
        )
        .values(progress_owner=owner, progress_lease_until=now + lease)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


def set_thread(
    session: Session, *, datastore_id: int, channel_id: str, parent_ts: str, progress_ts: str | None
) -> None:
    """A datastore's thread moved (a new parent card, a DM): its permalink is looked up again."""
    session.execute(
        update(Datastore)
        .where(Datastore.id == datastore_id)
        .values(channel_id=channel_id, parent_ts=parent_ts, progress_ts=progress_ts, thread_url=None)
        .execution_options(synchronize_session=False)
    )


def set_progress_ts(session: Session, *, datastore_id: int, progress_ts: str) -> None:
    session.execute(
        update(Datastore)
        .where(Datastore.id == datastore_id)
        .values(progress_ts=progress_ts)
        .execution_options(synchronize_session=False)
    )


def progress_shown(session: Session, *, run_id: int) -> tuple[str | None, datetime | None]:
    """What the progress reply shows now (a digest) and when it was last updated."""
    row = session.execute(
        select(SyncRun.progress_digest, SyncRun.progress_updated_at).where(SyncRun.id == run_id)
    ).one_or_none()
    return (row[0], row[1]) if row is not None else (None, None)


def record_progress_shown(session: Session, *, run_id: int, digest: str, at: datetime) -> None:
    session.execute(
        update(SyncRun)
        .where(SyncRun.id == run_id)
        .values(progress_digest=digest, progress_updated_at=at)
        .execution_options(synchronize_session=False)
    )


def forget_progress_shown(session: Session, *, run_id: int) -> None:
    """The progress reply is new (reposted, moved): the next update shows the run again, whatever it shows."""
    session.execute(
        update(SyncRun)
        .where(SyncRun.id == run_id)
        .values(progress_digest=None, progress_updated_at=None)
        .execution_options(synchronize_session=False)
    )


def announce_steps_done(session: Session, *, run_id: int) -> set[str]:
    steps = session.scalar(select(SyncRun.announce_steps).where(SyncRun.id == run_id))
    return {step for step in (steps or "").split(",") if step}


def mark_announce_step(session: Session, *, run_id: int, step: str) -> None:
    """Record one finished step of a run's announcement, so a later tick goes on from the next one."""
    reset_announce_steps(session, run_id=run_id, steps=announce_steps_done(session, run_id=run_id) | {step})


def reset_announce_steps(session: Session, *, run_id: int, steps: set[str]) -> None:
    session.execute(
        update(SyncRun)
        .where(SyncRun.id == run_id)
        .values(announce_steps=",".join(sorted(steps)) or None)
        .execution_options(synchronize_session=False)
    )


def finish_announcement(session: Session, *, run_id: int, announced_ts: str) -> None:
    """Every step is done: the run leaves the progress job's work list."""
    session.execute(
        update(SyncRun)
        .where(SyncRun.id == run_id)
        .values(announced_ts=announced_ts)
        .execution_options(synchronize_session=False)
    )


def pending_notices(session: Session, *, team_id: str | None = None, limit: int = 50) -> list[DeletionNotice]:
    """Deletion notices not delivered yet (of one workspace, or all), oldest first."""
    statement = select(DeletionNotice).where(DeletionNotice.delivered_at.is_(None))
    if team_id is not None:
        statement = statement.where(DeletionNotice.team_id == team_id)
    return list(session.scalars(statement.order_by(DeletionNotice.id).limit(limit)))


def claim_notice(session: Session, *, notice_id: int, now: datetime, stale_after: timedelta) -> bool:
    """One process delivers a notice; a claim left by a crash (or released on a 429) is taken again."""
    result = session.execute(
        update(DeletionNotice)
        .where(
            DeletionNotice.id == notice_id,
            DeletionNotice.delivered_at.is_(None),
            or_(DeletionNotice.claimed_at.is_(None), DeletionNotice.claimed_at < now - stale_after),
        )
        .values(claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)
