"""What the index stores of fetched and converted items: their document rows and chunks, written with the run's
counters and the credits they cost in one transaction (the caller's), whether they came from a listing with
bodies or from fetching a batch by id."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from bot import metrics
from bot.errors import OutOfCredits
from bot.sync.convert import ConvertedDocument
from bot.sync.source import FetchedContent, ItemFailure
from storage import search_index as index
from storage import sync_runs as runs
from storage.credits import charge
from storage.models import Datastore, SyncRun
from storage.states import ItemState

__all__ = ["NO_CREDITS", "Batch", "document_inputs", "require_paid", "store_batch"]

NO_CREDITS = "Out of ingestion credits — add credits or set up auto top-off with /datastore credits."


@dataclass(frozen=True)
class Batch:
    """Items of one run to store: fetched with their conversions (same order), failed, or gone."""

    fetched: Sequence[FetchedContent]
    converted: Sequence[ConvertedDocument]
    failures: Sequence[ItemFailure] = ()
    gone: Sequence[str] = ()
    #: Each item's (kind, space id), kept with a failure so a resync that lists only changes retries it.
    where: dict[str, tuple[str, str]] = field(default_factory=dict)


def document_inputs(
    pairs: Sequence[tuple[FetchedContent, ConvertedDocument]], names: dict[str, tuple[str, str]]
) -> list[tuple[index.DocumentInput, list[index.ChunkInput]]]:
    """Each fetched item with its conversion, as the index takes them; ``names`` is each space id's (key, name)."""
    documents = []
    for item, doc in pairs:
        key, name = names.get(item.ref.space_id, ("", ""))
        row = index.DocumentInput(
            source_id=item.ref.source_id,
            title=item.ref.title,
            url=item.url,
            content_hash=doc.content_hash,
            version=item.ref.version,
            kind=item.ref.kind,
            space_id=item.ref.space_id,
            space_key=key or None,
            space_name=name or None,
            last_modified=item.ref.last_modified,
        )
        documents.append((row, [index.ChunkInput(text=text, heading=heading) for heading, text in doc.chunks]))
    return documents


def store_batch(
    session: Session,
    batch: Batch,
    *,
    run_id: int,
    datastore_id: int,
    team_id: str,
    names: dict[str, tuple[str, str]],
    cost_per_page: int,
    now: datetime,
) -> int:
    """Charge credits for the fetched items, index as many as were paid for (their run items Done), record the
    failures (Failed) and delete what is gone (Gone); returns how many fetched items were paid for. Unpaid ones
    stay Pending: the run pauses for credits and fetches them when it resumes. An empty batch (listing pages
    with nothing new) writes nothing: no lock on the workspace's credits, no recount of the documents."""
    if not (batch.fetched or batch.failures or batch.gone):
        return 0
    paid = charge(
        session, team_id=team_id, units=len(batch.fetched), cost_per_unit=cost_per_page, now=now, run_id=run_id
    ).paid
    documents = document_inputs(list(zip(batch.fetched, batch.converted, strict=True))[:paid], names)
    index.bulk_replace_documents(session, datastore_id, documents)
    for failure in batch.failures:
        kind, space_id = batch.where.get(failure.source_id, (None, None))
        index.record_failure(
            session,
            datastore_id=datastore_id,
            source_id=failure.source_id,
            title=failure.title,
            reason=failure.reason,
            kind=kind,
            space_id=space_id,
        )
    states = {doc.source_id: ItemState.DONE for doc, _chunks in documents}
    states.update({failure.source_id: ItemState.FAILED for failure in batch.failures})
    states.update({source_id: ItemState.GONE for source_id in batch.gone})
    if batch.gone:
        index.delete_documents(session, datastore_id=datastore_id, source_ids=batch.gone)
    runs.set_item_states(session, run_id=run_id, states=states)
    session.execute(
        update(SyncRun)
        .where(SyncRun.id == run_id)
        .values(
            processed=SyncRun.processed + len(documents),
            failed=SyncRun.failed + len(batch.failures),
            credits_charged=SyncRun.credits_charged + paid * cost_per_page,
        )
    )
    session.execute(
        update(Datastore)
        .where(Datastore.id == datastore_id)
        .values(document_count=index.count_documents(session, datastore_id=datastore_id))
    )
    metrics.PAGES_PROCESSED.inc(len(documents))
    metrics.PAGE_FAILURES.inc(len(batch.failures))
    return paid


def require_paid(paid: int, fetched: int) -> None:
    """After the transaction that stored a batch has committed (what was paid for stays indexed): pause the run
    for credits when some fetched items were not paid for."""
    if paid < fetched:
        raise OutOfCredits(NO_CREDITS)
