"""The sync engine: Initializing → Syncing Metadata → Processing → Synced / Partially Synced / Failed,
or Paused (credits, rate limit, reconnect), resumable from its checkpoints after a crash.

* Metadata: every (space, kind) is listed page by page — several spaces at once — and each listing page is
  stored together with the cursor of the next one, so a restart continues where the listing stopped. An item
  whose version is already indexed is unchanged: only its id is kept (an incremental sync neither fetches
  nor converts it).
* Processing: pending items in batches — fetch bodies, convert (process pool), then in ONE transaction charge
  credits, replace the documents and their chunks, and mark the items done. A killed worker therefore
  neither loses a page nor processes or charges one twice.
* Deletions are pruned only when every space was listed completely; a failed listing never deletes anything
  (a listing that errs, loops or follows a bad next link ends as an error page: see bot.sync.listing).
* Errors: a permanent refusal by Atlassian (ReconnectRequired) pauses the run for reconnect, with the reason;
  a rate limit pauses it until the reset; any other Atlassian error fails it, with the (safe) reason.
Every transaction renews the run's lease; a worker that lost its lease stops.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session, object_session

from bot import metrics
from bot.errors import AtlassianError, ConfigurationError, LeaseLost, OutOfCredits, RateLimited, ReconnectRequired
from bot.logs import ContextThreadPoolExecutor, bind_datastore, log_context
from bot.services import Services
from bot.sync import resync
from bot.sync.convert import ConvertedDocument, Converter
from bot.sync.documents import document_inputs
from bot.sync.listing import ListedPage, ListingTask, ParallelListing
from bot.sync.source import ContentRef, FetchedContent, ItemFailure, ItemGone, Source
from storage import search_index as index
from storage import sync_runs as runs
from storage.credits import charge
from storage.models import Datastore, SyncRun, utcnow
from storage.states import (
    LISTING_PHASES,
    DatastoreStatus,
    ItemState,
    PauseKind,
    RunKind,
    RunOutcome,
    RunPhase,
    RunState,
)

__all__ = ["EngineOptions", "SyncEngine"]

logger = logging.getLogger(__name__)

NO_PAGES = "the connected account can see no pages in the selected spaces"
RECONNECT = "The Confluence connection needs to be connected again."
#: How far this machine's clock may be ahead of the source's when an answer carries no time of its own.
NO_DATE_SKEW = timedelta(hours=1)


@dataclass(frozen=True)
class EngineOptions:
    batch_size: int = 250
    pipeline_depth: int = 3  # batches fetched and converted ahead of the one being stored
    metadata_threads: int = 16
    lease: timedelta = timedelta(seconds=60)
    cost_per_page: int = 1


class SyncEngine:
    def __init__(
        self,
        services: Services,
        source_for: Callable[[Datastore], Source],
        converter: Converter,
        *,
        owner: str,
        options: EngineOptions | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.services, self.source_for, self.converter = services, source_for, converter
        self.owner, self.options, self.clock = owner, options or EngineOptions(), clock

    # --- the run ------------------------------------------------------------------------------------------
    def run(self, run_id: int) -> RunState:
        """Drive one claimed run as far as it can go; returns the run's state afterwards."""
        with log_context(run_id=run_id):
            return self._run(run_id)

    def _run(self, run_id: int) -> RunState:
        source: Source | None = None
        try:
            datastore, selected, listed = self._start(run_id)
            bind_datastore(datastore.id)
            source = self.source_for(datastore)
            if not listed:
                self._record_spaces(run_id, source, selected)
            self._enumerate(run_id, source)
            self._process(run_id, source)
            return self._finish(run_id)
        except LeaseLost:
            logger.warning("sync run %s was taken over by another worker; stopping here", run_id)
            return RunState.RUNNING
        except ReconnectRequired as exc:
            # Every permanent refusal (a token refusal, access to the site lost): paused until someone reconnects.
            return self._pause(run_id, PauseKind.RECONNECT, str(exc) or RECONNECT)
        except RateLimited as exc:
            if exc.quota:  # the app's own hourly points, counted by every process
                return self._pause(run_id, PauseKind.QUOTA, str(exc), until=exc.until)
            when = f"{exc.until:%H:%M} UTC"
            return self._pause(
                run_id, PauseKind.RATE_LIMIT, f"Confluence rate limit — resuming at {when}.", until=exc.until
            )
        except OutOfCredits as exc:
            return self._pause(run_id, PauseKind.CREDITS, str(exc))
        except AtlassianError as exc:
            return self._fail(run_id, f"Confluence could not be read: {exc}")
        except ConfigurationError as exc:
            return self._fail(run_id, f"The bot is not set up to read Confluence: {exc.message}")
        finally:
            if source is not None:
                source.close()

    def _owned(self, session: Session, run_id: int) -> tuple[SyncRun, Datastore]:
        """The run (lease renewed) and its datastore; LeaseLost if another worker holds the run now."""
        now = self.clock()
        if not runs.renew_lease(session, run_id=run_id, owner=self.owner, now=now, lease=self.options.lease):
            raise LeaseLost(f"run {run_id}")
        run = session.get(SyncRun, run_id, populate_existing=True)
        assert run is not None
        datastore = session.get(Datastore, run.datastore_id)
        assert datastore is not None
        return run, datastore

    # --- Initializing ---------------------------------------------------------------------------------------
    def _start(self, run_id: int) -> tuple[Datastore, list[str] | None, bool]:
        """Mark the run running; returns its datastore, the chosen space ids (None: all) and whether the
        spaces to list were already recorded (a resumed run)."""
        with self.services.sessions.begin() as session:
            run, datastore = self._owned(session, run_id)
            if run.started_at is None:
                run.started_at = self.clock()
            run.state, run.reason, run.pause_kind, run.paused_until = RunState.RUNNING, None, None, None
            if run.phase == RunPhase.INITIALIZING:
                datastore.status = DatastoreStatus.INITIALIZING
            items = (datastore.spaces or {}).get("items", [])
            selected = None if datastore.share_all else [str(s["id"]) for s in items]
            listed = bool(runs.run_spaces(session, run_id=run_id))
            session.expunge(datastore)
        return datastore, selected, listed

    def _record_spaces(self, run_id: int, source: Source, selected: list[str] | None) -> None:
        spaces = source.spaces(selected)
        with self.services.sessions.begin() as session:
            run, datastore = self._owned(session, run_id)
            chosen = [(space.id, space.key, space.name) for space in spaces]
            resync.plan_spaces(session, run, datastore, chosen, tuple(source.kinds), self.clock())
            run.spaces_total = len(spaces)
            run.phase, datastore.status = RunPhase.SYNCING_METADATA, DatastoreStatus.SYNCING_METADATA

    # --- Syncing Metadata -----------------------------------------------------------------------------------
    def _enumerate(self, run_id: int, source: Source) -> None:
        with self.services.sessions.begin() as session:
            run, datastore = self._owned(session, run_id)
            if run.phase not in LISTING_PHASES:
                return
            force = run.kind == RunKind.FULL
            known = {} if force else index.document_versions(session, datastore_id=datastore.id)
            todo = [
                ListingTask(s.space_id, s.kind, s.cursor, s.changes_since)
                for s in runs.run_spaces(session, run_id=run_id)
                if not s.done
            ]
        for pages in ParallelListing(source, threads=self.options.metadata_threads).groups(todo):
            self._store_listing(run_id, pages, known)
        with self.services.sessions.begin() as session:
            run, datastore = self._owned(session, run_id)
            if not run.lists_everything:
                resync.add_failed_items(session, run, datastore.id)
            spaces = runs.run_spaces(session, run_id=run_id)
            run.enumeration_complete = all(s.done and s.error is None for s in spaces)
            run.spaces_done = len({s.space_id for s in spaces if s.done})
            run.to_process = runs.count_items(session, run_id=run_id).get(ItemState.PENDING, 0)
            run.phase, datastore.status = RunPhase.PROCESSING, DatastoreStatus.PROCESSING
            run.processing_started_at = self.clock()

    def _store_listing(self, run_id: int, pages: Sequence[ListedPage], known: dict[str, tuple[int, str]]) -> None:
        """One transaction for a group of listing pages: their new or changed items (the work list), the ids
        of the unchanged ones, and each space's next cursor (the checkpoint)."""
        found = unchanged = 0
        with self.services.sessions.begin() as session:
            self._owned(session, run_id)
            listed = runs.run_spaces(session, run_id=run_id, space_ids=[page.space_id for page in pages])
            checkpoints = {(space.space_id, space.kind): space for space in listed}  # one query, not one a page
            for page in pages:
                space = checkpoints[(page.space_id, page.kind)]
                if page.error is not None:
                    logger.warning(
                        "listing space %s (%s) of run %s failed: %s", page.space_id, page.kind, run_id, page.error
                    )
                    space.done, space.error = True, page.error
                    continue
                if space.listed_from is None:  # its first answer: what changes after it is the next run's
                    # (this machine's clock when Atlassian sent no Date, an hour early for its possible skew)
                    space.listed_from = page.as_of or self.clock() - NO_DATE_SKEW
                rows = [self._item_row(ref, known) for ref in page.refs]
                same = [row.source_id for row in rows if row.state == ItemState.UNCHANGED]
                runs.add_items(session, run_id=run_id, items=[row for row in rows if row.state == ItemState.PENDING])
                runs.add_seen(session, run_id=run_id, source_ids=same)
                found, unchanged = found + len(rows), unchanged + len(same)
                space.cursor, space.done = page.next_cursor, page.next_cursor is None
            session.execute(
                update(SyncRun)
                .where(SyncRun.id == run_id)
                .values(found=SyncRun.found + found, unchanged=SyncRun.unchanged + unchanged)
            )

    @staticmethod
    def _item_row(ref: ContentRef, known: dict[str, tuple[int, str]]) -> runs.ItemRow:
        seen = known.get(ref.source_id)
        state = ItemState.UNCHANGED if seen is not None and seen[0] == ref.version else ItemState.PENDING
        return runs.ItemRow(
            ref.source_id, ref.kind, ref.space_id, ref.title, ref.version, ref.last_modified, ref.webui, state
        )

    # --- Processing -----------------------------------------------------------------------------------------
    def _process(self, run_id: int, source: Source) -> None:
        """Pipelined: while one batch is stored, the next ones are fetched and converted (threads waiting on
        the network and the conversion pool), so the slowest stage, not their sum, sets the pace."""
        window = self.options.batch_size * self.options.pipeline_depth
        with ContextThreadPoolExecutor(self.options.pipeline_depth, thread_name_prefix="sync-prep") as prep:
            while True:
                with self.services.sessions.begin() as session:
                    _run, datastore = self._owned(session, run_id)
                    items = runs.pending_items(session, run_id=run_id, limit=window)
                    refs = [
                        ContentRef(i.source_id, i.kind, i.space_id, i.title, i.version, i.last_modified, i.webui)
                        for i in items
                    ]
                    team_id, datastore_id = datastore.team_id, datastore.id
                    names = {s.space_id: (s.space_key, s.space_name) for s in runs.run_spaces(session, run_id=run_id)}
                if not refs:
                    return
                size = self.options.batch_size
                batches = [refs[start : start + size] for start in range(0, len(refs), size)]
                prepared = [prep.submit(self._prepare, source, batch) for batch in batches]
                for batch, future in zip(batches, prepared, strict=True):
                    results, converted = future.result()
                    where = {ref.source_id: (ref.kind, ref.space_id) for ref in batch}
                    self._store(run_id, datastore_id, team_id, results, converted, names, where)

    def _prepare(
        self, source: Source, refs: Sequence[ContentRef]
    ) -> tuple[list[FetchedContent | ItemFailure | ItemGone], list[ConvertedDocument]]:
        """Fetch one batch's bodies and convert them (no database work: that stays in the storing thread)."""
        results: list[FetchedContent | ItemFailure | ItemGone] = []
        for kind in sorted({ref.kind for ref in refs}):
            results.extend(source.fetch([ref for ref in refs if ref.kind == kind]))
        fetched = [r for r in results if isinstance(r, FetchedContent)]
        return results, self.converter.convert([(f.ref.source_id, f.ref.title, f.body) for f in fetched])

    def _store(
        self,
        run_id: int,
        datastore_id: int,
        team_id: str,
        results: Sequence[FetchedContent | ItemFailure | ItemGone],
        converted: Sequence[ConvertedDocument],
        names: dict[str, tuple[str, str]],
        where: dict[str, tuple[str, str]],
    ) -> None:
        """Store one batch in one transaction; ``where`` is each item's (kind, space id), kept with a failure so
        a resync that lists only changes retries it."""
        fetched = [r for r in results if isinstance(r, FetchedContent)]
        failures = [r for r in results if isinstance(r, ItemFailure)]
        gone = [r.source_id for r in results if isinstance(r, ItemGone)]
        with self.services.sessions.begin() as session:
            self._owned(session, run_id)
            paid = charge(
                session,
                team_id=team_id,
                units=len(fetched),
                cost_per_unit=self.options.cost_per_page,
                now=self.clock(),
                run_id=run_id,
            ).paid
            documents = document_inputs(list(zip(fetched, converted, strict=True))[:paid], names)
            index.bulk_replace_documents(session, datastore_id, documents)
            for failure in failures:
                kind, space_id = where.get(failure.source_id, (None, None))
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
            states.update({failure.source_id: ItemState.FAILED for failure in failures})
            states.update({source_id: ItemState.GONE for source_id in gone})
            if gone:
                index.delete_documents(session, datastore_id=datastore_id, source_ids=gone)
            runs.set_item_states(session, run_id=run_id, states=states)
            session.execute(
                update(SyncRun)
                .where(SyncRun.id == run_id)
                .values(
                    processed=SyncRun.processed + len(documents),
                    failed=SyncRun.failed + len(failures),
                    credits_charged=SyncRun.credits_charged + paid * self.options.cost_per_page,
                )
            )
            session.execute(
                update(Datastore)
                .where(Datastore.id == datastore_id)
                .values(document_count=index.count_documents(session, datastore_id=datastore_id))
            )
        metrics.PAGES_PROCESSED.inc(len(documents))
        metrics.PAGE_FAILURES.inc(len(failures))
        if paid < len(fetched):
            raise OutOfCredits("Out of ingestion credits — add credits or set up auto top-off with /datastore credits.")

    # --- the end of a run -----------------------------------------------------------------------------------
    def _finish(self, run_id: int) -> RunState:
        with self.services.sessions.begin() as session:
            run, datastore = self._owned(session, run_id)
            run.deleted = resync.prune(session, run, datastore.id)
            resync.leave_watermarks(session, run, datastore)
            documents = index.count_documents(session, datastore_id=datastore.id)
            if not run.lists_everything:  # it listed changes only: every other document is unchanged
                run.unchanged = max(run.unchanged, documents - run.processed)
            reason: str | None
            if run.found == 0 and run.enumeration_complete and (run.lists_everything or documents == 0):
                outcome, reason = RunOutcome.FAILED, NO_PAGES
            elif run.failed or not run.enumeration_complete:
                outcome = RunOutcome.PARTIALLY_SYNCED
                reason = None if run.enumeration_complete else "some spaces could not be listed, so nothing was deleted"
            else:
                outcome, reason = RunOutcome.SYNCED, None
            self._close(run, datastore, outcome, reason, documents)
            return run.state

    def _close(
        self, run: SyncRun, datastore: Datastore, outcome: RunOutcome, reason: str | None, documents: int
    ) -> None:
        run.state, run.outcome, run.reason, run.phase = RunState.FINISHED, outcome, reason, RunPhase(outcome)
        run.finished_at = self.clock()
        run.lease_owner, run.lease_expires_at = None, None
        datastore.status, datastore.status_detail, datastore.document_count = (
            DatastoreStatus(outcome),
            reason,
            documents,
        )
        session = object_session(run)
        assert session is not None
        runs.forget_work(session, run_id=run.id)
        metrics.SYNC_RUNS.labels(outcome=outcome).inc()
        log = logger.warning if outcome == RunOutcome.FAILED else logger.info
        log(
            "sync run %s of datastore %s: %s — %d processed, %d failed, %d unchanged, %d deleted%s",
            run.id,
            datastore.id,
            outcome,
            run.processed,
            run.failed,
            run.unchanged,
            run.deleted,
            f" ({reason})" if reason else "",
        )

    def fail(self, run_id: int, reason: str) -> RunState:
        """End a run this worker holds as Failed with ``reason`` (the worker gives up after repeated errors)."""
        return self._fail(run_id, reason)

    def _fail(self, run_id: int, reason: str) -> RunState:
        with self.services.sessions.begin() as session:
            run, datastore = self._owned(session, run_id)
            self._close(
                run, datastore, RunOutcome.FAILED, reason, index.count_documents(session, datastore_id=datastore.id)
            )
        return RunState.FINISHED

    def _pause(self, run_id: int, kind: PauseKind, reason: str, *, until: datetime | None = None) -> RunState:
        with self.services.sessions.begin() as session:
            run, datastore = self._owned(session, run_id)
            run.state, run.pause_kind, run.reason, run.paused_until = RunState.PAUSED, kind, reason, until
            run.lease_owner, run.lease_expires_at = None, None
            datastore.status, datastore.status_detail = DatastoreStatus.PAUSED, reason
        metrics.SYNC_RUNS.labels(outcome=RunState.PAUSED).inc()
        logger.info("sync run %s: paused (%s) — %s", run_id, kind, reason)
        return RunState.PAUSED
