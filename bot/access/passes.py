"""Permission passes (issue #12 step 3): each per-person datastore's ACLs, read from Confluence with the
connection's token on their own schedule (restriction changes bump no version, so syncs never see them).

* **Full pass** (due by the cadence of bot/access/facts.next_pass_in): for each space holding the datastore's
  documents, who may view it, then one expanded CQL listing of its content (bot/confluence/permissions); each
  document's ACL is stored with ``store_document_acls`` (``acl_id`` and ``acl_checked_at``) one space at a
  time; a document its space's finished listing did not carry becomes unknown (hidden: the connection lost
  sight of it, or it is gone). A complete pass then prunes the ACLs no document uses any more.
* **Incomplete pass** (RateLimited, IncompleteListing, AtlassianUnavailable): what it finished is stored (the
  spaces done, and of the space it was in, the documents whose whole chain was listed), nothing else changes,
  nothing is pruned, and it resumes later (at the rate limit's end, or after a short wait) with the spaces
  it has not done.
* **New documents** (a sync added documents: ``acl_checked_at`` NULL, hidden until checked): between full
  passes, those documents alone are checked with ``id in (…)`` (2–3 requests per 100), at most every
  NEW_DOCUMENTS_GAP. ACLs are not set at ingest: the sync's v2 listing carries no restrictions.

Every request draws from the process's PermissionLane; when the lane is spent the pass waits for it (up to
LANE_WAIT, its lease renewed), so passes together take no more than the lane. No database session is open
across a request: facts are read first, then stored in a short transaction. Leases (storage/permission_passes)
keep a datastore's pass on one worker at a time.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx

from bot.access.facts import FRESHNESS_BOUND, document_acls, finished_acls, next_pass_in
from bot.access.filter import store_document_acls
from bot.access.model import Acl
from bot.access.pass_budget import MeteredBudget
from bot.atlassian.tokens import TokenSource
from bot.confluence.budget import PermissionLane
from bot.confluence.client import ConfluenceClient
from bot.confluence.permissions import ContentFacts, PermissionReader
from bot.errors import (
    AtlassianRequestError,
    AtlassianUnavailable,
    IncompleteListing,
    LeaseLost,
    RateLimited,
    ReconnectRequired,
)
from bot.services import Services
from storage import permission_passes as passes
from storage.acl import prune_unused_acls
from storage.connections import get_connection
from storage.models import Datastore, utcnow
from storage.states import ConnectionStatus

__all__ = ["PASS_LEASE", "MeteredBudget", "PassReport", "PermissionPasses"]

logger = logging.getLogger(__name__)

PASS_LEASE = timedelta(minutes=30)
#: The wait before an incomplete pass resumes when Atlassian did not say how long.
RESUME_AFTER = timedelta(minutes=5)
#: How long a new document Confluence's search does not return is asked for again (then it waits, hidden, for
#: the next full pass).
NEW_DOCUMENTS_GRACE = timedelta(minutes=10)
#: The soonest an incomplete pass resumes.
RESUME_MIN = timedelta(minutes=1)
#: A pass waits for the lane to refill when that takes at most this long (renewing its lease first); a longer
#: wait ends the attempt incomplete. Waiting, rather than stopping, is what lets a space whose listing costs more
#: than the lane holds at once finish: a stopped pass starts that space's listing again.
LANE_WAIT = timedelta(minutes=15)


@dataclass(frozen=True)
class PassReport:
    datastore_id: int
    outcome: str
    documents: int  # documents whose ACL this attempt stored
    points: int
    requests: int
    next_due_at: datetime | None
    error: str | None = None


@dataclass
class _Attempt:
    datastore_id: int
    connection_id: int
    cloud_id: str
    spaces: list[tuple[str, str]]
    done: list[str]
    full: bool
    begun_at: datetime  # documents indexed after this may have been missed: a pass is due for them again
    stored: int = 0
    spaces_stored: int = 0
    marked_points: int = 0  # points and requests already recorded with the spaces done
    marked_requests: int = 0


def _lookups(reader: PermissionReader, facts: dict[str, ContentFacts]) -> dict[str, tuple[str, ...]]:
    """The read restriction of every ancestor the listing did not carry, each read once."""
    found: dict[str, tuple[str, ...]] = {}
    for fact in facts.values():
        for ancestor in fact.ancestors or ():
            if ancestor not in facts and ancestor not in found:
                found[ancestor] = reader.restriction(ancestor)
    return found


def pass_owner() -> str:
    return f"{socket.gethostname()[:32]}:{os.getpid()}:passes:{uuid.uuid4().hex[:6]}"


class PermissionPasses:
    """Runs the due permission passes of every per-person datastore."""

    def __init__(
        self,
        services: Services,
        tokens: TokenSource,
        lane: PermissionLane,
        *,
        owner: str | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], datetime] = utcnow,
        lease: timedelta = PASS_LEASE,
        bound: timedelta = FRESHNESS_BOUND,
        lane_wait: timedelta = LANE_WAIT,
    ) -> None:
        self.lane_wait = lane_wait
        self.services, self.tokens, self.lane = services, tokens, lane
        self.owner = owner or pass_owner()
        self.transport, self.clock, self.lease, self.bound = transport, clock, lease, bound
        self._stopping = threading.Event()
        self._sleep = sleep or self._stopping.wait

    def stop(self) -> None:
        """End the running pass at its next request or wait (incomplete: it resumes in a minute, anywhere)."""
        self._stopping.set()

    def sleep(self, seconds: float) -> None:
        """Wait (for the lane, or Atlassian's Retry-After), and stop there when :meth:`stop` was called."""
        self._sleep(seconds)
        self._check_stopping()

    def _check_stopping(self) -> None:
        if self._stopping.is_set():
            raise RateLimited(self.clock(), "The bot is stopping; the permission pass resumes later.")

    # ----- claiming ------------------------------------------------------------------------------
    def run_due(self, limit: int = 10) -> list[PassReport]:
        """Claim and run every due pass (at most ``limit``), one after another."""
        now = self.clock()
        with self.services.sessions.begin() as session:
            passes.ensure_pass_rows(session, now=now)
            due = passes.due_pass_ids(session, now=now, limit=limit)
        reports = []
        for datastore_id in due:
            if self._stopping.is_set():
                break
            with self.services.sessions.begin() as session:
                claimed = passes.claim_pass(
                    session, datastore_id=datastore_id, owner=self.owner, now=self.clock(), lease=self.lease
                )
            if claimed:
                reports.append(self.run_claimed(datastore_id))
        return reports

    def run_claimed(self, datastore_id: int) -> PassReport:
        """Run the pass whose lease this object holds, and release it with the outcome."""
        budget = MeteredBudget(
            self.lane,
            clock=self.clock,
            sleep=self.sleep,
            max_wait=self.lane_wait,
            before_wait=lambda: self._renew(datastore_id),
            before_take=self._check_stopping,
        )
        attempt = self._prepare(datastore_id)
        if attempt is None:
            return self._finish(datastore_id, passes.PassOutcome.FAILED, budget, 0, error="no usable connection")
        client = ConfluenceClient(
            self.services.settings,
            self.tokens,
            attempt.connection_id,
            attempt.cloud_id,
            transport=self.transport,
            sleep=self.sleep,
            clock=self.clock,
            budget=budget,
        )
        reader = PermissionReader(client.gateway)
        full = passes.PassOutcome.COMPLETE if attempt.full else passes.PassOutcome.NEW_DOCUMENTS
        try:
            if attempt.full:
                self._full(attempt, reader, budget)
            else:
                self._new_documents(attempt, reader)
        except (RateLimited, IncompleteListing, AtlassianUnavailable) as exc:
            later = self.clock() + RESUME_MIN
            resume = max(exc.until, later) if isinstance(exc, RateLimited) else self.clock() + RESUME_AFTER
            outcome = passes.PassOutcome.INCOMPLETE if attempt.full else full
            logger.info("permission pass of datastore %s incomplete: %s", datastore_id, exc)
            return self._finish(datastore_id, outcome, budget, reader.requests, attempt, str(exc), resume)
        except ReconnectRequired as exc:
            outcome = passes.PassOutcome.FAILED if attempt.full else full
            return self._finish(datastore_id, outcome, budget, reader.requests, attempt, str(exc))
        except LeaseLost:
            logger.info("permission pass of datastore %s: another worker took it over", datastore_id)
            return PassReport(datastore_id, passes.PassOutcome.INCOMPLETE, attempt.stored, budget.points, 0, None)
        finally:
            client.close()
        return self._finish(datastore_id, full, budget, reader.requests, attempt)

    # ----- the work ------------------------------------------------------------------------------
    def _prepare(self, datastore_id: int) -> _Attempt | None:
        now = self.clock()
        with self.services.sessions.begin() as session:
            datastore = session.get(Datastore, datastore_id)
            connection = (
                get_connection(session, connection_id=datastore.connection_id)
                if datastore is not None and datastore.connection_id is not None
                else None
            )
            if connection is None or connection.status != ConnectionStatus.ACTIVE:
                return None
            full = passes.full_pass_due(session, datastore_id=datastore_id, now=now)
            done = passes.start_pass(session, datastore_id=datastore_id, now=now) if full else []
            spaces = passes.datastore_spaces(session, datastore_id=datastore_id)
            return _Attempt(datastore_id, connection.id, connection.cloud_id, spaces, done, full, now)

    def _full(self, attempt: _Attempt, reader: PermissionReader, budget: MeteredBudget) -> None:
        for space_id, space_key in attempt.spaces:
            if space_id in attempt.done:
                continue
            points, requests = budget.points, reader.requests
            self._space(attempt, reader, space_id, space_key)
            with self.services.sessions.begin() as session:
                if not passes.mark_space_done(
                    session,
                    datastore_id=attempt.datastore_id,
                    owner=self.owner,
                    space_id=space_id,
                    points=budget.points - points,
                    requests=reader.requests - requests,
                ):
                    raise LeaseLost(f"permission pass of datastore {attempt.datastore_id} taken over")
            attempt.done.append(space_id)
            attempt.spaces_stored += 1
            attempt.marked_points += budget.points - points
            attempt.marked_requests += reader.requests - requests

    def _space(self, attempt: _Attempt, reader: PermissionReader, space_id: str, space_key: str) -> None:
        """One space of a full pass: its view permission, its content listing, then its documents' ACLs."""
        readers = reader.space_readers(space_id)
        facts: dict[str, ContentFacts] = {}
        try:
            for fact in reader.space_content(space_key):
                facts[fact.id] = fact
        except AtlassianRequestError:  # the space cannot be listed: every document of it becomes unknown
            facts.clear()
        except (RateLimited, IncompleteListing, AtlassianUnavailable):
            self._store(attempt, space_id, lambda wanted: dict(finished_acls(facts, readers, wanted)))
            raise
        # Ancestors the listing did not carry are read now, before any session opens.
        lookup = _lookups(reader, facts)

        def everything(wanted: set[str]) -> dict[str, Acl | None]:
            return {**dict.fromkeys(wanted), **document_acls(facts, readers, wanted, lookup.__getitem__)}

        self._store(attempt, space_id, everything)

    def _new_documents(self, attempt: _Attempt, reader: PermissionReader) -> None:
        with self.services.sessions() as session:
            unchecked = passes.unchecked_source_ids(session, datastore_id=attempt.datastore_id)
        keys = dict(attempt.spaces)
        for space_id, ids in unchecked.items():
            if space_id:
                self._some(attempt, reader, space_id, keys.get(space_id, ""), ids)
            else:  # no space to read its permissions from: unknown until it has one
                self._settle(attempt, ids, self.clock())

    def _some(self, attempt: _Attempt, reader: PermissionReader, space_id: str, key: str, ids: list[str]) -> None:
        """Just these documents of one space (a sync added them)."""
        readers = reader.space_readers(space_id)
        facts = {fact.id: fact for fact in reader.content(key, ids)}
        missing = sorted({a for fact in facts.values() for a in fact.ancestors or () if a not in facts})
        facts.update({fact.id: fact for fact in reader.content(key, missing)})  # ancestors: one search per 100
        lookup = _lookups(reader, facts)
        # Ids Confluence did not return stay unchecked for a while (its search may not list a brand-new page yet),
        # then they are hidden until the next full pass.
        self._store(attempt, space_id, lambda wanted: dict(document_acls(facts, readers, wanted, lookup.__getitem__)))
        self._settle(attempt, [i for i in ids if i not in facts], self.clock() - NEW_DOCUMENTS_GRACE)

    def _settle(self, attempt: _Attempt, ids: list[str], indexed_before: datetime) -> None:
        if ids:
            with self.services.sessions.begin() as session:
                passes.settle_unchecked(
                    session,
                    datastore_id=attempt.datastore_id,
                    source_ids=ids,
                    indexed_before=indexed_before,
                    now=self.clock(),
                )

    def _store(self, attempt: _Attempt, space_id: str, acls_for: Callable[[set[str]], dict[str, Acl | None]]) -> int:
        """Store the ACLs ``acls_for`` gives for the space's documents (one short transaction)."""
        now = self.clock()
        with self.services.sessions.begin() as session:
            wanted = passes.source_ids(session, datastore_id=attempt.datastore_id, space_id=space_id)
            acls = acls_for(wanted)
            stored = store_document_acls(session, datastore_id=attempt.datastore_id, acls=acls, checked_at=now)
            if not passes.renew_pass_lease(
                session, datastore_id=attempt.datastore_id, owner=self.owner, now=now, lease=self.lease
            ):
                raise LeaseLost(f"permission pass of datastore {attempt.datastore_id} taken over")
        attempt.stored += stored
        return stored

    def _renew(self, datastore_id: int) -> None:
        with self.services.sessions.begin() as session:
            if not passes.renew_pass_lease(
                session, datastore_id=datastore_id, owner=self.owner, now=self.clock(), lease=self.lease
            ):
                raise LeaseLost(f"permission pass of datastore {datastore_id} taken over")

    def _finish(
        self,
        datastore_id: int,
        outcome: str,
        budget: MeteredBudget,
        requests: int,
        attempt: _Attempt | None = None,
        error: str | None = None,
        resume: datetime | None = None,
    ) -> PassReport:
        now = self.clock()
        stored = attempt.stored if attempt is not None else 0
        points = budget.points - (attempt.marked_points if attempt is not None else 0)
        unmarked_requests = requests - (attempt.marked_requests if attempt is not None else 0)
        try:
            with self.services.sessions.begin() as session:
                row = session.get(passes.PermissionPass, datastore_id)
                next_due: datetime | None = resume if resume is not None else now + self.bound
                if outcome == passes.PassOutcome.NEW_DOCUMENTS and row is not None:
                    next_due = row.next_due_at
                if outcome == passes.PassOutcome.COMPLETE and row is not None:
                    prune_unused_acls(session, datastore_id=datastore_id)
                    others = passes.lane_points_of_last_passes(session) - row.last_points
                    total = row.points_so_far + points
                    next_due = now + next_pass_in(others + total, self.lane.points_per_hour, self.bound)
                if not passes.finish_pass(
                    session,
                    datastore_id=datastore_id,
                    owner=self.owner,
                    outcome=outcome,
                    next_due_at=next_due,
                    now=now,
                    checked_from=attempt.begun_at if attempt is not None else now,
                    points=points,
                    requests=unmarked_requests,
                    documents=stored,
                    error=error,
                ):
                    raise LeaseLost(f"permission pass of datastore {datastore_id} taken over")
        except LeaseLost:
            return PassReport(datastore_id, passes.PassOutcome.INCOMPLETE, stored, budget.points, requests, None)
        return PassReport(datastore_id, outcome, stored, budget.points, requests, next_due, error)
