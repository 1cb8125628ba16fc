"""Permission passes (issue #12 step 3): one row per datastore saying when its next pass is due, who is running
it (a lease, claimed by compare-and-swap like sync runs, so one worker at a time runs a datastore's pass),
which spaces the unfinished pass has done, and what the last complete pass cost. Never commits.

Also the document queries a pass needs: which spaces hold the datastore's documents, which documents were
never checked (synced since the last pass: hidden in per-person mode until checked), and which documents a
complete pass did not see.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ForeignKey, String, Text, and_, exists, func, or_, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage import documents  # a module, not its names: storage.models imports this module at its end
from storage.access_modes import AccessMode
from storage.db import upsert_into
from storage.models import Base, Datastore, SyncRun
from storage.states import RunState

__all__ = [
    "NEW_DOCUMENTS_GAP",
    "PassOutcome",
    "PermissionPass",
    "claim_pass",
    "datastore_spaces",
    "due_pass_ids",
    "ensure_pass_rows",
    "finish_pass",
    "full_pass_due",
    "lane_points_of_last_passes",
    "mark_space_done",
    "renew_pass_lease",
    "settle_unchecked",
    "source_ids",
    "start_pass",
    "unchecked_source_ids",
    "unseen_source_ids",
]


class PassOutcome:
    """``permission_passes.last_outcome`` values (plain strings in the database)."""

    COMPLETE = "complete"
    INCOMPLETE = "incomplete"  # rate-limited, unavailable, a listing that could not be finished: resumes
    NEW_DOCUMENTS = "new_documents"  # only the documents a sync added were checked
    FAILED = "failed"  # the connection must be reconnected, or something unexpected


class PermissionPass(Base):
    """The permission pass state of one datastore."""

    __tablename__ = "permission_passes"

    datastore_id: Mapped[int] = mapped_column(ForeignKey("datastores.id", ondelete="CASCADE"), primary_key=True)
    next_due_at: Mapped[datetime | None]  # None: as soon as possible
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]  # when the unfinished (or last) full pass started
    spaces_done: Mapped[str | None] = mapped_column(Text)  # space ids the unfinished full pass has done
    new_documents_at: Mapped[datetime | None]  # when documents a sync added were last checked
    last_complete_at: Mapped[datetime | None]
    last_points: Mapped[int] = mapped_column(default=0)  # points of the last complete pass (all its attempts)
    last_requests: Mapped[int] = mapped_column(default=0)
    last_documents: Mapped[int] = mapped_column(default=0)
    points_so_far: Mapped[int] = mapped_column(default=0)  # of the unfinished pass
    requests_so_far: Mapped[int] = mapped_column(default=0)
    last_outcome: Mapped[str | None] = mapped_column(String(16))
    last_error: Mapped[str | None] = mapped_column(Text)


_PASSES = PermissionPass.__table__


def ensure_pass_rows(session: Session, *, now: datetime) -> None:
    """A pass row (due now) for every per-person datastore that has none."""
    missing = select(Datastore.id).where(
        Datastore.access_mode == AccessMode.EACH.value,
        Datastore.connection_id.is_not(None),
        ~exists().where(PermissionPass.datastore_id == Datastore.id),
    )
    ids = list(session.scalars(missing))
    if ids:
        insert = upsert_into(session, _PASSES).on_conflict_do_nothing(index_elements=["datastore_id"])
        session.execute(insert, [{"datastore_id": i, "next_due_at": now} for i in ids])


def _lease_free(now: datetime) -> Any:
    return or_(PermissionPass.lease_expires_at.is_(None), PermissionPass.lease_expires_at < now)


def _new_documents() -> Any:
    return exists().where(
        documents.Document.datastore_id == PermissionPass.datastore_id, documents.Document.acl_checked_at.is_(None)
    )


#: The least time between two checks of the documents a sync added (a sync adds them a batch at a time, and
#: Confluence's search may not list a page created a moment ago).
NEW_DOCUMENTS_GAP = timedelta(minutes=2)


def _full_due(now: datetime) -> Any:
    return or_(PermissionPass.next_due_at.is_(None), PermissionPass.next_due_at <= now)


def _fresh_after_sync() -> Any:
    """Documents indexed since the last check of new documents, while no sync of the datastore is running:
    a run just ended (or paused), so its pages are checked at once rather than after NEW_DOCUMENTS_GAP — its
    thread holds the ✅ until they are (bot/progress/snapshot.py ACL_HOLD)."""
    doc = documents.Document
    fresh = exists().where(
        doc.datastore_id == PermissionPass.datastore_id,
        doc.acl_checked_at.is_(None),
        doc.indexed_at > PermissionPass.new_documents_at,
    )
    # A document's indexed_at is stamped before its batch commits: a pass that began while a batch was being
    # committed missed it and yet began after its stamp. A run that finished after the last check began is
    # what says its documents are due (the check after it begins later than that, so this never repeats).
    ended = exists().where(
        SyncRun.datastore_id == PermissionPass.datastore_id, SyncRun.finished_at > PermissionPass.new_documents_at
    )
    syncing = exists().where(SyncRun.datastore_id == PermissionPass.datastore_id, SyncRun.state == RunState.RUNNING)
    return and_(or_(fresh, ended), ~syncing)


def _due(now: datetime) -> Any:
    rested = or_(
        PermissionPass.new_documents_at.is_(None),
        PermissionPass.new_documents_at <= now - NEW_DOCUMENTS_GAP,
        _fresh_after_sync(),
    )
    return and_(_lease_free(now), or_(_full_due(now), and_(_new_documents(), rested)))


def due_pass_ids(session: Session, *, now: datetime, limit: int = 10) -> list[int]:
    """Per-person datastores whose pass is due (by schedule, or because a sync added unchecked documents) and
    that nobody is running; the longest overdue first."""
    statement = (
        select(PermissionPass.datastore_id)
        .join(Datastore, Datastore.id == PermissionPass.datastore_id)
        .where(Datastore.access_mode == AccessMode.EACH.value, _due(now))
        .order_by(PermissionPass.next_due_at.is_not(None), PermissionPass.next_due_at, PermissionPass.datastore_id)
        .limit(limit)
    )
    return list(session.scalars(statement))


def claim_pass(session: Session, *, datastore_id: int, owner: str, now: datetime, lease: timedelta) -> bool:
    """Take the lease of the datastore's pass if it is due and free; exactly one of racing workers wins."""
    result = session.execute(
        update(PermissionPass)
        .where(PermissionPass.datastore_id == datastore_id, _due(now))
        .values(lease_owner=owner, lease_expires_at=now + lease)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


def renew_pass_lease(session: Session, *, datastore_id: int, owner: str, now: datetime, lease: timedelta) -> bool:
    """Extend the lease; False when another worker took the pass over (this one must stop)."""
    result = session.execute(
        update(PermissionPass)
        .where(PermissionPass.datastore_id == datastore_id, PermissionPass.lease_owner == owner)
        .values(lease_expires_at=now + lease)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


def mark_space_done(
    session: Session, *, datastore_id: int, owner: str, space_id: str, points: int, requests: int
) -> bool:
    """Record a space the unfinished full pass has finished, and what it cost; False when the lease is lost."""
    row = session.get(PermissionPass, datastore_id)
    if row is None or row.lease_owner != owner:
        return False
    done = [s for s in (row.spaces_done or "").split(",") if s]
    row.spaces_done = ",".join([*done, space_id]) if space_id not in done else row.spaces_done
    row.points_so_far += points
    row.requests_so_far += requests
    return True


def finish_pass(
    session: Session,
    *,
    datastore_id: int,
    owner: str,
    outcome: str,
    next_due_at: datetime | None,
    now: datetime,
    checked_from: datetime | None = None,
    points: int = 0,
    requests: int = 0,
    documents: int = 0,
    error: str | None = None,
) -> bool:
    """Release the lease with the outcome. A complete pass records its totals (with those of its earlier
    attempts) and forgets its spaces; an incomplete one keeps them, to resume. False when the lease is lost.

    ``checked_from`` is when the pass began reading which documents to check (default ``now``): documents a
    running sync indexed after that were not among them, so once the sync ends they are due at once."""
    row = session.get(PermissionPass, datastore_id)
    if row is None or row.lease_owner != owner:
        return False
    row.lease_owner, row.lease_expires_at = None, None
    row.last_outcome, row.last_error = outcome, error
    # Whatever the outcome, the next look at new documents waits NEW_DOCUMENTS_GAP, unless a sync that has ended
    # indexed some after this pass began (_fresh_after_sync).
    row.new_documents_at = checked_from if checked_from is not None else now
    if outcome != PassOutcome.NEW_DOCUMENTS:  # checking new documents leaves the full pass's schedule alone
        row.next_due_at = next_due_at
    if outcome == PassOutcome.COMPLETE:
        row.last_complete_at = now
        row.last_points = row.points_so_far + points
        row.last_requests = row.requests_so_far + requests
        row.last_documents = documents
        row.points_so_far, row.requests_so_far, row.spaces_done, row.started_at = 0, 0, None, None
    elif outcome == PassOutcome.INCOMPLETE:
        row.points_so_far += points
        row.requests_so_far += requests
    return True


def full_pass_due(session: Session, *, datastore_id: int, now: datetime) -> bool:
    """Whether the datastore's full pass is due (otherwise only documents a sync added are)."""
    row = session.get(PermissionPass, datastore_id)
    return row is not None and (row.next_due_at is None or row.next_due_at <= now)


def start_pass(session: Session, *, datastore_id: int, now: datetime) -> list[str]:
    """Mark an unfinished full pass as started (keeping an earlier start) and return the spaces it has done."""
    row = session.get(PermissionPass, datastore_id)
    if row is None:
        return []
    if row.started_at is None:
        row.started_at = now
    return [s for s in (row.spaces_done or "").split(",") if s]


def lane_points_of_last_passes(session: Session) -> int:
    """The points the last complete pass of every per-person datastore cost, together (a cadence spreads them
    over the permission lane)."""
    statement = (
        select(func.coalesce(func.sum(PermissionPass.last_points), 0))
        .join(Datastore, Datastore.id == PermissionPass.datastore_id)
        .where(Datastore.access_mode == AccessMode.EACH.value)
    )
    return int(session.scalar(statement) or 0)


# ----- documents ------------------------------------------------------------------------------------
def datastore_spaces(session: Session, *, datastore_id: int) -> list[tuple[str, str]]:
    """(space id, space key) of every space holding the datastore's documents."""
    statement = (
        select(documents.Document.space_id, func.max(documents.Document.space_key))
        .where(documents.Document.datastore_id == datastore_id, documents.Document.space_id.is_not(None))
        .group_by(documents.Document.space_id)
        .order_by(documents.Document.space_id)
    )
    return [(str(space_id), str(key or "")) for space_id, key in session.execute(statement)]


def source_ids(session: Session, *, datastore_id: int, space_id: str | None = None) -> set[str]:
    statement = select(documents.Document.source_id).where(documents.Document.datastore_id == datastore_id)
    if space_id is not None:
        statement = statement.where(documents.Document.space_id == space_id)
    return set(session.scalars(statement))


def unchecked_source_ids(session: Session, *, datastore_id: int, limit: int = 5000) -> dict[str, list[str]]:
    """Documents never checked by a pass (a sync added them since), by space id."""
    statement = (
        select(documents.Document.space_id, documents.Document.source_id)
        .where(documents.Document.datastore_id == datastore_id, documents.Document.acl_checked_at.is_(None))
        .order_by(documents.Document.space_id, documents.Document.source_id)
        .limit(limit)
    )
    found: dict[str, list[str]] = {}
    for space_id, source_id in session.execute(statement):
        found.setdefault(str(space_id or ""), []).append(source_id)
    return found


def settle_unchecked(
    session: Session, *, datastore_id: int, source_ids: Collection[str], indexed_before: datetime, now: datetime
) -> int:
    """Mark these still-unchecked documents checked with an unknown ACL (hidden) if they were indexed before
    ``indexed_before``: Confluence did not return them (archived, or no longer visible), so they wait for the
    next full pass instead of being asked for again and again."""
    doc = documents.Document
    result = session.execute(
        update(doc)
        .where(
            doc.datastore_id == datastore_id,
            doc.source_id.in_(list(source_ids)),
            doc.acl_checked_at.is_(None),
            doc.indexed_at < indexed_before,
        )
        .values(acl_id=None, acl_checked_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def unseen_source_ids(session: Session, *, datastore_id: int, seen: Collection[str]) -> list[str]:
    """The datastore's documents not in ``seen`` (a complete pass did not find them)."""
    return sorted(source_ids(session, datastore_id=datastore_id) - set(seen))
