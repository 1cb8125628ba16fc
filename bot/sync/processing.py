"""Processing: what a run still has to fetch after its listing (items listed without a body, failed before, or
not paid for yet), in pipelined batches — fetch by id, convert on the pool, store each batch in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from bot.logs import ContextThreadPoolExecutor
from bot.sync.convert import ConvertedDocument
from bot.sync.documents import Batch, require_paid, store_batch
from bot.sync.source import ContentRef, FetchedContent, ItemFailure, ItemGone, Source
from storage import sync_runs as runs

if TYPE_CHECKING:
    from bot.sync.engine import SyncEngine

__all__ = ["process_pending"]


def process_pending(engine: SyncEngine, run_id: int, source: Source) -> None:
    """Pipelined: while one batch is stored, the next ones are fetched and converted (threads waiting on
    the network and the conversion pool), so the slowest stage, not their sum, sets the pace."""
    window = engine.options.batch_size * engine.options.pipeline_depth
    with ContextThreadPoolExecutor(engine.options.pipeline_depth, thread_name_prefix="sync-prep") as prep:
        while True:
            with engine.services.sessions.begin() as session:
                _run, datastore = engine.owned(session, run_id)
                items = runs.pending_items(session, run_id=run_id, limit=window)
                refs = [
                    ContentRef(i.source_id, i.kind, i.space_id, i.title, i.version, i.last_modified, i.webui)
                    for i in items
                ]
                team_id, datastore_id = datastore.team_id, datastore.id
                names = {s.space_id: (s.space_key, s.space_name) for s in runs.run_spaces(session, run_id=run_id)}
            if not refs:
                return
            size = engine.options.batch_size
            batches = [refs[start : start + size] for start in range(0, len(refs), size)]
            prepared = [prep.submit(_prepare, engine, source, batch) for batch in batches]
            for batch, future in zip(batches, prepared, strict=True):
                results, converted = future.result()
                where = {ref.source_id: (ref.kind, ref.space_id) for ref in batch}
                _store(engine, run_id, datastore_id, team_id, results, converted, names, where)


def _prepare(
    engine: SyncEngine, source: Source, refs: Sequence[ContentRef]
) -> tuple[list[FetchedContent | ItemFailure | ItemGone], list[ConvertedDocument]]:
    """Fetch one batch's bodies and convert them (no database work: that stays in the storing thread)."""
    results: list[FetchedContent | ItemFailure | ItemGone] = []
    for kind in sorted({ref.kind for ref in refs}):
        results.extend(source.fetch([ref for ref in refs if ref.kind == kind]))
    fetched = [r for r in results if isinstance(r, FetchedContent)]
    return results, engine.converter.convert([(f.ref.source_id, f.ref.title, f.body) for f in fetched])


def _store(
    engine: SyncEngine,
    run_id: int,
    datastore_id: int,
    team_id: str,
    results: Sequence[FetchedContent | ItemFailure | ItemGone],
    converted: Sequence[ConvertedDocument],
    names: dict[str, tuple[str, str]],
    where: dict[str, tuple[str, str]],
) -> None:
    """Store one fetched batch in one transaction."""
    fetched = [r for r in results if isinstance(r, FetchedContent)]
    batch = Batch(
        fetched,
        converted,
        failures=[r for r in results if isinstance(r, ItemFailure)],
        gone=[r.source_id for r in results if isinstance(r, ItemGone)],
        where=where,
    )
    with engine.services.sessions.begin() as session:
        engine.owned(session, run_id)
        paid = store_batch(
            session,
            batch,
            run_id=run_id,
            datastore_id=datastore_id,
            team_id=team_id,
            names=names,
            cost_per_page=engine.options.cost_per_page,
            now=engine.clock(),
        )
    require_paid(paid, len(fetched))
