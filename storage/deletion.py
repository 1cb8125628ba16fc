"""Deleting a datastore and everything that is only its own (never commits).

Order matters on PostgreSQL: the sync runs go first, so a worker that is storing a batch right now finishes
(its transaction holds the run's row) before the documents are deleted, and its next transaction finds no
run to renew and stops (LeaseLost). Credit ledger entries stay: they are the workspace's history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from storage.documents import Chunk
from storage.models import Connection, Datastore, DeletionNotice, SyncRun
from storage.search_index import delete_datastore_documents

__all__ = ["DeletedRows", "delete_datastore"]


@dataclass(frozen=True)
class DeletedRows:
    name: str
    documents: int
    chunks: int
    runs: int
    connection_deleted: bool  # its Confluence tokens are gone (no other datastore used the connection)


def delete_datastore(session: Session, *, datastore: Datastore, deleted_by: str | None, now: datetime) -> DeletedRows:
    """Delete ``datastore`` with its runs, documents, chunks and failures, and its connection (tokens, space
    list) unless another datastore uses it; queue the "deleted by" notice for its channel message."""
    runs = session.execute(delete(SyncRun).where(SyncRun.datastore_id == datastore.id))
    chunks = int(session.scalar(select(func.count()).select_from(Chunk).where(Chunk.datastore_id == datastore.id)) or 0)
    documents = delete_datastore_documents(session, datastore_id=datastore.id)
    connection = session.get(Connection, datastore.connection_id) if datastore.connection_id else None
    shared = connection is not None and bool(
        session.scalar(
            select(func.count())
            .select_from(Datastore)
            .where(Datastore.connection_id == connection.id, Datastore.id != datastore.id)
        )
    )
    if datastore.channel_id and datastore.parent_ts:
        session.add(
            DeletionNotice(
                team_id=datastore.team_id,
                channel_id=datastore.channel_id,
                message_ts=datastore.parent_ts,
                name=datastore.name,
                site=connection.site_host if connection else "",
                deleted_by=deleted_by,
                documents=documents,
                created_at=now,
            )
        )
    session.delete(datastore)
    if connection is not None and not shared:
        session.delete(connection)
    session.flush()
    return DeletedRows(
        name=datastore.name,
        documents=documents,
        chunks=chunks,
        runs=int(getattr(runs, "rowcount", 0) or 0),
        connection_deleted=connection is not None and not shared,
    )
