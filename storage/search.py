"""Full-text search over a datastore's chunks (see :mod:`storage.search_index` for the index itself).

User text never reaches either query language as syntax: it is split on whitespace, pieces without a
letter or digit are dropped, and each piece becomes a quoted FTS5 phrase (or goes through
``plainto_tsquery``).  All pieces must match; chunks that contain them as one phrase rank higher.

Every search takes a required :class:`~storage.visibility.Visibility`: ``everyone()`` runs exactly the
unfiltered queries, ``acls(ids)`` keeps only documents whose ``acl_id`` is in ``ids`` (NULL, unknown, never is),
in SQL on PostgreSQL and over the top chunks (joined to their documents) on SQLite. The filter reads
``documents.acl_id`` only: nothing ACL-related is on ``chunks``, whose every UPDATE re-indexes the row.

A word in very many chunks is ranked approximately, in tiers (title and heading matches first): SQLite past
2,000 matching chunks (one FTS5 column-filtered query), PostgreSQL past :data:`storage.search_pg.COMMON_MATCHES`
(title, then a bounded heading tier, then a bounded rest: see :mod:`storage.search_pg`). Answers show how many
hits they list, never an estimate; :func:`count_hits` stays exact (bounded) under the same filter.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, text
from sqlalchemy.orm import Session

from storage import search_pg
from storage.documents import Document
from storage.visibility import Visibility

__all__ = ["SearchHit", "Visibility", "count_hits", "search"]

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
_SQLITE_TOP_SQL = """
SELECT t.chunk_id, c.document_id, c.datastore_id{acl} t.score FROM (
  SELECT rowid AS chunk_id, -bm25(chunks_fts, 10.0, 4.0, 1.0) AS score FROM chunks_fts
  WHERE chunks_fts MATCH :match ORDER BY bm25(chunks_fts, 10.0, 4.0, 1.0) LIMIT :k
) AS t JOIN chunks AS c ON c.id = t.chunk_id{join} ORDER BY t.score DESC, t.chunk_id"""
_SQLITE_TOP = text(_SQLITE_TOP_SQL.format(acl=",", join=""))
# Filtered: the same top chunks with their document's ACL (k primary key lookups), kept in Python.
_SQLITE_TOP_ACL = text(_SQLITE_TOP_SQL.format(acl=", d.acl_id,", join=" JOIN documents AS d ON d.id = c.document_id"))
_SQLITE_SNIPPETS = text(
    "SELECT rowid, snippet(chunks_fts, 2, :mark, :end, '…', 32) FROM chunks_fts "
    "WHERE chunks_fts MATCH :match AND rowid IN :ids"
).bindparams(bindparam("ids", expanding=True))
_PG_SNIPPETS = text(
    "SELECT c.id, ts_headline('datastore_fts', replace(c.text, '<', chr(1)), "
    "plainto_tsquery('datastore_fts', :query), :options) FROM chunks AS c WHERE c.id IN :ids"
).bindparams(bindparam("ids", expanding=True))
_PG_HEADLINE = f'StartSel={_MARK}, StopSel={_END}, MaxWords=40, MinWords=20, MaxFragments=2, FragmentDelimiter=" … "'
_PG_MATCHING, _PG_VISIBLE = search_pg.MATCHING, search_pg.VISIBLE  # the search's own filter, for hit counts
_CHUNKS_PER_HIT = 8  # candidates fetched per wanted document; widened when documents have more matches
_FILTERED_WIDER = 8  # ... and this many times more when filtered (see _best_chunks)
# SQLite: a query whose words are in more chunks than this ranks the chunks that have them in a title or heading
# first (a tier, as search engines keep "champion lists"): ranking every match of a word most pages use costs
# ~30 ms per 10,000 pages, and its best hits have it in a title or heading anyway (weighted 10 and 4).
_COMMON_MATCHES = 2000
_SQLITE_COMMON = text(
    "SELECT count(*) FROM (SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH :match LIMIT :bound)"
).bindparams(bound=_COMMON_MATCHES + 1)


def _pg(sql: str, filtered: bool) -> Any:
    return text(sql).bindparams(search_pg.ACL_IDS) if filtered else text(sql)


# Hit counts (matching documents, up to a bound) under the same filter as the search.
_SQLITE_COUNT_SQL = (
    "SELECT count(*) FROM (SELECT DISTINCT c.document_id FROM chunks_fts JOIN chunks AS c ON c.id = chunks_fts.rowid"
    "{join} WHERE chunks_fts MATCH :match AND c.datastore_id = :datastore_id{visible} LIMIT :bound)"
)
_SQLITE_COUNT = text(_SQLITE_COUNT_SQL.format(join="", visible=""))
# The ids as one JSON parameter: a set of any size (an expanded IN list would meet SQLite's variable limit).
_SQLITE_COUNT_ACL = text(
    _SQLITE_COUNT_SQL.format(
        join=" JOIN documents AS d ON d.id = c.document_id",
        visible=" AND d.acl_id IN (SELECT value FROM json_each(:acl_ids))",
    )
)
_PG_COUNT = {
    filtered: _pg(
        f"SELECT count(*) FROM (SELECT DISTINCT c.document_id {_PG_MATCHING}{visible} LIMIT :bound) AS m", filtered
    )
    for filtered, visible in ((False, ""), (True, _PG_VISIBLE))
}


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


def _best_chunks(
    session: Session,
    statement: Any,
    params: dict[str, Any],
    datastore_id: int,
    acl_ids: frozenset[int] | None,
    limit: int,
) -> list[Any]:
    """The best chunk of each of the ``limit`` best documents, from a growing number of top chunks; with
    ``acl_ids``, only rows whose ``acl_id`` is one of them (None: the statement filtered already, or none)."""
    # Filtered, start 8 times wider: a round costs about the same for any k up to a few hundred (FTS5 ranks
    # every match either way), and someone who sees a small share needs more candidates per hit.
    k = limit * _CHUNKS_PER_HIT * (1 if acl_ids is None else _FILTERED_WIDER)
    while True:
        rows = session.execute(statement, {**params, "k": k}).all()
        best: dict[int, Any] = {}
        for row in rows:
            if row.datastore_id == datastore_id and (acl_ids is None or row.acl_id in acl_ids):
                best.setdefault(row.document_id, row)
        if len(best) >= limit or len(rows) < k:
            return list(best.values())[:limit]
        k *= _CHUNKS_PER_HIT


def _tiered(
    session: Session,
    tier: tuple[Any, dict[str, Any]] | None,
    everything: tuple[Any, dict[str, Any]],
    datastore_id: int,
    acl_ids: frozenset[int] | None,
    limit: int,
) -> list[Any]:
    """The tier's best documents first (when the words are common), then the best of every match."""
    best = _best_chunks(session, *tier, datastore_id, acl_ids, limit) if tier is not None else []
    if len(best) < limit:
        chosen = {row.document_id for row in best}
        rest = _best_chunks(session, *everything, datastore_id, acl_ids, limit + len(best))
        best += [row for row in rest if row.document_id not in chosen][: limit - len(best)]
    return best


def _visibility(visible: object) -> Visibility:
    if not isinstance(visible, Visibility):
        raise TypeError("search needs visible=Visibility.everyone() or Visibility.acls(...)")
    return visible


def search(session: Session, *, datastore_id: int, query: str, visible: Visibility, limit: int = 5) -> list[SearchHit]:
    """The best-ranked documents of one datastore for free text ``query`` (one hit per document) among those
    ``visible`` allows. ``Visibility.acls(frozenset())`` returns [] without a query."""
    visible = _visibility(visible)
    pieces = _pieces(query)
    if not pieces or limit < 1 or visible.shows_nothing:
        return []
    limit = min(limit, _MAX_LIMIT)
    dialect = session.get_bind().dialect.name
    tier: tuple[Any, dict[str, Any]] | None = None
    if dialect == "sqlite":
        match = _fts5_match(pieces)
        top = _SQLITE_TOP if visible.is_everyone else _SQLITE_TOP_ACL
        if int(session.scalar(_SQLITE_COMMON, {"match": match}) or 0) > _COMMON_MATCHES:
            tier = (top, {"match": f"{{title heading}} : ({match})"})
        acl_ids = None if visible.is_everyone else visible.acl_ids
        best = _tiered(session, tier, (top, {"match": match}), datastore_id, acl_ids, limit)
        snippet_query, params = _SQLITE_SNIPPETS, {"match": match, "mark": _MARK, "end": _END}
    elif dialect == "postgresql":
        plain = " ".join(pieces)
        wanted: dict[str, Any] = {"query": plain, "datastore_id": datastore_id}
        search_pg.serial(session, filtered=not visible.is_everyone)
        if not visible.is_everyone:
            wanted["acl_ids"] = sorted(visible.acl_ids)

        def ranked(session: Session, statement: Any, params: dict[str, Any], limit: int) -> list[Any]:
            return _best_chunks(session, statement, params, datastore_id, None, limit)  # filtered in SQL

        best = search_pg.best_rows(session, wanted, not visible.is_everyone, limit, ranked)
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


def count_hits(session: Session, *, datastore_id: int, query: str, visible: Visibility, bound: int = 1000) -> int:
    """How many documents of the datastore match ``query`` under the same filter as :func:`search` (at most
    ``bound``): a count never includes a document the searcher may not see."""
    visible = _visibility(visible)
    pieces = _pieces(query)
    if not pieces or bound < 1 or visible.shows_nothing:
        return 0
    params: dict[str, Any] = {"datastore_id": datastore_id, "bound": bound}
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        params["match"] = _fts5_match(pieces)
        statement = _SQLITE_COUNT
        if not visible.is_everyone:
            statement, params["acl_ids"] = _SQLITE_COUNT_ACL, json.dumps(sorted(visible.acl_ids))
    elif dialect == "postgresql":
        params["query"] = " ".join(pieces)
        statement = _PG_COUNT[not visible.is_everyone]
        if not visible.is_everyone:
            params["acl_ids"] = sorted(visible.acl_ids)
            search_pg.custom_plans(session)
    else:
        raise NotImplementedError(f"no search index for the {dialect} dialect")
    return int(session.scalar(statement, params) or 0)
