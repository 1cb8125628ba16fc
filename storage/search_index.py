"""Document repository feeding the full-text index over chunks (never commits: callers frame transactions).
Searching it is :mod:`storage.search`; these two are the only modules with dialect-specific SQL.

Migration 0002 builds the index:

* SQLite: FTS5 table ``chunks_fts`` (external content = ``chunks``, kept in step by triggers), tokenizer
  ``unicode61 remove_diacritics 2``; ranking is ``bm25()`` with the title weighted 10, the heading 4
  and the body 1; snippets come from ``snippet()``.
* PostgreSQL: generated ``chunks.search_vector`` (title A, heading B, body D) with a GIN index, in the
  language-neutral ``datastore_fts`` configuration (``simple`` plus ``unaccent``); ranking is
  ``ts_rank_cd``; snippets come from ``ts_headline``. Migration 0012 adds expression GIN indexes over
  ``documents.title`` and ``chunks.heading`` for the tiers of common words (:mod:`storage.search_pg`).

User text never reaches either query language as syntax: it is split on whitespace, pieces without a
letter or digit are dropped, and each piece becomes a quoted FTS5 phrase (or goes through
``plainto_tsquery``).  All pieces must match; chunks that contain them as one phrase rank higher.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, delete, func, select
from sqlalchemy.orm import Session

from storage.db import upsert_into
from storage.documents import Chunk, Document, DocumentFailure
from storage.models import utcnow

__all__ = [
    "ChunkInput",
    "DocumentInput",
    "alembic_include_name",
    "bulk_replace_documents",
    "clear_failure",
    "content_hash",
    "count_documents",
    "counts_by_space",
    "delete_datastore_documents",
    "delete_documents",
    "delete_documents_outside",
    "document_versions",
    "failed_items",
    "list_failures",
    "record_failure",
    "replace_document",
]

_DOCUMENTS: Table = Document.__table__  # type: ignore[assignment]
_CHUNKS: Table = Chunk.__table__  # type: ignore[assignment]
_FAILURES: Table = DocumentFailure.__table__  # type: ignore[assignment]
_BATCH = 500
_SEARCH_INDEX_TABLES = re.compile(r"chunks_fts(_\w+)?")
_SEARCH_INDEX_INDEXES = frozenset({"ix_chunks_search_vector", "ix_chunks_heading_fts", "ix_documents_title_fts"})


@dataclass(frozen=True, slots=True)
class DocumentInput:
    """What the sync knows about one page or blog post."""

    source_id: str
    title: str
    url: str
    content_hash: str
    version: int = 1
    kind: str = "page"
    space_id: str | None = None
    space_key: str | None = None
    space_name: str | None = None
    last_modified: datetime | None = None
    status: str = "current"


@dataclass(frozen=True, slots=True)
class ChunkInput:
    """One chunk of a document, in document order (``heading`` is the path, e.g. "Setup › Linux")."""

    text: str
    heading: str = ""


def content_hash(converted_text: str) -> str:
    """The sha256 hex digest stored in ``Document.content_hash``."""
    return hashlib.sha256(converted_text.encode("utf-8")).hexdigest()


def alembic_include_name(name: str | None, type_: str, parent_names: Mapping[str, str | None]) -> bool:
    """Alembic ``include_name`` hook: hides the dialect-specific index objects (FTS5 tables, the
    ``search_vector`` column and the GIN indexes) from autogenerate, since they are not in the models."""
    if type_ == "table":
        return not (name and _SEARCH_INDEX_TABLES.fullmatch(name))
    if type_ == "column":
        return not (name == "search_vector" and parent_names.get("table_name") == "chunks")
    if type_ == "index":
        return name not in _SEARCH_INDEX_INDEXES
    return True


def _batches(values: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), _BATCH):
        yield values[start : start + _BATCH]


def _document_row(datastore_id: int, doc: DocumentInput, now: datetime) -> dict[str, Any]:
    return {
        "datastore_id": datastore_id,
        "source_id": doc.source_id,
        "kind": doc.kind,
        "title": doc.title,
        "url": doc.url,
        "space_id": doc.space_id,
        "space_key": doc.space_key,
        "space_name": doc.space_name,
        "version": doc.version,
        "last_modified": doc.last_modified,
        "content_hash": doc.content_hash,
        "status": doc.status,
        "indexed_at": now,
    }


def bulk_replace_documents(
    session: Session, datastore_id: int, items: Sequence[tuple[DocumentInput, Sequence[ChunkInput]]]
) -> dict[str, int]:
    """Insert or update documents and replace all their chunks; returns ``{source_id: document id}``.

    The fast path of a sync (a few statements per batch, whatever its size).  Old and new chunks are
    never both visible: the old ones are deleted in the same transaction before the new ones go in.
    Failures recorded for these items are cleared.  Already-loaded ``Document`` objects in the
    session are not refreshed.  A source id given twice keeps its last entry."""
    latest = {doc.source_id: (doc, chunks) for doc, chunks in items}
    if not latest:
        return {}
    now = utcnow()
    insert = upsert_into(session, _DOCUMENTS)
    updated = {name: insert.excluded[name] for name in _document_row(datastore_id, next(iter(latest.values()))[0], now)}
    statement = insert.on_conflict_do_update(index_elements=["datastore_id", "source_id"], set_=updated).returning(
        _DOCUMENTS.c.id, _DOCUMENTS.c.source_id
    )
    ids: dict[str, int] = {}
    for batch in _batches(list(latest.values())):
        result = session.execute(statement, [_document_row(datastore_id, doc, now) for doc, _ in batch])
        ids.update({source_id: document_id for document_id, source_id in result})
    for id_batch in _batches(list(ids.values())):
        session.execute(delete(_CHUNKS).where(_CHUNKS.c.document_id.in_(id_batch)))
    rows = [
        {
            "document_id": ids[doc.source_id],
            "datastore_id": datastore_id,
            "position": position,
            "title": doc.title,
            "heading": chunk.heading,
            "text": chunk.text,
        }
        for doc, chunks in latest.values()
        for position, chunk in enumerate(chunks)
    ]
    if rows:
        session.execute(_CHUNKS.insert(), rows)
    for batch in _batches(list(latest)):
        session.execute(
            delete(_FAILURES).where(_FAILURES.c.datastore_id == datastore_id, _FAILURES.c.source_id.in_(batch))
        )
    return ids


def replace_document(
    session: Session, *, datastore_id: int, doc: DocumentInput, chunks: Sequence[ChunkInput]
) -> Document:
    """Insert or update one document and replace its chunks (see :func:`bulk_replace_documents`)."""
    ids = bulk_replace_documents(session, datastore_id, [(doc, chunks)])
    document = session.get(Document, ids[doc.source_id], populate_existing=True)
    assert document is not None  # just written in this transaction
    return document


def delete_documents(session: Session, *, datastore_id: int, source_ids: Iterable[str]) -> int:
    """Delete these documents (their chunks and recorded failures); returns how many documents existed."""
    deleted = 0
    for batch in _batches(list(dict.fromkeys(source_ids))):
        wanted = select(_DOCUMENTS.c.id).where(
            _DOCUMENTS.c.datastore_id == datastore_id, _DOCUMENTS.c.source_id.in_(batch)
        )
        session.execute(delete(_CHUNKS).where(_CHUNKS.c.document_id.in_(wanted)))
        session.execute(  # a page that is gone is no failure to retry any more
            delete(_FAILURES).where(_FAILURES.c.datastore_id == datastore_id, _FAILURES.c.source_id.in_(batch))
        )
        result = session.execute(
            delete(_DOCUMENTS).where(_DOCUMENTS.c.datastore_id == datastore_id, _DOCUMENTS.c.source_id.in_(batch))
        )
        deleted += int(getattr(result, "rowcount", 0) or 0)
    return deleted


def delete_datastore_documents(session: Session, *, datastore_id: int) -> int:
    """Empty a datastore: all its documents, chunks and recorded failures; returns the document count."""
    wanted = select(_DOCUMENTS.c.id).where(_DOCUMENTS.c.datastore_id == datastore_id)
    session.execute(delete(_CHUNKS).where(_CHUNKS.c.document_id.in_(wanted)))
    session.execute(delete(_FAILURES).where(_FAILURES.c.datastore_id == datastore_id))
    result = session.execute(delete(_DOCUMENTS).where(_DOCUMENTS.c.datastore_id == datastore_id))
    return int(getattr(result, "rowcount", 0) or 0)


def document_versions(session: Session, *, datastore_id: int) -> dict[str, tuple[int, str]]:
    """``{source_id: (version, content_hash)}`` of every stored document, for incremental sync."""
    statement = select(_DOCUMENTS.c.source_id, _DOCUMENTS.c.version, _DOCUMENTS.c.content_hash).where(
        _DOCUMENTS.c.datastore_id == datastore_id
    )
    return {source_id: (version, digest) for source_id, version, digest in session.execute(statement)}


def counts_by_space(session: Session, *, datastore_id: int) -> dict[tuple[str | None, str], int]:
    """``{(space id, kind): documents}`` of a datastore."""
    statement = (
        select(_DOCUMENTS.c.space_id, _DOCUMENTS.c.kind, func.count())
        .where(_DOCUMENTS.c.datastore_id == datastore_id)
        .group_by(_DOCUMENTS.c.space_id, _DOCUMENTS.c.kind)
    )
    return {(space_id, kind): int(count) for space_id, kind, count in session.execute(statement)}


def count_documents(session: Session, *, datastore_id: int) -> int:
    statement = select(func.count()).select_from(_DOCUMENTS).where(_DOCUMENTS.c.datastore_id == datastore_id)
    return int(session.scalar(statement) or 0)


def record_failure(
    session: Session,
    *,
    datastore_id: int,
    source_id: str,
    title: str | None,
    reason: str,
    kind: str | None = None,
    space_id: str | None = None,
) -> None:
    """Remember why an item could not be indexed (replacing an earlier failure of the same item); with its kind
    and space, a resync that lists only changes retries it (see :func:`failed_items`)."""
    row = {
        "datastore_id": datastore_id,
        "source_id": source_id,
        "title": title,
        "reason": reason,
        "kind": kind,
        "space_id": space_id,
    }
    insert = upsert_into(session, _FAILURES).values(occurred_at=utcnow(), **row)
    session.execute(
        insert.on_conflict_do_update(
            index_elements=["datastore_id", "source_id"],
            set_={
                "title": insert.excluded.title,
                "reason": insert.excluded.reason,
                "occurred_at": insert.excluded.occurred_at,
                "kind": insert.excluded.kind,
                "space_id": insert.excluded.space_id,
            },
        )
    )


def failed_items(session: Session, *, datastore_id: int) -> list[tuple[str, str, str, str]]:
    """``(source_id, kind, space_id, title)`` of every failed item whose kind and space are known: what a resync
    that lists only changes fetches again (an unchanged page would never be listed, so never retried)."""
    statement = select(_FAILURES.c.source_id, _FAILURES.c.kind, _FAILURES.c.space_id, _FAILURES.c.title).where(
        _FAILURES.c.datastore_id == datastore_id, _FAILURES.c.kind.is_not(None), _FAILURES.c.space_id.is_not(None)
    )
    return [(source_id, kind, space_id, title or "") for source_id, kind, space_id, title in session.execute(statement)]


def delete_documents_outside(session: Session, *, datastore_id: int, space_ids: Iterable[str]) -> list[str]:
    """Delete the documents of every space but these (spaces no longer chosen or no longer visible); returns
    their source ids. Its own statement, not a diff of the listing: a resync that lists only changes uses it."""
    kept = list(dict.fromkeys(space_ids))
    statement = select(_DOCUMENTS.c.source_id).where(
        _DOCUMENTS.c.datastore_id == datastore_id, _DOCUMENTS.c.space_id.is_not(None)
    )  # a document stored without its space waits for the next complete listing
    if kept:
        statement = statement.where(_DOCUMENTS.c.space_id.not_in(kept))
    gone = list(session.scalars(statement))
    if gone:
        delete_documents(session, datastore_id=datastore_id, source_ids=gone)
    return gone


def clear_failure(session: Session, *, datastore_id: int, source_id: str) -> bool:
    """Forget the failure of one item; True when there was one."""
    result = session.execute(
        delete(_FAILURES).where(_FAILURES.c.datastore_id == datastore_id, _FAILURES.c.source_id == source_id)
    )
    return bool(getattr(result, "rowcount", 0))


def list_failures(session: Session, *, datastore_id: int, limit: int = 100) -> list[DocumentFailure]:
    """The most recent failures first."""
    statement = (
        select(DocumentFailure)
        .where(DocumentFailure.datastore_id == datastore_id)
        .order_by(DocumentFailure.occurred_at.desc(), DocumentFailure.id.desc())
        .limit(limit)
    )
    return list(session.scalars(statement))
