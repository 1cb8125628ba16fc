"""Which datastore threads need a Slack update, and who may write them (never commits)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from storage.models import Datastore, DeletionNotice, SyncRun

__all__ = ["claim_announcement", "claim_notice", "claim_thread", "pending_notices", "runs_needing_slack"]


def runs_needing_slack(session: Session, *, limit: int = 200) -> list[tuple[Datastore, SyncRun]]:
    """Each datastore with a thread and a run that is going, or finished but not announced yet."""
    statement = (
        select(Datastore, SyncRun)
        .join(SyncRun, SyncRun.datastore_id == Datastore.id)
        .where(
            Datastore.progress_ts.is_not(None),
            or_(SyncRun.state != "finished", SyncRun.announced_ts.is_(None)),
        )
        .order_by(SyncRun.id)
        .limit(limit)
    )
    latest: dict[int, tuple[Datastore, SyncRun]] = {}
    for datastore, run in session.execute(statement):
        latest[datastore.id] = (datastore, run)
    return list(latest.values())


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


def claim_announcement(session: Session, *, run_id: int, now: datetime, stale_after: timedelta) -> bool:
    """Only one process posts a run's completion reply; a claim left by a crash is retried after a while."""
    result = session.execute(
        update(SyncRun)
        .where(
            SyncRun.id == run_id,
            SyncRun.announced_ts.is_(None),
            or_(SyncRun.announce_claimed_at.is_(None), and_(SyncRun.announce_claimed_at < now - stale_after)),
        )
        .values(announce_claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


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
