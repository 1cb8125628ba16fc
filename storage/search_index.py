"""Document repository and full-text search over chunks (never commits: callers frame transactions).

This is the only module with dialect-specific SQL.  Migration 0002 builds the index:

* SQLite: FTS5 table ``chunks_fts`` (external content = ``chunks``, kept in step by triggers), tokenizer
  ``unicode61 remove_diacritics 2``; ranking is ``bm25()`` with the title weighted 10, the heading 4
  and the body 1; snippets come from ``snippet()``.
* PostgreSQL: generated ``chunks.search_vector`` (title A, heading B, body D) with a GIN index, in the
  language-neutral ``datastore_fts`` configuration (``simple`` plus ``unaccent``); ranking is
  ``ts_rank_cd``; snippets come from ``ts_headline``.

User text never reaches either query language as syntax: it is split on whitespace, pieces without a
letter or digit are dropped, and each piece becomes a quoted FTS5 phrase (or goes through
``plainto_tsquery``).  All pieces must match; chunks that contain them as one phrase rank higher.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, delete, func, select, text
from sqlalchemy.orm import Session

from storage.db import upsert_into
from storage.documents import Chunk, Document, DocumentFailure
from storage.models import utcnow

__all__ = [
    "ChunkInput",
    "DocumentInput",
    "SearchHit",
    "alembic_include_name",
    "bulk_replace_documents",
    "clear_failure",
    "content_hash",
    "count_documents",
    "delete_datastore_documents",
    "delete_documents",
    "document_versions",
    "list_failures",
    "record_failure",
    "replace_document",
    "search",
]

_DOCUMENTS: Table = Document.__table__  # type: ignore[assignment]
_CHUNKS: Table = Chunk.__table__  # type: ignore[assignment]
_FAILURES: Table = DocumentFailure.__table__  # type: ignore[assignment]
_BATCH = 500
_MAX_PIECES = 16
_MAX_PIECE_CHARS = 64
_MAX_LIMIT = 50
_LT, _MARK, _END = "\x01", "\x02", "\x03"
_WORD = re.compile(r"[^\W_]")
_SPACE = re.compile(r"\s+")
_BOLD = re.compile(f"{_MARK}\\s*(.*?)\\s*{_END}", re.DOTALL)
_SEARCH_INDEX_TABLES = re.compile(r"chunks_fts(_\w+)?")


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


@dataclass(frozen=True, slots=True)
class SearchHit:
    """The best chunk of one matching document; ``snippet`` is Slack mrkdwn with matches in ``*bold*``."""

    document_id: int
    title: str
    url: str
    space_key: str | None
    space_name: str | None
    snippet: str
    score: float  # higher is better; comparable only within one result list
    last_modified: datetime | None


def content_hash(converted_text: str) -> str:
    """The sha256 hex digest stored in ``Document.content_hash``."""
    return hashlib.sha256(converted_text.encode("utf-8")).hexdigest()


def alembic_include_name(name: str | None, type_: str, parent_names: Mapping[str, str | None]) -> bool:
    """Alembic ``include_name`` hook: hides the dialect-specific index objects (FTS5 tables, the
    ``search_vector`` column and its GIN index) from autogenerate, since they are not in the models."""
    if type_ == "table":
        return not (name and _SEARCH_INDEX_TABLES.fullmatch(name))
    if type_ == "column":
        return not (name == "search_vector" and parent_names.get("table_name") == "chunks")
    if type_ == "index":
        return name != "ix_chunks_search_vector"
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
    """Delete these documents (and their chunks); returns how many existed."""
    deleted = 0
    for batch in _batches(list(dict.fromkeys(source_ids))):
        wanted = select(_DOCUMENTS.c.id).where(
            _DOCUMENTS.c.datastore_id == datastore_id, _DOCUMENTS.c.source_id.in_(batch)
        )
        session.execute(delete(_CHUNKS).where(_CHUNKS.c.document_id.in_(wanted)))
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


def count_documents(session: Session, *, datastore_id: int) -> int:
    statement = select(func.count()).select_from(_DOCUMENTS).where(_DOCUMENTS.c.datastore_id == datastore_id)
    return int(session.scalar(statement) or 0)


def record_failure(session: Session, *, datastore_id: int, source_id: str, title: str | None, reason: str) -> None:
    """Remember why an item could not be indexed (replacing an earlier failure of the same item)."""
    row = {"datastore_id": datastore_id, "source_id": source_id, "title": title, "reason": reason}
    insert = upsert_into(session, _FAILURES).values(occurred_at=utcnow(), **row)
    session.execute(
        insert.on_conflict_do_update(
            index_elements=["datastore_id", "source_id"],
            set_={
                "title": insert.excluded.title,
                "reason": insert.excluded.reason,
                "occurred_at": insert.excluded.occurred_at,
            },
        )
    )


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


# --- search ---------------------------------------------------------------------------------------

# The best ``:k`` matching chunks, best first, with their datastore.  FTS5: ORDER BY bm25() LIMIT runs
# inside the index (weights title 10, heading 4, body 1) and only those rows are joined; the caller
# keeps its datastore's rows and asks for more when too few were left.  (Scoping inside the MATCH with
# an indexed datastore column was measured: it costs a pass over the datastore's whole doclist.)
_SQLITE_TOP = text(
    """
SELECT t.chunk_id, c.document_id, c.datastore_id, t.score FROM (
  SELECT rowid AS chunk_id, -bm25(chunks_fts, 10.0, 4.0, 1.0) AS score FROM chunks_fts
  WHERE chunks_fts MATCH :match ORDER BY bm25(chunks_fts, 10.0, 4.0, 1.0) LIMIT :k
) AS t JOIN chunks AS c ON c.id = t.chunk_id ORDER BY t.score DESC, t.chunk_id"""
)
_SQLITE_SNIPPETS = text(
    "SELECT rowid, snippet(chunks_fts, 2, :mark, :end, '…', 32) FROM chunks_fts "
    "WHERE chunks_fts MATCH :match AND rowid IN :ids"
).bindparams(bindparam("ids", expanding=True))
# PostgreSQL: ts_rank_cd with the default weights (A 1.0, B 0.4, D 0.1), doubled for a phrase match.
_PG_TOP = text(
    """
SELECT c.id AS chunk_id, c.document_id, c.datastore_id,
       ts_rank_cd(c.search_vector, plainto_tsquery('datastore_fts', :query))
       * CASE WHEN c.search_vector @@ phraseto_tsquery('datastore_fts', :query) THEN 2.0 ELSE 1.0 END AS score
FROM chunks AS c
WHERE c.search_vector @@ plainto_tsquery('datastore_fts', :query) AND c.datastore_id = :datastore_id
ORDER BY score DESC, c.id LIMIT :k"""
)
_PG_SNIPPETS = text(
    "SELECT c.id, ts_headline('datastore_fts', replace(c.text, '<', chr(1)), "
    "plainto_tsquery('datastore_fts', :query), :options) FROM chunks AS c WHERE c.id IN :ids"
).bindparams(bindparam("ids", expanding=True))
_PG_HEADLINE = f'StartSel={_MARK}, StopSel={_END}, MaxWords=40, MinWords=20, MaxFragments=2, FragmentDelimiter=" … "'
_CHUNKS_PER_HIT = 8  # candidates fetched per wanted document; widened when documents have more matches


def _pieces(query: str) -> list[str]:
    """Whitespace-separated pieces of the user's text that hold a letter or digit."""
    pieces = [piece[:_MAX_PIECE_CHARS] for piece in unicodedata.normalize("NFC", query).split() if _WORD.search(piece)]
    return pieces[:_MAX_PIECES]


def _fts5_match(pieces: Sequence[str]) -> str:
    """An FTS5 expression where every piece is a quoted string (so no operator, column filter, prefix
    ``*`` or NEAR survives): all pieces, OR-ed with the whole text as one phrase so bm25() adds a
    phrase boost without matching anything more."""
    quoted = ['"' + piece.replace('"', '""') + '"' for piece in pieces]
    if len(quoted) == 1:
        return quoted[0]
    phrase = '"' + " ".join(pieces).replace('"', '""') + '"'
    return f"{phrase} OR ({' '.join(quoted)})"


def _slack_snippet(raw: str) -> str:
    """Slack mrkdwn: markdown emphasis and code marks dropped, ``& < >`` escaped, matches in bold."""
    cleaned = raw.replace("*", "").replace("`", "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    cleaned = _SPACE.sub(" ", cleaned.replace(_LT, "&lt;")).strip()
    return (
        _BOLD.sub(lambda match: f"*{match.group(1)}*" if match.group(1) else "", cleaned)
        .replace(_MARK, "")
        .replace(_END, "")
    )


def _best_chunks(session: Session, statement: Any, params: dict[str, Any], datastore_id: int, limit: int) -> list[Any]:
    """The best chunk of each of the ``limit`` best documents, from a growing number of top chunks."""
    k = limit * _CHUNKS_PER_HIT
    while True:
        rows = session.execute(statement, {**params, "k": k}).all()
        best: dict[int, Any] = {}
        for row in rows:
            if row.datastore_id == datastore_id:
                best.setdefault(row.document_id, row)
        if len(best) >= limit or len(rows) < k:
            return list(best.values())[:limit]
        k *= _CHUNKS_PER_HIT


def search(session: Session, *, datastore_id: int, query: str, limit: int = 5) -> list[SearchHit]:
    """The best-ranked documents of one datastore for free text ``query`` (one hit per document)."""
    pieces = _pieces(query)
    if not pieces or limit < 1:
        return []
    limit = min(limit, _MAX_LIMIT)
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        match = _fts5_match(pieces)
        best = _best_chunks(session, _SQLITE_TOP, {"match": match}, datastore_id, limit)
        snippet_query, params = _SQLITE_SNIPPETS, {"match": match, "mark": _MARK, "end": _END}
    elif dialect == "postgresql":
        plain = " ".join(pieces)
        best = _best_chunks(session, _PG_TOP, {"query": plain, "datastore_id": datastore_id}, datastore_id, limit)
        snippet_query, params = _PG_SNIPPETS, {"query": plain, "options": _PG_HEADLINE}
    else:
        raise NotImplementedError(f"no search index for the {dialect} dialect")
    if not best:
        return []
    snippet_rows = session.execute(snippet_query, {**params, "ids": [row.chunk_id for row in best]})
    snippets = {chunk_id: _slack_snippet(raw or "") for chunk_id, raw in snippet_rows}
    documents = {
        document.id: document
        for document in session.scalars(select(Document).where(Document.id.in_([row.document_id for row in best])))
    }
    return [
        SearchHit(
            document_id=row.document_id,
            title=documents[row.document_id].title,
            url=documents[row.document_id].url,
            space_key=documents[row.document_id].space_key,
            space_name=documents[row.document_id].space_name,
            snippet=snippets.get(row.chunk_id, ""),
            score=float(row.score),
            last_modified=documents[row.document_id].last_modified,
        )
        for row in best
    ]
