"""Read-side answers for the commands: list, status and search of a workspace's datastores."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.errors import UserFacingError
from bot.services import Services
from bot.text_policy import clean_query
from bot.wizard.inputs import name_key
from storage.access_audit import latest_access_changes
from storage.access_modes import AccessMode
from storage.models import SYNCING_STATUSES, Connection, Datastore, SyncRun
from storage.search import SearchHit, Visibility, search
from storage.sync_runs import latest_run, unfinished_run

__all__ = ["HISTORY_SHOWN", "AccessChange", "DatastoreInfo", "Queries", "SearchAnswer"]

#: How many of a datastore's latest access changes `/datastore status NAME` shows.
HISTORY_SHOWN = 3
#: Why an "each" datastore cannot be searched yet: nothing filters per person before issue #12 step 5, and
#: an unfiltered search would show everyone what the connecting account sees.
EACH_NOT_YET = (
    "*{name}* is set to show each person only what they can see in Confluence. That is not available yet, "
    "so nothing is shown."
)


@dataclass(frozen=True)
class DatastoreInfo:
    id: int
    name: str
    site: str
    status: str
    status_detail: str | None
    documents: int
    created_by: str
    channel_id: str | None
    parent_ts: str | None
    thread_url: str | None
    last_sync: datetime | None
    next_sync: datetime | None
    run_phase: str | None
    run_processed: int
    run_to_process: int
    run_failed: int
    run_found: int
    #: Who sees its content; "everyone" is searched as the connecting account below.
    access_mode: AccessMode = AccessMode.EVERYONE
    #: The connecting account's name, from its connection (None: unknown, or no connection any more).
    account_name: str | None = None


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


class Queries:
    def __init__(self, services: Services) -> None:
        self.services = services

    def _info(self, session: Session, datastore: Datastore) -> DatastoreInfo:
        connection = session.get(Connection, datastore.connection_id) if datastore.connection_id else None
        finished = session.scalars(
            select(SyncRun)
            .where(SyncRun.datastore_id == datastore.id, SyncRun.state == "finished")
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

    def search(self, team_id: str, name: str, query: str, *, limit: int = 5) -> SearchAnswer:
        return self.search_in(self.find(team_id, name), query, limit=limit)

    def search_in(self, info: DatastoreInfo, query: str, *, limit: int = 5) -> SearchAnswer:
        """Search for ``query`` as :func:`bot.text_policy.clean_query` leaves it (the answer echoes that)."""
        if info.access_mode is not AccessMode.EVERYONE:  # never an unfiltered search of a per-person datastore
            raise UserFacingError(EACH_NOT_YET.format(name=info.name))
        cleaned = clean_query(query)
        with self.services.sessions() as session:
            # Every datastore is in "everyone" mode until per-person search lands (issue #12 step 5).
            hits = search(session, datastore_id=info.id, query=cleaned.text, visible=Visibility.everyone(), limit=limit)
        syncing = info.status in SYNCING_STATUSES
        return SearchAnswer(datastore=info, query=cleaned.text, hits=hits, syncing=syncing, shortened=cleaned.shortened)
