"""The sync engine: Initializing → Syncing Metadata → Processing → Synced / Partially Synced / Failed,
or Paused (credits, rate limit, reconnect), resumable from its checkpoints after a crash.

* Listing: every (space, kind) is listed page by page — several spaces at once — and each listing page is
  stored together with the cursor of the next one, so a restart continues where the listing stopped. An item
  whose version is already indexed is unchanged: only its id is kept (an incremental sync neither fetches
  nor converts it). A listing page that brings bodies (a full or first sync lists with bodies in one pass;
  a listing of changes always brings them) is converted in its listing thread and its new or changed items
  are indexed in the same transaction as its cursor: such a run shows Processing while it lists, its total
  first the source's estimate ("about N pages"), exact once the listing ends.
* Processing: what is still pending (items listed without a body, failed before, or not paid for yet) in
  batches — fetch bodies, convert (process pool), then in ONE transaction charge credits, replace the
  documents and their chunks, and mark the items done. A killed worker therefore neither loses a page nor
  processes or charges one twice.
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
from bot.logs import bind_datastore, log_context
from bot.services import Services
from bot.sync import processing, resync
from bot.sync.convert import ConvertedDocument, Converter
from bot.sync.documents import Batch, require_paid, store_batch
from bot.sync.listing import ListedPage, ListingTask, ParallelListing
from bot.sync.source import ContentRef, FetchedContent, Source, SpaceRef
from storage import search_index as index
from storage import sync_runs as runs
from storage.models import Datastore, SyncRun, utcnow
from storage.states import (
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
            processing.process_pending(self, run_id, source)
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

    def owned(self, session: Session, run_id: int) -> tuple[SyncRun, Datastore]:
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
            run, datastore = self.owned(session, run_id)
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
            run, datastore = self.owned(session, run_id)
            chosen = [(space.id, space.key, space.name) for space in spaces]
            resync.plan_spaces(session, run, datastore, chosen, tuple(source.kinds), self.clock())
            run.spaces_total = len(spaces)
            run.phase, datastore.status = RunPhase.SYNCING_METADATA, DatastoreStatus.SYNCING_METADATA

    # --- Syncing Metadata, and one-pass listing ------------------------------------------------------------
    def _enumerate(self, run_id: int, source: Source) -> None:
        with self.services.sessions.begin() as session:
            run, datastore = self.owned(session, run_id)
            if run.listing_finished:
                return
            known = {} if run.kind == RunKind.FULL else index.document_versions(session, datastore_id=datastore.id)
            spaces = runs.run_spaces(session, run_id=run_id)
            names = {s.space_id: (s.space_key, s.space_name) for s in spaces}
            bodies = run.lists_bodies
            todo = [
                ListingTask(s.space_id, s.kind, s.cursor, s.changes_since, with_bodies=bodies)
                for s in spaces
                if not s.done
            ]
            if not run.lists_everything:
                # A listing of changes (a second or so): the biggest listings first, the likeliest to change and
                # so to take a second request, which they get while the threads are still free. A listing of
                # everything keeps each space's kinds together, so the thread's "N of M spaces" moves steadily.
                sizes = index.counts_by_space(session, datastore_id=datastore.id)
                todo.sort(key=lambda task: -sizes.get((task.space_id, task.kind), 0))
            count = bodies and not run.total_estimated
            if (bodies or not run.lists_everything) and run.processing_started_at is None:
                run.processing_started_at = self.clock()  # it indexes while it lists: its rate counts from here
            team_id = datastore.team_id
        if count:
            estimate = source.estimate([SpaceRef(space_id, *name) for space_id, name in names.items()])
            with self.services.sessions.begin() as session:
                run, datastore = self.owned(session, run_id)
                run.to_process, run.total_estimated = estimate or 0, True
                run.phase, datastore.status = RunPhase.PROCESSING, DatastoreStatus.PROCESSING
        listing = ParallelListing(
            source, threads=self.options.metadata_threads, prepare=lambda fetched: self._convert(fetched, known)
        )
        for pages in listing.groups(todo):
            self._store_listing(run_id, team_id, pages, known, names)
        with self.services.sessions.begin() as session:
            run, datastore = self.owned(session, run_id)
            if not run.lists_everything:
                resync.add_failed_items(session, run, datastore.id)
            spaces = runs.run_spaces(session, run_id=run_id)
            run.enumeration_complete = all(s.done and s.error is None for s in spaces)
            run.spaces_done = len({s.space_id for s in spaces if s.done})
            run.to_process = sum(runs.count_items(session, run_id=run_id).values())  # exact now
            run.total_estimated, run.listing_finished = False, True
            run.phase, datastore.status = RunPhase.PROCESSING, DatastoreStatus.PROCESSING
            if run.processing_started_at is None:
                run.processing_started_at = self.clock()

    def _convert(
        self, fetched: list[FetchedContent], known: dict[str, tuple[int, str]]
    ) -> tuple[list[FetchedContent], list[ConvertedDocument]]:
        """A listing thread's share: the new or changed items among a listing page's bodies, converted."""
        todo = [f for f in fetched if (seen := known.get(f.ref.source_id)) is None or seen[0] != f.ref.version]
        return todo, self.converter.convert([(f.ref.source_id, f.ref.title, f.body) for f in todo])

    def _store_listing(
        self,
        run_id: int,
        team_id: str,
        pages: Sequence[ListedPage],
        known: dict[str, tuple[int, str]],
        names: dict[str, tuple[str, str]],
    ) -> None:
        """One transaction for a group of listing pages: their new or changed items (the work list), the ids
        of the unchanged ones, each space's next cursor (the checkpoint) and the items that came with their
        bodies, indexed (Done) as far as credits pay for them."""
        listed_rows: list[runs.ItemRow] = []
        with self.services.sessions.begin() as session:
            run, _datastore = self.owned(session, run_id)
            listed = runs.run_spaces(session, run_id=run_id, space_ids=[page.space_id for page in pages])
            checkpoints = {(space.space_id, space.kind): space for space in listed}  # one query, not one a page
            bodied: dict[str, tuple[FetchedContent, ConvertedDocument]] = {}
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
                listed_rows.extend(self._item_row(ref, known) for ref in page.refs)
                space.cursor, space.done = page.next_cursor, page.next_cursor is None
                bodied.update({f.ref.source_id: (f, c) for f, c in zip(page.fetched, page.converted, strict=True)})
            # The group's items in one statement each (not one a listing page: each would flush the checkpoints).
            same = [row.source_id for row in listed_rows if row.state == ItemState.UNCHANGED]
            runs.add_items(session, run_id=run_id, items=[r for r in listed_rows if r.state == ItemState.PENDING])
            runs.add_seen(session, run_id=run_id, source_ids=same)
            session.execute(
                update(SyncRun)
                .where(SyncRun.id == run_id)
                .values(found=SyncRun.found + len(listed_rows), unchanged=SyncRun.unchanged + len(same))
            )
            # Only items still pending: one listed twice (moved while listing) is indexed and charged once.
            pending = runs.pending_among(session, run_id=run_id, source_ids=list(bodied))
            fetched = [bodied[source_id][0] for source_id in bodied if source_id in pending]
            converted = [bodied[source_id][1] for source_id in bodied if source_id in pending]
            paid = store_batch(
                session,
                Batch(fetched, converted),
                run_id=run_id,
                datastore_id=run.datastore_id,
                team_id=team_id,
                names=names,
                cost_per_page=self.options.cost_per_page,
                now=self.clock(),
            )
        require_paid(paid, len(fetched))

    @staticmethod
    def _item_row(ref: ContentRef, known: dict[str, tuple[int, str]]) -> runs.ItemRow:
        seen = known.get(ref.source_id)
        state = ItemState.UNCHANGED if seen is not None and seen[0] == ref.version else ItemState.PENDING
        return runs.ItemRow(
            ref.source_id, ref.kind, ref.space_id, ref.title, ref.version, ref.last_modified, ref.webui, state
        )

    # --- the end of a run -----------------------------------------------------------------------------------
    def _finish(self, run_id: int) -> RunState:
        with self.services.sessions.begin() as session:
            run, datastore = self.owned(session, run_id)
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
            run, datastore = self.owned(session, run_id)
            self._close(
                run, datastore, RunOutcome.FAILED, reason, index.count_documents(session, datastore_id=datastore.id)
            )
        return RunState.FINISHED

    def _pause(self, run_id: int, kind: PauseKind, reason: str, *, until: datetime | None = None) -> RunState:
        with self.services.sessions.begin() as session:
            run, datastore = self.owned(session, run_id)
            run.state, run.pause_kind, run.reason, run.paused_until = RunState.PAUSED, kind, reason, until
            run.lease_owner, run.lease_expires_at = None, None
            datastore.status, datastore.status_detail = DatastoreStatus.PAUSED, reason
        metrics.SYNC_RUNS.labels(outcome=RunState.PAUSED).inc()
        logger.info("sync run %s: paused (%s) — %s", run_id, kind, reason)
        return RunState.PAUSED
