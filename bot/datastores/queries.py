"""Read-side answers for the commands: list, status and search of a workspace's datastores."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.access.people import PersonDirectory
from bot.confluence.budget import PointsBudget
from bot.datastores.person_search import PersonAccess, PersonSearch, Searcher
from bot.errors import UserFacingError
from bot.services import Services
from bot.sync.resync import DEFAULT_DELETION_MINUTES
from bot.text_policy import clean_query
from bot.wizard.inputs import name_key
from storage.access_audit import latest_access_changes
from storage.access_modes import AccessMode
from storage.models import SYNCING_STATUSES, Connection, Datastore, SyncRun
from storage.search import SearchHit, Visibility, search
from storage.states import DatastoreStatus, RunPhase, RunState
from storage.sync_runs import latest_run, unfinished_run

__all__ = [
    "HISTORY_SHOWN",
    "AccessChange",
    "DatastoreInfo",
    "PersonAccess",
    "Queries",
    "SearchAnswer",
    "SearchHit",
    "Searcher",
]

#: How many of a datastore's latest access changes `/datastore status NAME` shows.
HISTORY_SHOWN = 3
#: Why an "each" datastore cannot be searched here: this process links nobody to Confluence (no person
#: directory), or Slack did not say who is searching; an unfiltered search would show what the connecting
#: account sees.
EACH_NOT_YET = (
    "*{name}* is set to show each person only what they can see in Confluence. That is not available yet, "
    "so nothing is shown."
)


@dataclass(frozen=True)
class DatastoreInfo:
    id: int
    name: str
    site: str
    status: DatastoreStatus
    status_detail: str | None
    documents: int
    created_by: str
    channel_id: str | None
    parent_ts: str | None
    thread_url: str | None
    last_sync: datetime | None
    next_sync: datetime | None
    run_phase: RunPhase | None
    run_processed: int
    run_to_process: int
    run_failed: int
    run_found: int
    #: Who sees its content; "everyone" is searched as the connecting account below.
    access_mode: AccessMode = AccessMode.EVERYONE
    #: The connecting account's name, from its connection (None: unknown, or no connection any more).
    account_name: str | None = None
    #: The Confluence site's cloud id (per-person search links people to it); None without a connection.
    cloud_id: str | None = None
    #: When the last resync that listed every page (finding deleted ones) began, and how often one does.
    deletions_checked: datetime | None = None
    deletion_minutes: int = DEFAULT_DELETION_MINUTES


@dataclass(frozen=True)
class AccessChange:
    """One row of the access audit, as status shows it."""

    at: datetime
    actor_user_id: str | None  # None: an operator (CLI) or the migration
    source: str
    old_value: str | None
    new_value: str
    account_name: str | None
    action: str = "mode"  # AuditAction: the access mode, or the usage limit


@dataclass(frozen=True)
class SearchAnswer:
    datastore: DatastoreInfo
    query: str
    hits: Sequence[SearchHit]
    syncing: bool  # results cover only what is processed so far
    shortened: bool = False  # the query was cut to text_policy.MAX_QUERY_CHARS
    #: "each" mode: whether the person could be searched as (else connect_url asks them to link).
    access: PersonAccess = PersonAccess.SEARCHED
    connect_url: str | None = None
    #: "each" mode: some results could not be checked in Confluence just now, and are not shown.
    unchecked: bool = False
    #: "each" mode: Confluence's short links of hits checked live (document id → URL).
    short_links: Mapping[int, str] = field(default_factory=dict)

    @property
    def per_person(self) -> bool:
        return self.datastore.access_mode is AccessMode.EACH


class Queries:
    """``people`` links Slack people to Confluence (None: this process cannot, so "each" datastores show
    nothing); live checks spend from ``permission_budget`` (default: the process's permission lane)."""

    def __init__(
        self,
        services: Services,
        *,
        people: PersonDirectory | None = None,
        permission_budget: PointsBudget | None = None,
        person_search: PersonSearch | None = None,
    ) -> None:
        self.services = services
        if person_search is None and people is not None:
            lane = permission_budget or services.permission_lane
            person_search = PersonSearch(services, people, lane)
        self.person_search = person_search

    def _info(self, session: Session, datastore: Datastore) -> DatastoreInfo:
        connection = session.get(Connection, datastore.connection_id) if datastore.connection_id else None
        finished = session.scalars(
            select(SyncRun)
            .where(SyncRun.datastore_id == datastore.id, SyncRun.state == RunState.FINISHED)
            .order_by(SyncRun.id.desc())
        ).first()
        running = unfinished_run(session, datastore_id=datastore.id)
        current = running or latest_run(session, datastore_id=datastore.id)
        last = finished.finished_at if finished else None
        minutes = datastore.sync_interval_minutes or self.services.settings.sync_interval_minutes
        return DatastoreInfo(
            id=datastore.id,
            name=datastore.name,
            site=connection.site_host if connection else "",
            status=datastore.status,
            status_detail=datastore.status_detail,
            documents=datastore.document_count,
            created_by=datastore.created_by,
            channel_id=datastore.channel_id,
            parent_ts=datastore.parent_ts,
            thread_url=datastore.thread_url,
            last_sync=last,
            next_sync=last + timedelta(minutes=minutes) if last else None,
            run_phase=current.phase if current else None,
            run_processed=current.processed if current else 0,
            run_to_process=current.to_process if current else 0,
            run_failed=current.failed if current else 0,
            run_found=current.found if current else 0,
            access_mode=AccessMode.of(datastore.access_mode),
            account_name=connection.account_name if connection else None,
            cloud_id=connection.cloud_id if connection else None,
            deletions_checked=datastore.deletions_checked_at,
            deletion_minutes=datastore.deletion_interval_minutes or DEFAULT_DELETION_MINUTES,
        )

    def list(self, team_id: str) -> list[DatastoreInfo]:
        with self.services.sessions() as session:
            rows = session.scalars(select(Datastore).where(Datastore.team_id == team_id).order_by(Datastore.name_key))
            return [self._info(session, datastore) for datastore in rows]

    def find(self, team_id: str, name: str) -> DatastoreInfo:
        with self.services.sessions() as session:
            datastore = session.scalars(
                select(Datastore).where(Datastore.team_id == team_id, Datastore.name_key == name_key(name))
            ).first()
            if datastore is None:
                names = [d.name for d in session.scalars(select(Datastore).where(Datastore.team_id == team_id))]
                known = ", ".join(f"*{n}*" for n in names[:10]) if names else "none yet"
                raise UserFacingError(f"There is no datastore named *{name}* here. Datastores: {known}.")
            return self._info(session, datastore)

    def get(self, team_id: str, datastore_id: int) -> DatastoreInfo | None:
        """The datastore with this id in this workspace, if it still exists."""
        with self.services.sessions() as session:
            datastore = session.get(Datastore, datastore_id)
            if datastore is None or datastore.team_id != team_id:
                return None
            return self._info(session, datastore)

    def access_history(self, info: DatastoreInfo, *, limit: int = HISTORY_SHOWN) -> tuple[AccessChange, ...]:
        """The datastore's latest access changes, newest first."""
        with self.services.sessions() as session:
            rows = latest_access_changes(session, datastore_id=info.id, limit=limit)
            return tuple(
                AccessChange(
                    at=row.created_at,
                    actor_user_id=row.actor_user_id,
                    source=row.source,
                    old_value=row.old_value,
                    new_value=row.new_value,
                    account_name=row.account_name,
                    action=row.action,
                )
                for row in rows
            )

    def search(
        self, team_id: str, name: str, query: str, *, limit: int = 5, searcher: Searcher | None = None
    ) -> SearchAnswer:
        return self.search_in(self.find(team_id, name), query, limit=limit, searcher=searcher)

    def search_in(
        self,
        info: DatastoreInfo,
        query: str,
        *,
        limit: int = 5,
        searcher: Searcher | None = None,
        sharing: bool = False,
    ) -> SearchAnswer:
        """Search for ``query`` as :func:`bot.text_policy.clean_query` leaves it (the answer echoes that).

        "everyone" datastores are searched as their connecting account; "each" datastores as ``searcher``
        (:class:`~bot.datastores.person_search.PersonSearch`), never unfiltered. ``sharing`` checks every hit
        live (a share confirms the sharer's access now and carries Confluence's short links)."""
        cleaned = clean_query(query)
        syncing = info.status in SYNCING_STATUSES
        if info.access_mode is AccessMode.EACH:
            if self.person_search is None or searcher is None:  # never an unfiltered search of it
                raise UserFacingError(EACH_NOT_YET.format(name=info.name))
            found = self.person_search.search(
                datastore_id=info.id,
                cloud_id=info.cloud_id,
                query=cleaned.text,
                searcher=searcher,
                limit=limit,
                check_all=sharing,
            )
            return SearchAnswer(
                datastore=info,
                query=cleaned.text,
                hits=found.hits,
                syncing=syncing,
                shortened=cleaned.shortened,
                access=found.access,
                connect_url=found.connect_url,
                unchecked=found.unchecked,
                short_links=found.short_links,
            )
        if info.access_mode is not AccessMode.EVERYONE:  # a mode this code does not know: nothing
            raise UserFacingError(EACH_NOT_YET.format(name=info.name))
        with self.services.sessions() as session:
            hits = search(session, datastore_id=info.id, query=cleaned.text, visible=Visibility.everyone(), limit=limit)
        return SearchAnswer(datastore=info, query=cleaned.text, hits=hits, syncing=syncing, shortened=cleaned.shortened)
