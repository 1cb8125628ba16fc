"""Sync runs, their space checkpoints and work items (never commits).

Claiming uses compare-and-swap on the lease columns, which is correct on SQLite and PostgreSQL alike: two
workers racing for one run both issue the same conditional UPDATE, and only one sees a row changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.orm import Session

from storage.db import upsert_into
from storage.models import SyncRun
from storage.run_checkpoints import SyncItem, SyncRunSeen, SyncRunSpace
from storage.states import UNFINISHED_STATES, ItemState, RunKind, RunState, RunTrigger

__all__ = [
    "ItemRow",
    "add_items",
    "add_seen",
    "claim_run",
    "count_items",
    "count_unfinished_runs",
    "forget_work",
    "latest_run",
    "listed_source_ids",
    "pending_among",
    "pending_items",
    "queue_run",
    "record_unexpected_failure",
    "release_for_retry",
    "release_lease",
    "renew_lease",
    "run_spaces",
    "runnable_run_ids",
    "set_item_states",
    "unfinished_run",
]

UNFINISHED = UNFINISHED_STATES


@dataclass(frozen=True)
class ItemRow:
    source_id: str
    kind: str
    space_id: str
    title: str
    version: int
    last_modified: datetime | None
    webui: str | None
    state: ItemState = ItemState.PENDING


def unfinished_run(session: Session, *, datastore_id: int) -> SyncRun | None:
    statement = select(SyncRun).where(SyncRun.datastore_id == datastore_id, SyncRun.state.in_(UNFINISHED))
    return session.scalars(statement.order_by(SyncRun.id)).first()


def latest_run(session: Session, *, datastore_id: int) -> SyncRun | None:
    statement = select(SyncRun).where(SyncRun.datastore_id == datastore_id).order_by(SyncRun.id.desc())
    return session.scalars(statement).first()


def queue_run(session: Session, *, datastore_id: int, kind: RunKind, trigger: RunTrigger) -> SyncRun | None:
    """A new queued run, or None when one is already queued, running or paused for this datastore."""
    if unfinished_run(session, datastore_id=datastore_id) is not None:
        return None
    run = SyncRun(datastore_id=datastore_id, kind=kind, trigger=trigger)
    session.add(run)
    session.flush()
    return run


def _claimable(now: datetime) -> Any:
    lease_free = or_(SyncRun.lease_expires_at.is_(None), SyncRun.lease_expires_at < now)
    paused_over = and_(SyncRun.state == RunState.PAUSED, SyncRun.paused_until.is_not(None), SyncRun.paused_until <= now)
    return and_(lease_free, or_(SyncRun.state.in_((RunState.QUEUED, RunState.RUNNING)), paused_over))


def runnable_run_ids(session: Session, *, now: datetime, limit: int = 10) -> list[int]:
    """Runs a worker may take: queued, running with an expired lease, or paused until a time now past."""
    statement = select(SyncRun.id).where(_claimable(now)).order_by(SyncRun.id).limit(limit)
    return list(session.scalars(statement))


def claim_run(session: Session, *, run_id: int, owner: str, now: datetime, lease: timedelta) -> bool:
    """Take the lease of ``run_id`` if nobody holds it; exactly one of several racing workers wins."""
    result = session.execute(
        update(SyncRun)
        .where(SyncRun.id == run_id, _claimable(now))
        .values(lease_owner=owner, lease_expires_at=now + lease, heartbeat_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


def renew_lease(session: Session, *, run_id: int, owner: str, now: datetime, lease: timedelta) -> bool:
    """Extend the lease; False when another worker took the run over (this one must stop)."""
    result = session.execute(
        update(SyncRun)
        .where(SyncRun.id == run_id, SyncRun.lease_owner == owner)
        .values(lease_expires_at=now + lease, heartbeat_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


def record_unexpected_failure(session: Session, *, run_id: int, error_id: str) -> int:
    """Count one unexpected failure of ``run_id`` (logged as ``error_id``); returns how many it has had."""
    session.execute(
        update(SyncRun)
        .where(SyncRun.id == run_id)
        .values(attempts=SyncRun.attempts + 1, error_id=error_id)
        .execution_options(synchronize_session=False)
    )
    return int(session.scalar(select(SyncRun.attempts).where(SyncRun.id == run_id)) or 0)


def release_for_retry(session: Session, *, run_id: int, owner: str, retry_at: datetime) -> bool:
    """Give the run up until ``retry_at`` (a backoff): then any worker may take it and resume it."""
    result = session.execute(
        update(SyncRun)
        .where(SyncRun.id == run_id, SyncRun.lease_owner == owner)
        .values(lease_owner=None, lease_expires_at=retry_at)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


def run_spaces(session: Session, *, run_id: int, space_ids: Sequence[str] | None = None) -> list[SyncRunSpace]:
    """The run's space checkpoints (only those of ``space_ids`` when given), by space and kind."""
    statement = select(SyncRunSpace).where(SyncRunSpace.run_id == run_id)
    if space_ids is not None:
        statement = statement.where(SyncRunSpace.space_id.in_(sorted(set(space_ids))))
    return list(session.scalars(statement.order_by(SyncRunSpace.space_id, SyncRunSpace.kind)))


def _insert_ignoring_duplicates(session: Session) -> Any:
    return upsert_into(session, SyncItem).on_conflict_do_nothing(index_elements=["run_id", "source_id"])


def add_items(session: Session, *, run_id: int, items: Sequence[ItemRow]) -> None:
    """Record enumerated items; one listed twice (content moved while listing) is kept once."""
    if not items:
        return
    rows = [
        {
            "run_id": run_id,
            "source_id": item.source_id,
            "kind": item.kind,
            "space_id": item.space_id,
            "title": item.title,
            "version": item.version,
            "last_modified": item.last_modified,
            "webui": item.webui,
            "state": item.state,
        }
        for item in items
    ]
    session.execute(_insert_ignoring_duplicates(session), rows)


def add_seen(session: Session, *, run_id: int, source_ids: Sequence[str]) -> None:
    """Record listed items that are already indexed at their version (ids only)."""
    if source_ids:
        session.add(SyncRunSeen(run_id=run_id, source_ids="\n".join(source_ids)))


def pending_items(session: Session, *, run_id: int, limit: int) -> list[SyncItem]:
    statement = (
        select(SyncItem)
        .where(SyncItem.run_id == run_id, SyncItem.state == ItemState.PENDING)
        .order_by(SyncItem.kind, SyncItem.source_id)
        .limit(limit)
    )
    return list(session.scalars(statement))


def pending_among(session: Session, *, run_id: int, source_ids: Sequence[str]) -> set[str]:
    """Which of these items the run still has to process (an item listed twice is processed once)."""
    if not source_ids:
        return set()
    statement = select(SyncItem.source_id).where(
        SyncItem.run_id == run_id, SyncItem.state == ItemState.PENDING, SyncItem.source_id.in_(list(source_ids))
    )
    return set(session.scalars(statement))


def set_item_states(session: Session, *, run_id: int, states: dict[str, ItemState]) -> None:
    by_state: dict[ItemState, list[str]] = {}
    for source_id, state in states.items():
        by_state.setdefault(state, []).append(source_id)
    for state, source_ids in by_state.items():
        session.execute(
            update(SyncItem)
            .where(SyncItem.run_id == run_id, SyncItem.source_id.in_(source_ids))
            .values(state=state)
            .execution_options(synchronize_session=False)
        )


def count_items(session: Session, *, run_id: int) -> dict[str, int]:
    statement = select(SyncItem.state, func.count()).where(SyncItem.run_id == run_id).group_by(SyncItem.state)
    return {str(state): int(count) for state, count in session.execute(statement)}


def listed_source_ids(session: Session, *, run_id: int) -> set[str]:
    """What the run found in Confluence (items that vanished while it ran excepted)."""
    statement = select(SyncItem.source_id).where(SyncItem.run_id == run_id, SyncItem.state != ItemState.GONE)
    listed = set(session.scalars(statement))
    for ids in session.scalars(select(SyncRunSeen.source_ids).where(SyncRunSeen.run_id == run_id)):
        listed.update(ids.split("\n"))
    return listed


def forget_work(session: Session, *, run_id: int) -> None:
    """Drop a finished run's work list and checkpoints (its counters stay on the run)."""
    session.execute(delete(SyncItem).where(SyncItem.run_id == run_id))
    session.execute(delete(SyncRunSeen).where(SyncRunSeen.run_id == run_id))
    session.execute(delete(SyncRunSpace).where(SyncRunSpace.run_id == run_id))


def count_unfinished_runs(session: Session) -> dict[str, int]:
    """How many runs are queued, running and paused (every state listed, 0 when none): for /metrics."""
    statement = select(SyncRun.state, func.count()).where(SyncRun.state.in_(UNFINISHED)).group_by(SyncRun.state)
    counts = {str(state): 0 for state in UNFINISHED}
    counts.update({str(state): int(count) for state, count in session.execute(statement)})
    return counts


def release_lease(session: Session, *, run_id: int, owner: str) -> bool:
    """Hand the run back now (its worker was stopped, as by Ctrl-C): any worker may take it and resume it from
    its checkpoints at once, instead of after the lease runs out. False when ``owner`` no longer holds it."""
    result = session.execute(
        update(SyncRun)
        .where(SyncRun.id == run_id, SyncRun.lease_owner == owner)
        .values(lease_owner=None, lease_expires_at=None)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)
