"""A run's progress as plain values (rate, ETA, counts), the only input of the progress views."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.access_modes import AccessMode
from storage.documents import Document, DocumentFailure
from storage.models import Connection, Datastore, SyncRun
from storage.run_checkpoints import SyncRunSpace
from storage.states import LISTING_PHASES, PauseKind, RunOutcome, RunPhase, RunState, RunTrigger

__all__ = ["ACL_HOLD", "FAILURES_LISTED", "ProgressSnapshot", "snapshot_of"]

#: How many failed pages the creator's DM names (the rest are counted).
FAILURES_LISTED = 10
#: How long a per-person datastore's finished run waits for the permission pass to read its new pages' ACLs
#: before it is announced anyway (those pages stay hidden in per-person search until the pass reads them).
ACL_HOLD = timedelta(minutes=2)
#: The most of its bar a run shows while its total is an estimate: only the listing's end makes it 100%.
ESTIMATED_CAP = 0.99


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
    trigger: RunTrigger
    state: RunState
    phase: RunPhase
    outcome: RunOutcome | None
    reason: str | None
    pause_kind: PauseKind | None
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
    #: Per-person datastores, once the run finished: its documents whose permissions no pass has read yet
    #: (hidden from everyone in per-person search until then), of ``documents``.
    acl_waiting: int = 0
    #: False for a resync that asks only for what changed (its listing finds changed pages, not all of them).
    lists_everything: bool = True
    #: True while a one-pass listing indexes as it lists: ``to_process`` is Confluence's estimate (0: none).
    total_estimated: bool = False

    @property
    def waiting_for_permissions(self) -> bool:
        """A finished run held back from its announcement while its new pages' permissions are read (at most
        ACL_HOLD): a ✅ must not promise pages nobody can find yet."""
        if self.state != RunState.FINISHED or self.acl_waiting <= 0 or self.finished_at is None:
            return False
        return self.now - self.finished_at < ACL_HOLD

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
            return 1.0 if self.phase not in LISTING_PHASES and not self.total_estimated else 0.0
        done = (self.processed + self.failed) / self.to_process
        return min(ESTIMATED_CAP if self.total_estimated else 1.0, done)  # an estimate can be short: never 100%

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
    if run.phase in LISTING_PHASES or run.total_estimated:
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
    acl_waiting = 0
    if run.state == RunState.FINISHED and datastore.access_mode == AccessMode.EACH and run.announced_ts is None:
        acl_waiting = int(
            session.scalar(
                select(func.count())
                .select_from(Document)
                .where(Document.datastore_id == datastore.id, Document.acl_checked_at.is_(None))
            )
            or 0
        )
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
        acl_waiting=acl_waiting,
        lists_everything=run.lists_everything,
        total_estimated=run.total_estimated,
    )
