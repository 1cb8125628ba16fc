"""Full-text search over a datastore's chunks (see :mod:`storage.search_index` for the index itself).

User text never reaches either query language as syntax: it is split on whitespace, pieces without a
letter or digit are dropped, and each piece becomes a quoted FTS5 phrase (or goes through
``plainto_tsquery``).  All pieces must match; chunks that contain them as one phrase rank higher.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, text
from sqlalchemy.orm import Session

from storage.documents import Document

__all__ = ["SearchHit", "search"]

_MAX_PIECES = 16
_MAX_PIECE_CHARS = 64
_MAX_LIMIT = 50
_LT, _MARK, _END = "\x01", "\x02", "\x03"
_WORD = re.compile(r"[^\W_]")
_SPACE = re.compile(r"\s+")
_BOLD = re.compile(f"{_MARK}\\s*(.*?)\\s*{_END}", re.DOTALL)


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
_PG_MATCHING = """
FROM chunks AS c
WHERE c.search_vector @@ plainto_tsquery('datastore_fts', :query) AND c.datastore_id = :datastore_id"""
_PG_RANKED = (
    """
SELECT c.id AS chunk_id, c.document_id, c.datastore_id,
       ts_rank_cd(c.search_vector, plainto_tsquery('datastore_fts', :query))
       * CASE WHEN c.search_vector @@ phraseto_tsquery('datastore_fts', :query) THEN 2.0 ELSE 1.0 END AS score"""
    + _PG_MATCHING
)
_PG_TOP = text(_PG_RANKED + " ORDER BY score DESC, c.id LIMIT :k")
_PG_TIER_TOP = text(
    _PG_RANKED
    + " AND ts_filter(c.search_vector, '{a,b}') @@ plainto_tsquery('datastore_fts', :query)"
    + " ORDER BY score DESC, c.id LIMIT :k"
)
_PG_SNIPPETS = text(
    "SELECT c.id, ts_headline('datastore_fts', replace(c.text, '<', chr(1)), "
    "plainto_tsquery('datastore_fts', :query), :options) FROM chunks AS c WHERE c.id IN :ids"
).bindparams(bindparam("ids", expanding=True))
_PG_HEADLINE = f'StartSel={_MARK}, StopSel={_END}, MaxWords=40, MinWords=20, MaxFragments=2, FragmentDelimiter=" … "'
_CHUNKS_PER_HIT = 8  # candidates fetched per wanted document; widened when documents have more matches
# A query whose words are in more chunks than this ranks the chunks that have them in a title or heading
# first (a tier, as search engines keep "champion lists"): ranking every match of a word most pages use costs
# ~30 ms per 10,000 pages, and its best hits have it in a title or heading anyway (weighted 10 and 4).
_COMMON_MATCHES = 2000
_SQLITE_COMMON = text(
    "SELECT count(*) FROM (SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH :match LIMIT :bound)"
).bindparams(bound=_COMMON_MATCHES + 1)
_PG_COMMON = text(f"SELECT count(*) FROM (SELECT 1 {_PG_MATCHING} LIMIT :bound) AS m").bindparams(
    bound=_COMMON_MATCHES + 1
)


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


def _tiered(
    session: Session,
    tier: tuple[Any, dict[str, Any]] | None,
    everything: tuple[Any, dict[str, Any]],
    datastore_id: int,
    limit: int,
) -> list[Any]:
    """The tier's best documents first (when the words are common), then the best of every match."""
    best = _best_chunks(session, *tier, datastore_id, limit) if tier is not None else []
    if len(best) < limit:
        chosen = {row.document_id for row in best}
        rest = _best_chunks(session, *everything, datastore_id, limit + len(best))
        best += [row for row in rest if row.document_id not in chosen][: limit - len(best)]
    return best


def search(session: Session, *, datastore_id: int, query: str, limit: int = 5) -> list[SearchHit]:
    """The best-ranked documents of one datastore for free text ``query`` (one hit per document)."""
    pieces = _pieces(query)
    if not pieces or limit < 1:
        return []
    limit = min(limit, _MAX_LIMIT)
    dialect = session.get_bind().dialect.name
    tier: tuple[Any, dict[str, Any]] | None = None
    if dialect == "sqlite":
        match = _fts5_match(pieces)
        if int(session.scalar(_SQLITE_COMMON, {"match": match}) or 0) > _COMMON_MATCHES:
            tier = (_SQLITE_TOP, {"match": f"{{title heading}} : ({match})"})
        best = _tiered(session, tier, (_SQLITE_TOP, {"match": match}), datastore_id, limit)
        snippet_query, params = _SQLITE_SNIPPETS, {"match": match, "mark": _MARK, "end": _END}
    elif dialect == "postgresql":
        plain = " ".join(pieces)
        wanted: dict[str, Any] = {"query": plain, "datastore_id": datastore_id}
        if int(session.scalar(_PG_COMMON, wanted) or 0) > _COMMON_MATCHES:
            tier = (_PG_TIER_TOP, wanted)
        best = _tiered(session, tier, (_PG_TOP, wanted), datastore_id, limit)
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
