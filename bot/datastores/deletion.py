"""Deleting a datastore, for Slack (`/datastore delete`, App Home) and the operator CLI alike."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from bot.errors import UserFacingError
from bot.jobs import remove_datastore_jobs
from bot.services import Services
from storage.deletion import DeletedRows, delete_datastore
from storage.models import SYNCING_STATUSES, Connection, Datastore, utcnow

__all__ = ["DatastoreDeletion", "DeletedRows", "DeletionPreview"]


@dataclass(frozen=True)
class DeletionPreview:
    """What deleting a datastore will remove, shown before anyone confirms."""

    datastore_id: int
    team_id: str
    name: str
    site: str
    documents: int
    creator_id: str
    syncing: bool
    shares_connection_with: list[str]  # other datastores on the same Confluence connection (it then stays)


logger = logging.getLogger(__name__)


class DatastoreDeletion:
    def __init__(self, services: Services, *, clock: Callable[[], datetime] = utcnow) -> None:
        self.services, self.clock = services, clock

    def preview(self, *, datastore_id: int, team_id: str) -> DeletionPreview:
        with self.services.sessions() as session:
            datastore = session.get(Datastore, datastore_id)
            if datastore is None or datastore.team_id != team_id:
                raise UserFacingError("That datastore no longer exists: it may have been deleted already.")
            connection = session.get(Connection, datastore.connection_id) if datastore.connection_id else None
            others = (
                list(
                    session.scalars(
                        select(Datastore.name).where(
                            Datastore.connection_id == connection.id, Datastore.id != datastore.id
                        )
                    )
                )
                if connection is not None
                else []
            )
            return DeletionPreview(
                datastore_id=datastore.id,
                team_id=datastore.team_id,
                name=datastore.name,
                site=connection.site_host if connection else "",
                documents=datastore.document_count,
                creator_id=datastore.created_by,
                syncing=datastore.status in SYNCING_STATUSES,
                shares_connection_with=others,
            )

    def delete(self, *, datastore_id: int, team_id: str | None, deleted_by: str | None) -> DeletedRows:
        """Delete the datastore in one transaction (documents, chunks, runs, its connection's tokens) and stop
        its scheduled resync. ``deleted_by`` is the Slack user, or None for an operator."""
        with self.services.sessions.begin() as session:
            datastore = session.get(Datastore, datastore_id)
            if datastore is None or (team_id is not None and datastore.team_id != team_id):
                raise UserFacingError("That datastore no longer exists: it may have been deleted already.")
            deleted = delete_datastore(session, datastore=datastore, deleted_by=deleted_by, now=self.clock())
        remove_datastore_jobs(datastore_id)
        logger.info(
            "deleted datastore %s (%s): %d documents, %d chunks, %d runs%s",
            datastore_id,
            deleted.name,
            deleted.documents,
            deleted.chunks,
            deleted.runs,
            ", connection and its tokens" if deleted.connection_deleted else "",
        )
        return deleted
