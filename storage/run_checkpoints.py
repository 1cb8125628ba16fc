"""A sync run's checkpoints: where each listing of a space and kind stands, the items it found (the run's work
list) and those already indexed, and from when a datastore's next resync asks each space for changes.

Typed models like storage/models.py, on the same Base; schema changes go through Alembic migrations."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.columns import EnumColumn
from storage.models import Base
from storage.states import ItemState

__all__ = ["SpaceWatermark", "SyncItem", "SyncRunSeen", "SyncRunSpace"]


class SyncRunSpace(Base):
    """Checkpoint of a run's enumeration of one space and content kind: the next listing cursor."""

    __tablename__ = "sync_run_spaces"

    run_id: Mapped[int] = mapped_column(ForeignKey("sync_runs.id", ondelete="CASCADE"), primary_key=True)
    space_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)  # page | blogpost
    space_key: Mapped[str] = mapped_column(String(255), default="")
    space_name: Mapped[str] = mapped_column(String(255), default="")
    cursor: Mapped[str | None] = mapped_column(Text)
    done: Mapped[bool] = mapped_column(default=False)
    error: Mapped[str | None] = mapped_column(Text)  # why listing this space stopped (enumeration incomplete)
    changes_since: Mapped[datetime | None]  # None: list every item; else only those modified since (Atlassian time)
    listed_from: Mapped[datetime | None]  # Atlassian's clock at this listing's first answer: the next watermark


class SpaceWatermark(Base):
    """From when (Atlassian's clock) the next resync of a datastore asks one space and kind for changes: when the
    last complete listing of it began, so whatever changed during or after that listing is asked for again."""

    __tablename__ = "space_watermarks"

    datastore_id: Mapped[int] = mapped_column(ForeignKey("datastores.id", ondelete="CASCADE"), primary_key=True)
    space_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    changes_since: Mapped[datetime]


class SyncItem(Base):
    """One page or blog post a run enumerated, and whether it has been processed (the run's work list)."""

    __tablename__ = "sync_items"
    __table_args__ = (Index("ix_sync_items_state", "run_id", "state"),)

    run_id: Mapped[int] = mapped_column(ForeignKey("sync_runs.id", ondelete="CASCADE"), primary_key=True)
    source_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    space_id: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(Text)
    version: Mapped[int]
    last_modified: Mapped[datetime | None]
    webui: Mapped[str | None] = mapped_column(Text)
    state: Mapped[ItemState] = mapped_column(EnumColumn(ItemState, 16), default=ItemState.PENDING)


class SyncRunSeen(Base):
    """Items a run listed that are already indexed at their version: only their ids, one row per group of
    listing pages the writer stores (an incremental sync of a large site then writes a few rows, not one per
    page). Deletions are pruned against these ids plus the run's items."""

    __tablename__ = "sync_run_seen"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("sync_runs.id", ondelete="CASCADE"), index=True)
    source_ids: Mapped[str] = mapped_column(Text)  # content ids, one per line
