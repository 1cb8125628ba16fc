"""What a run lists, and what its listing leaves behind for the next one.

* A full sync, a first sync and the deletion check list every id of every space (purges are invisible to a
  "changed since" question, so only a whole listing finds them); the deletion check is due when the last one
  is older than the datastore's deletion interval (default a day, `/datastore schedule NAME 6h --deletions 1d`).
  A full or first sync lists the bodies too and indexes them as they come (one pass: ~1 point a page).
* Any other resync asks each space and kind only for what changed since its watermark, less OVERLAP; a space
  without a watermark (new in the selection, or never listed completely) is listed whole. Items that failed
  before are fetched again (an unchanged page is never listed, so it would never be retried otherwise).
* A deletion check is recorded as done even when a space could not be listed (nothing is pruned then): it is
  tried again at its cadence, not at every resync.
* Once a run's listing ends, every space and kind listed without an error gets the time its listing began
  (Atlassian's clock, from its answers' Date header) as its new watermark, so what changed while it ran is
  asked for again. A complete listing of changes prunes the spaces no longer synced; only a complete listing of
  every id prunes single pages.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from storage import search_index as index
from storage import sync_runs as runs
from storage.models import Datastore, SyncRun
from storage.run_checkpoints import SyncRunSpace
from storage.states import ItemState, RunKind
from storage.watermarks import drop_watermarks_outside, set_watermarks, watermarks

__all__ = [
    "DEFAULT_DELETION_INTERVAL",
    "DEFAULT_DELETION_MINUTES",
    "OVERLAP",
    "add_failed_items",
    "deletion_check_due",
    "leave_watermarks",
    "plan_spaces",
    "prune",
]

DEFAULT_DELETION_INTERVAL = timedelta(days=1)
DEFAULT_DELETION_MINUTES = int(DEFAULT_DELETION_INTERVAL.total_seconds() // 60)
#: How far before a watermark a listing of changes starts: Atlassian's Date header has second precision and its
#: servers' clocks may differ a little; every item in the overlap that did not change costs one listed object.
OVERLAP = timedelta(minutes=5)


def deletion_interval(datastore: Datastore) -> timedelta:
    minutes = datastore.deletion_interval_minutes
    return timedelta(minutes=minutes) if minutes else DEFAULT_DELETION_INTERVAL


def deletion_check_due(datastore: Datastore, now: datetime) -> bool:
    """Whether a resync started ``now`` lists every id (this machine's clock: it is a cadence, not a boundary)."""
    checked = datastore.deletions_checked_at
    return checked is None or now - checked >= deletion_interval(datastore)


def plan_spaces(
    session: Session,
    run: SyncRun,
    datastore: Datastore,
    spaces: list[tuple[str, str, str]],
    kinds: tuple[str, ...],
    now: datetime,
) -> None:
    """Record the run's spaces (``(id, key, name)``) and kinds, each listed whole or by changes."""
    run.lists_everything = run.kind == RunKind.FULL or deletion_check_due(datastore, now)
    # One pass: a full or first sync lists with bodies and indexes as it lists. A deletion check of an indexed
    # datastore lists ids only (most pages are unchanged) and fetches the changed ones by id.
    first = index.count_documents(session, datastore_id=datastore.id) == 0
    run.lists_bodies = run.kind == RunKind.FULL or (run.lists_everything and first)
    marks = {} if run.lists_everything else watermarks(session, datastore_id=datastore.id)
    for space_id, key, name in spaces:
        for kind in kinds:
            mark = marks.get((space_id, kind))
            session.add(
                SyncRunSpace(
                    run_id=run.id,
                    space_id=space_id,
                    kind=kind,
                    space_key=key,
                    space_name=name,
                    changes_since=mark - OVERLAP if mark is not None else None,
                )
            )


def add_failed_items(session: Session, run: SyncRun, datastore_id: int) -> None:
    """A listing of changes also fetches what failed before, in the run's spaces (once: duplicates are kept
    once); the fetched version wins over the unknown one recorded here."""
    chosen = {(space.space_id, space.kind) for space in runs.run_spaces(session, run_id=run.id)}
    rows = [
        runs.ItemRow(source_id, kind, space_id, title, 0, None, None, ItemState.PENDING)
        for source_id, kind, space_id, title in index.failed_items(session, datastore_id=datastore_id)
        if (space_id, kind) in chosen
    ]
    runs.add_items(session, run_id=run.id, items=rows)


def leave_watermarks(session: Session, run: SyncRun, datastore: Datastore) -> None:
    """The next resync's watermarks: every space and kind this run listed without an error; the watermarks of
    spaces no longer synced are dropped when the spaces were all listed."""
    spaces = runs.run_spaces(session, run_id=run.id)
    marks = {
        (space.space_id, space.kind): space.listed_from
        for space in spaces
        if space.done and space.error is None and space.listed_from is not None
    }
    set_watermarks(session, datastore_id=datastore.id, marks=marks)
    if run.enumeration_complete:
        drop_watermarks_outside(session, datastore_id=datastore.id, space_ids={space.space_id for space in spaces})
    if run.lists_everything and run.started_at is not None:
        # Also when a space could not be listed (then nothing was pruned): the next check comes at its cadence,
        # not at every resync, which would list every page of the site each time that space keeps failing.
        datastore.deletions_checked_at = run.started_at


def prune(session: Session, run: SyncRun, datastore_id: int) -> int:
    """Delete what a complete listing shows is gone; returns how many documents were deleted."""
    if not run.enumeration_complete:
        return 0
    if not run.lists_everything:
        kept = {space.space_id for space in runs.run_spaces(session, run_id=run.id)}
        return len(index.delete_documents_outside(session, datastore_id=datastore_id, space_ids=kept))
    listed = runs.listed_source_ids(session, run_id=run.id)
    gone = set(index.document_versions(session, datastore_id=datastore_id)) - listed
    return index.delete_documents(session, datastore_id=datastore_id, source_ids=gone) if gone else 0
