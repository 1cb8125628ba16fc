"""A run's progress as plain values (rate, ETA, counts), the only input of the progress views."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.documents import DocumentFailure
from storage.models import Connection, Datastore, SyncRun, SyncRunSpace

__all__ = ["FAILURES_LISTED", "ProgressSnapshot", "snapshot_of"]

#: How many failed pages the creator's DM names (the rest are counted).
FAILURES_LISTED = 10


@dataclass(frozen=True)
class ProgressSnapshot:
    datastore_id: int
    name: str
    site: str
    team_id: str
    creator_id: str
    channel_id: str | None
    parent_ts: str | None
    progress_ts: str | None
    documents: int
    run_id: int
    trigger: str
    state: str
    phase: str
    outcome: str | None
    reason: str | None
    pause_kind: str | None
    paused_until: datetime | None
    spaces_total: int
    spaces_done: int
    found: int
    to_process: int
    processed: int
    unchanged: int
    failed: int
    deleted: int
    started_at: datetime | None
    processing_started_at: datetime | None
    finished_at: datetime | None
    now: datetime
    #: (title, reason) of up to FAILURES_LISTED failed pages: for the creator's DM only, never a channel.
    failures: tuple[tuple[str, str], ...] = ()

    @property
    def rate(self) -> float:
        """Pages processed per second since processing began."""
        if self.processing_started_at is None:
            return 0.0
        end = self.finished_at or self.now
        seconds = (end - self.processing_started_at).total_seconds()
        return self.processed / seconds if seconds > 0 else 0.0

    @property
    def fraction(self) -> float:
        if self.to_process <= 0:
            return 1.0 if self.phase not in ("initializing", "syncing_metadata") else 0.0
        return min(1.0, (self.processed + self.failed) / self.to_process)

    @property
    def eta_seconds(self) -> float | None:
        left = self.to_process - self.processed - self.failed
        return left / self.rate if self.rate > 0 and left > 0 else None

    @property
    def duration_seconds(self) -> float:
        if self.started_at is None:
            return 0.0
        return ((self.finished_at or self.now) - self.started_at).total_seconds()


def snapshot_of(session: Session, datastore: Datastore, run: SyncRun, now: datetime) -> ProgressSnapshot:
    connection = session.get(Connection, datastore.connection_id) if datastore.connection_id else None
    spaces_done = run.spaces_done
    if run.phase in ("initializing", "syncing_metadata"):
        pending = set(
            session.scalars(
                select(SyncRunSpace.space_id).where(SyncRunSpace.run_id == run.id, SyncRunSpace.done.is_(False))
            )
        )
        listed = set(session.scalars(select(SyncRunSpace.space_id).where(SyncRunSpace.run_id == run.id)))
        spaces_done = len(listed - pending)
    failures: tuple[tuple[str, str], ...] = ()
    if run.failed:
        rows = session.scalars(
            select(DocumentFailure)
            .where(DocumentFailure.datastore_id == datastore.id)
            .order_by(DocumentFailure.id)
            .limit(FAILURES_LISTED)
        ).all()
        failures = tuple((row.title or row.source_id, row.reason) for row in rows)
    return ProgressSnapshot(
        datastore_id=datastore.id,
        name=datastore.name,
        site=connection.site_host if connection else "",
        team_id=datastore.team_id,
        creator_id=datastore.created_by,
        channel_id=datastore.channel_id,
        parent_ts=datastore.parent_ts,
        progress_ts=datastore.progress_ts,
        documents=datastore.document_count,
        run_id=run.id,
        trigger=run.trigger,
        state=run.state,
        phase=run.phase,
        outcome=run.outcome,
        reason=run.reason,
        pause_kind=run.pause_kind,
        paused_until=run.paused_until,
        spaces_total=run.spaces_total,
        spaces_done=spaces_done,
        found=run.found,
        to_process=run.to_process,
        processed=run.processed,
        unchanged=run.unchanged,
        failed=run.failed,
        deleted=run.deleted,
        started_at=run.started_at,
        processing_started_at=run.processing_started_at,
        finished_at=run.finished_at,
        now=now,
        failures=failures,
    )
