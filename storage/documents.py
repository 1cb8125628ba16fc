"""Indexed Confluence content: documents, their search chunks, and per-item sync failures.

The full-text index over ``chunks`` (an FTS5 table on SQLite, a generated ``tsvector`` column with a GIN
index on PostgreSQL) is created by migration 0002 and used only by :mod:`storage.search_index`; it is
deliberately not part of these models.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, utcnow

__all__ = ["Chunk", "Document", "DocumentFailure"]


class Document(Base):
    """One Confluence page or blog post copied into a datastore (``source_id`` is the content id)."""

    __tablename__ = "documents"
    __table_args__ = (
        UniqueConstraint("datastore_id", "source_id", name="uq_documents_datastore_source"),
        # Per-person search's filter (storage.search): index-only on PostgreSQL's semi-join.
        Index("ix_documents_visible", "datastore_id", "acl_id", "id"),
        # Documents no permission pass has checked yet (storage.permission_passes).
        Index("ix_documents_acl_checked", "datastore_id", "acl_checked_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    datastore_id: Mapped[int] = mapped_column(ForeignKey("datastores.id", ondelete="CASCADE"))
    source_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16), default="page")  # page | blogpost
    title: Mapped[str] = mapped_column(Text)
    url: Mapped[str] = mapped_column(Text)  # site base URL + the content's webui link
    space_id: Mapped[str | None] = mapped_column(String(64))
    space_key: Mapped[str | None] = mapped_column(String(255))
    space_name: Mapped[str | None] = mapped_column(String(255))
    version: Mapped[int] = mapped_column(default=1)
    last_modified: Mapped[datetime | None]
    content_hash: Mapped[str] = mapped_column(String(64))  # sha256 hex of the converted text
    status: Mapped[str] = mapped_column(String(16), default="current")
    indexed_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Its ACL (storage.acl); NULL = unknown, hidden from per-person search. Never on ``chunks``: any UPDATE of
    # a chunk re-indexes it (FTS5 trigger, generated tsvector).
    acl_id: Mapped[int | None] = mapped_column(ForeignKey("acls.id"))  # only unused ACLs are deleted
    acl_checked_at: Mapped[datetime | None]  # the oldest permission fact its ACL was built from


class Chunk(Base):
    """A searchable piece of a document.  ``datastore_id`` and ``title`` are copies of the document's,
    so the full-text index can weight the title and results can be scoped without a join; chunks are
    always replaced together with their document, which keeps the copies right."""

    __tablename__ = "chunks"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    datastore_id: Mapped[int]
    position: Mapped[int]
    title: Mapped[str] = mapped_column(Text)
    heading: Mapped[str] = mapped_column(Text, default="")  # heading path, e.g. "Setup › Linux"
    text: Mapped[str] = mapped_column(Text)


class DocumentFailure(Base):
    """The last failure to fetch or convert one item during a sync (cleared when it later succeeds)."""

    __tablename__ = "document_failures"
    __table_args__ = (UniqueConstraint("datastore_id", "source_id", name="uq_document_failures_datastore_source"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    datastore_id: Mapped[int] = mapped_column(ForeignKey("datastores.id", ondelete="CASCADE"))
    source_id: Mapped[str] = mapped_column(String(64))
    title: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str | None] = mapped_column(String(16))  # page | blogpost: a resync listing changes retries it
    space_id: Mapped[str | None] = mapped_column(String(64))
