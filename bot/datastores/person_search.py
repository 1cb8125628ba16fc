"""Per-person search of an "each" datastore (issue #12 step 5, design note "Per-person search").

Not linked to the datastore's site → nothing searched, a one-click link to connect. Linked → their principals →
the ACL ids they satisfy (:class:`~bot.access.visible_cache.VisibleAclCache`) → the SQL-filtered search → the
live check (:mod:`bot.access.live_check`) of candidates whose ACL is older than the freshness bound, as the
person, through the permission lane of the app-wide budget. Candidates the check drops are replaced from
further down the ranking, within :data:`MAX_ROUNDS` searches. Confluence unreachable → only fresh candidates,
and the answer says some could not be checked. The person's grant gone mid-search → nothing, connect again.

No database session is open while Confluence is asked.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.access.filter import visibility_for
from bot.access.live_check import CHECK_BATCH, AccessCheck, Candidate, LiveChecker, canonical_link, needs_check
from bot.access.model import AccessMode
from bot.access.people import LinkedPerson, PersonDirectory
from bot.access.visible_cache import VisibleAclCache
from bot.confluence.budget import PointsBudget
from bot.confluence.gateway import Gateway
from bot.errors import ReconnectRequired
from bot.services import Services
from storage.documents import Document
from storage.models import utcnow
from storage.search import SearchHit, search

__all__ = ["MAX_ROUNDS", "PersonAccess", "PersonResult", "PersonSearch", "Searcher"]

#: Searches per answer when live checks drop candidates (each asks for more of the ranking).
MAX_ROUNDS = 3
#: A check must not hold a search answer for long: short timeouts, one retry, and waits of at most a second.
CHECK_TIMEOUT = httpx.Timeout(5.0, connect=2.0)
CHECK_TRIES = 2
CHECK_WAIT_MAX = 1.0
#: The most candidates one answer's searches fetch (storage.search's own limit).
MAX_FETCH = 50


class PersonAccess(StrEnum):
    """What a per-person search could do for the person."""

    SEARCHED = "searched"  # the hits are what they may see
    NOT_LINKED = "not_linked"  # no link to this site: connect first
    RELINK = "relink"  # their link was refused mid-search: connect again


@dataclass(frozen=True, slots=True)
class Searcher:
    """The Slack person searching."""

    team_id: str
    user_id: str
    enterprise_id: str | None = None


@dataclass(frozen=True)
class PersonResult:
    access: PersonAccess
    hits: Sequence[SearchHit] = ()
    connect_url: str | None = None
    #: Some candidates could not be checked just now (Confluence down, rate limited): they are not shown.
    unchecked: bool = False
    #: Links without a title (document id → Confluence's base + tinyui; with ``check_all``, the id-only
    #: viewpage link for a hit Confluence gave none for).
    short_links: Mapping[int, str] = field(default_factory=dict)
    requests: int = 0
    points: int = 0


def _candidates(session: Session, document_ids: Sequence[int]) -> dict[int, Candidate]:
    if not document_ids:
        return {}
    rows = session.execute(
        select(Document.id, Document.source_id, Document.kind, Document.acl_checked_at).where(
            Document.id.in_(list(document_ids))
        )
    )
    return {row.id: Candidate(row.id, row.source_id, row.kind, row.acl_checked_at) for row in rows}


class PersonSearch:
    """Searches "each" datastores as the person; one per process (it holds the visible-ids cache)."""

    def __init__(
        self,
        services: Services,
        people: PersonDirectory,
        budget: PointsBudget,
        *,
        cache: VisibleAclCache | None = None,
        clock: Callable[[], datetime] = utcnow,
        transport: httpx.BaseTransport | None = None,
        gateway_factory: Callable[[LinkedPerson, str], Gateway] | None = None,
    ) -> None:
        self.services = services
        self.people = people
        self.budget = budget
        self.cache = cache or VisibleAclCache()
        self._clock = clock
        self._transport = transport
        self._gateway_factory = gateway_factory or self._gateway

    @property
    def bound(self) -> timedelta:
        return timedelta(minutes=self.services.settings.access_freshness_minutes)

    def _gateway(self, person: LinkedPerson, cloud_id: str) -> Gateway:
        return Gateway(
            self.services.settings,
            self.people.tokens,
            person.link_id,
            cloud_id,
            transport=self._transport,
            sleep=lambda seconds: time.sleep(min(seconds, CHECK_WAIT_MAX)),
            clock=self._clock,
            budget=self.budget,
            timeout=CHECK_TIMEOUT,
            max_tries=CHECK_TRIES,
        )

    def _connect(self, searcher: Searcher, datastore_id: int, access: PersonAccess) -> PersonResult:
        url = self.people.link_url(
            team_id=searcher.team_id,
            enterprise_id=searcher.enterprise_id,
            slack_user_id=searcher.user_id,
            datastore_id=datastore_id,
        )
        return PersonResult(access=access, connect_url=url)

    def search(
        self,
        *,
        datastore_id: int,
        cloud_id: str | None,
        query: str,
        searcher: Searcher,
        limit: int = 5,
        check_all: bool = False,
    ) -> PersonResult:
        """The person's hits for ``query`` (cleaned already). ``check_all`` checks every candidate, fresh or not
        (sharing: it confirms access now and brings Confluence's short links)."""
        person = (
            self.people.linked(team_id=searcher.team_id, slack_user_id=searcher.user_id, cloud_id=cloud_id)
            if cloud_id
            else None
        )
        if person is None:
            return self._connect(searcher, datastore_id, PersonAccess.NOT_LINKED)
        gateway = self._gateway_factory(person, cloud_id or "")
        try:
            return self._search(gateway, person, datastore_id, query, limit, check_all)
        except ReconnectRequired:  # their grant is gone (the link store forgets it): nothing is shown
            return self._connect(searcher, datastore_id, PersonAccess.RELINK)
        finally:
            gateway.close()

    def _search(
        self, gateway: Gateway, person: LinkedPerson, datastore_id: int, query: str, limit: int, check_all: bool
    ) -> PersonResult:
        checker = LiveChecker(gateway)
        # Groups read longer ago than the bound (or never) may admit more than Confluence does now: the synced
        # ACLs are then no proof, and every candidate is checked live as the person.
        read = person.principals_at
        unsure = read is None or self._clock() - (read if read.tzinfo else read.replace(tzinfo=UTC)) > self.bound
        state = _Gathered(limit=limit, check_all=check_all, bound=self.bound, unsure=unsure)
        # A few more than asked for: when some are stale, one check of up to CHECK_BATCH then usually fills the
        # answer even if Confluence drops one or two (a second round costs a search and another request).
        fetch = max(limit, CHECK_BATCH)
        for _round in range(MAX_ROUNDS):
            with self.services.sessions() as session:
                ids = self.cache.visible(session, datastore_id=datastore_id, principals=person.principals)
                visible = visibility_for(AccessMode.EACH, ids)
                hits = search(session, datastore_id=datastore_id, query=query, visible=visible, limit=fetch)
                new = [hit for hit in hits if hit.document_id not in state.decided]
                state.seen.update(_candidates(session, [hit.document_id for hit in new]))
            # No session from here on: Confluence is asked.
            now = self._clock()
            window, stale = state.window(new, now)
            check = checker.check(list(stale.values())) if stale else AccessCheck()
            state.settle(window, stale, check, now)
            if len(state.shown) >= limit or len(hits) < fetch:
                break
            fetch = min(MAX_FETCH, len(state.decided) + 2 * max(limit, CHECK_BATCH))
        return state.result()


@dataclass
class _Gathered:
    """What one answer's rounds have decided so far."""

    limit: int
    check_all: bool
    bound: timedelta
    unsure: bool = False  # the person's groups are older than the bound: every candidate counts as stale
    shown: list[SearchHit] = field(default_factory=list)
    decided: set[int] = field(default_factory=set)
    seen: dict[int, Candidate] = field(default_factory=dict)
    links: dict[int, str] = field(default_factory=dict)
    unchecked: bool = False
    failing: bool = False  # a check could not reach Confluence: ask no more, show only fresh candidates
    requests: int = 0
    points: int = 0

    def stale(self, candidate: Candidate, now: datetime) -> bool:
        return self.unsure or needs_check(candidate, now=now, bound=self.bound)

    def window(self, new: Sequence[SearchHit], now: datetime) -> tuple[list[SearchHit], dict[int, Candidate]]:
        """The next hits in rank order that could fill the answer, and those of them to check live."""
        window: list[SearchHit] = []
        stale: dict[int, Candidate] = {}
        needed = self.limit - len(self.shown)
        fresh = 0
        for hit in new:
            # Enough when the fresh ones alone fill the answer; a check asks about up to CHECK_BATCH at the
            # price of one request, so up to that many are taken when some must be checked.
            if fresh >= needed or len(window) >= max(needed, CHECK_BATCH):
                break
            candidate = self.seen.get(hit.document_id)
            if candidate is None:  # deleted since the search
                self.decided.add(hit.document_id)
                continue
            is_stale = self.stale(candidate, now)
            if self.check_all or is_stale:
                if self.failing:  # not asked again: shown only when its synced ACL is fresh
                    self.unchecked = self.unchecked or is_stale
                    self.decided.add(hit.document_id)
                    if not is_stale:
                        window.append(hit)
                        fresh += 1
                    continue
                if len(stale) >= CHECK_BATCH:
                    break
                stale[hit.document_id] = candidate
            else:
                fresh += 1
            window.append(hit)
        return window, stale

    def settle(
        self, window: Sequence[SearchHit], stale: Mapping[int, Candidate], check: AccessCheck, now: datetime
    ) -> None:
        """Show what the synced ACL or the check allows; never a stale candidate that could not be checked."""
        self.requests += check.requests
        self.points += check.points
        self.links.update(check.short_links)
        for hit in window:
            self.decided.add(hit.document_id)
            candidate = stale.get(hit.document_id)
            if candidate is None or hit.document_id in check.allowed:
                self.shown.append(hit)
            elif hit.document_id in check.unchecked:
                self.failing = True
                if self.stale(candidate, now):
                    self.unchecked = True
                else:
                    self.shown.append(hit)  # fresh (a share checks everything): its synced ACL stands

    def result(self) -> PersonResult:
        if self.check_all:  # a share posts a link for each hit: Confluence's short one, else the id-only one
            for hit in self.shown:
                derived = canonical_link(hit.url, self.seen[hit.document_id].source_id)
                if hit.document_id not in self.links and derived is not None:
                    self.links[hit.document_id] = derived
        return PersonResult(
            access=PersonAccess.SEARCHED,
            hits=self.shown[: self.limit],
            unchecked=self.unchecked,
            short_links=dict(self.links),
            requests=self.requests,
            points=self.points,
        )
