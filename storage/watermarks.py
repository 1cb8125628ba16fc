"""From when each space and kind of a datastore is asked for changes, in Atlassian's time (never commits).

A watermark is written only for a listing that finished without an error, and it is when that listing began
(Atlassian's clock), so a page changed while it ran is asked for again by the next resync."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from storage.db import upsert_into
from storage.run_checkpoints import SpaceWatermark

__all__ = ["SpaceKind", "drop_watermarks_outside", "set_watermarks", "watermarks"]

SpaceKind = tuple[str, str]  # (space id, kind)


def watermarks(session: Session, *, datastore_id: int) -> dict[SpaceKind, datetime]:
    statement = select(SpaceWatermark).where(SpaceWatermark.datastore_id == datastore_id)
    return {(mark.space_id, mark.kind): mark.changes_since for mark in session.scalars(statement)}


def set_watermarks(session: Session, *, datastore_id: int, marks: Mapping[SpaceKind, datetime]) -> None:
    """Insert or replace these watermarks (the newest complete listing's is the one to trust, even if Atlassian's
    clock went back: asking from earlier costs a few listed items, never a missed change)."""
    for (space_id, kind), since in marks.items():
        values = {"datastore_id": datastore_id, "space_id": space_id, "kind": kind, "changes_since": since}
        insert = upsert_into(session, SpaceWatermark).values(**values)
        session.execute(
            insert.on_conflict_do_update(
                index_elements=["datastore_id", "space_id", "kind"], set_={"changes_since": since}
            )
        )


def drop_watermarks_outside(session: Session, *, datastore_id: int, space_ids: Collection[str]) -> int:
    """Forget the watermarks of spaces no longer synced (a space chosen again is then listed whole)."""
    statement = delete(SpaceWatermark).where(SpaceWatermark.datastore_id == datastore_id)
    if space_ids:
        statement = statement.where(SpaceWatermark.space_id.not_in(list(space_ids)))
    return int(getattr(session.execute(statement), "rowcount", 0) or 0)
