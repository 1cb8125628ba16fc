"""PostgreSQL's side of :mod:`storage.search`: which chunks rank best for a query (the caller adds snippets).

Profiled on the 10,000-page bench (bench/PERM_RESULTS.md): ``chunks.search_vector`` averages ~1.5 kB and is
TOASTed, so every function that reads it (``@@`` on a seq scan, ``ts_filter``, ``ts_rank_cd``) fetches and
decompresses it again: ~17 µs a row, 0.7-1.4 s for a word 38,000 of 40,000 chunks have. The GIN index itself
answers "which chunks match" without reading a vector (no recheck for ``plainto_tsquery``), so:

* **Rare words** (at most :data:`COMMON_MATCHES` matching chunks): every match is ranked with ``ts_rank_cd``, as
  before: a few hundred vectors.
* **Common words** (more, by the planner's statistics or a bounded count through the GIN index) are ranked in
  bounded tiers that never read a body vector while choosing: (1) documents whose **title** has every word
  (expression GIN index on ``documents``, ranked by ``ts_rank_cd`` of the title alone, filtered on
  ``documents.acl_id`` directly): every such document is ranked, so no title hit is ever dropped for another;
  (2) chunks whose **heading** has them (expression GIN index on ``chunks``): of the first :data:`TIER_SCAN` in
  index order, the first :data:`TIER_BOUND` visible ones, ranked by the heading alone; (3) only to fill the
  answer, the same bound over the whole text, ranked with ``ts_rank_cd``; (4) only if a narrow view found too
  few there, every visible match (exact, as for a rare word). Tiers 2 and 3 are approximate (issue #18 allows
  it for very common words): which of thousands of equally plausible heading matches come first is index
  order, not body rank. Answers list their hits and never show an estimated count.

The ACL filter is the same in every tier: ``documents.acl_id = ANY(:acl_ids)`` (per candidate by primary key,
or as a semi-join in tier 4), so a tier can never show a document the searcher may not see; an unknown (NULL)
ACL is in no set.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Integer, bindparam, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

__all__ = [
    "ACL_IDS",
    "COMMON_MATCHES",
    "MATCHING",
    "TIER_BOUND",
    "TIER_SCAN",
    "VISIBLE",
    "best_rows",
    "custom_plans",
    "is_common",
    "serial",
]

#: More matching chunks than this make a word "common" (ranked in tiers). Lower than SQLite's 2,000: ranking a
#: match costs ~17 µs here (a TOASTed vector) against ~1 µs inside FTS5.
COMMON_MATCHES = 200
#: How many heading (or whole-text) matches of a common word are ranked at most, per tier and round.
TIER_BOUND = 200
#: ... out of the first this many matches in index order.
TIER_SCAN = 500

_QUERY = "plainto_tsquery('datastore_fts', :query)"
_TITLE = "to_tsvector('datastore_fts'::regconfig, replace(d.title, '<', ' '))"  # = ix_documents_title_fts
_HEADING = "to_tsvector('datastore_fts'::regconfig, replace(c.heading, '<', ' '))"  # = ix_chunks_heading_fts
_PHRASE = "CASE WHEN {vector} @@ phraseto_tsquery('datastore_fts', :query) THEN 2.0 ELSE 1.0 END"
MATCHING = f"""
FROM chunks AS c
WHERE c.search_vector @@ {_QUERY} AND c.datastore_id = :datastore_id"""
# Filtered, for many candidates (a common word's tiers): a semi-join on the documents the searcher may see.
VISIBLE = """ AND c.document_id IN (
  SELECT d.id FROM documents AS d WHERE d.datastore_id = :datastore_id AND d.acl_id = ANY(:acl_ids))"""
# Filtered, in every chunk tier: each candidate's document by primary key, so a tier reads only its candidates
# (the semi-join above read every visible document first: a seq scan of documents, 10-45 ms even for a word in
# one chunk, by EXPLAIN ANALYZE). A missing document or a NULL acl_id is never ``= ANY``: hidden.
_VISIBLE_EACH = " AND (SELECT d.acl_id FROM documents AS d WHERE d.id = c.document_id) = ANY(:acl_ids)"
# ts_rank_cd with the default weights (A 1.0, B 0.4, D 0.1), doubled for a phrase match.
_RANKED = f"""
SELECT c.id AS chunk_id, c.document_id, c.datastore_id,
       ts_rank_cd(c.search_vector, {_QUERY}) * {_PHRASE.format(vector="c.search_vector")} AS score"""
_ORDER = " ORDER BY score DESC, c.id LIMIT :k"
_EVERYTHING = _RANKED + MATCHING + "{visible}" + _ORDER
# A bounded tier reads the first :scan matches in index order, keeps the visible ones (at most :bound) and
# ranks only those: its cost is bounded whoever searches; a narrow view that finds too few there falls through
# to the next tier and at last to every visible match (below).
_BOUNDED = (
    "{select} FROM (SELECT c.* FROM (SELECT c.id, c.document_id, c.datastore_id, {column} FROM chunks AS c"
    " WHERE {match} AND c.datastore_id = :datastore_id LIMIT :scan) AS c WHERE TRUE{{visible}} LIMIT :bound)"
    " AS c" + _ORDER
)
_EVERYTHING_BOUNDED = _BOUNDED.format(select=_RANKED, column="c.search_vector", match=f"c.search_vector @@ {_QUERY}")
_HEADINGS = _BOUNDED.format(  # the heading's tsvector is computed for the kept candidates only
    select=f"SELECT c.id AS chunk_id, c.document_id, c.datastore_id, ts_rank_cd({_HEADING}, {_QUERY}, 1)"
    f" * {_PHRASE.format(vector=_HEADING)} AS score",
    column="c.heading",
    match=f"{_HEADING} @@ {_QUERY}",
)
# One row per document whose title has every word: its first chunk stands for it (no body vector read).
_TITLES = f"""
SELECT c.id AS chunk_id, c.document_id, c.datastore_id, t.score FROM (
  SELECT d.id, ts_rank_cd({_TITLE}, {_QUERY}, 1) * {_PHRASE.format(vector=_TITLE)} AS score FROM documents AS d
  WHERE {_TITLE} @@ {_QUERY} AND d.datastore_id = :datastore_id{{visible}} ORDER BY score DESC, d.id LIMIT :limit
) AS t CROSS JOIN LATERAL (
  SELECT c.id, c.document_id, c.datastore_id FROM chunks AS c WHERE c.document_id = t.id ORDER BY c.position LIMIT 1
) AS c ORDER BY t.score DESC, t.id"""
_TITLE_VISIBLE = " AND d.acl_id = ANY(:acl_ids)"
_ESTIMATE = "EXPLAIN (FORMAT JSON) SELECT 1" + MATCHING
# Unfiltered: how much ranking costs depends on the matches, not on who searches.
_COUNT = "SELECT count(*) FROM (SELECT 1" + MATCHING + " LIMIT :bound) AS m"
ACL_IDS = bindparam("acl_ids", type_=postgresql.ARRAY(Integer))
_CUSTOM_PLANS = text("SELECT set_config('plan_cache_mode', 'force_custom_plan', true)")
_SERIAL_SQL = "SELECT set_config('max_parallel_workers_per_gather', '0', true)"
_SERIAL = {
    False: text(_SERIAL_SQL),
    True: text(_SERIAL_SQL + ", set_config('plan_cache_mode', 'force_custom_plan', true)"),  # one round trip
}


def _statements(sql: str, visible: str = VISIBLE) -> dict[bool, Any]:
    """``sql`` unfiltered (False) and filtered by ACL ids (True)."""
    return {False: text(sql.format(visible="")), True: text(sql.format(visible=visible)).bindparams(ACL_IDS)}


_STATEMENTS = {
    "everything": _statements(_EVERYTHING, _VISIBLE_EACH),
    "everything_visible": _statements(_EVERYTHING),
    "everything_bounded": _statements(_EVERYTHING_BOUNDED, _VISIBLE_EACH),
    "headings": _statements(_HEADINGS, _VISIBLE_EACH),
    "titles": _statements(_TITLES, _TITLE_VISIBLE),
}
_ESTIMATE_STATEMENT, _COUNT_STATEMENT = text(_ESTIMATE), text(_COUNT)


def custom_plans(session: Session) -> None:
    """Plan the filtered statements for their actual ids and words, for the rest of this transaction. psycopg
    prepares a statement after 5 runs, and PostgreSQL's generic plan for the ACL semi-join was measured at
    300-500 ms (a nested loop from documents) against ~10 ms custom on the 10,000-page bench."""
    session.execute(_CUSTOM_PLANS)


def serial(session: Session, filtered: bool) -> None:
    """No parallel workers for the rest of this transaction: a search reads a few hundred rows, and starting
    workers on a loaded 2-core machine cost more than they saved (Gather nodes in EXPLAIN ANALYZE); filtered,
    custom plans too (:func:`custom_plans`)."""
    session.execute(_SERIAL[filtered])


def is_common(session: Session, params: dict[str, Any]) -> bool:
    """Whether more than :data:`COMMON_MATCHES` chunks of the datastore match (``params``: query,
    datastore_id; who searches does not matter). The planner's estimate (the column's most common lexemes, kept
    by ANALYZE) decides when it says common; otherwise a count through the GIN index, which stops at the bound
    and reads no vector. Either way only the ranking depends on it, never which documents may be shown."""
    plan = session.execute(_ESTIMATE_STATEMENT, params).scalar()
    estimate = float(plan[0]["Plan"]["Plan Rows"]) if isinstance(plan, list) else 0.0
    if estimate > COMMON_MATCHES:
        return True
    count = session.scalar(_COUNT_STATEMENT, {**params, "bound": COMMON_MATCHES + 1})
    return int(count or 0) > COMMON_MATCHES


BestChunks = Callable[[Session, Any, dict[str, Any], int], list[Any]]


def best_rows(
    session: Session, params: dict[str, Any], filtered: bool, limit: int, best_chunks: BestChunks
) -> list[Any]:
    """The best chunk of each of the ``limit`` best documents (rows: chunk_id, document_id, datastore_id,
    score), tier by tier for a common query. ``best_chunks(session, statement, params, limit)`` runs a
    chunk-ranking statement in growing rounds of ``:k`` and keeps one row per document."""
    if not is_common(session, params):
        return best_chunks(session, _STATEMENTS["everything"][filtered], params, limit)
    best: list[Any] = list(session.execute(_STATEMENTS["titles"][filtered], {**params, "limit": limit}))
    bounded = {**params, "bound": TIER_BOUND, "scan": TIER_SCAN}
    for tier in ("headings", "everything_bounded", "everything"):
        if len(best) >= limit:
            break
        chosen = {row.document_id for row in best}
        # "everything" last, only when the bounded tiers found too few: every visible match, so a narrow view
        # still gets all it may see (the semi-join: reading the few visible documents first is cheap then).
        statement = _STATEMENTS["everything_visible" if tier == "everything" else tier][filtered]
        rest: Sequence[Any] = best_chunks(session, statement, bounded, limit + len(best))
        best += [row for row in rest if row.document_id not in chosen][: limit - len(best)]
    return best
