"""Datastore, connection and space repository (never commits)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from storage.models import ConfluenceSpace, Datastore

__all__ = [
    "OPERATOR",
    "count_datastores",
    "find_datastore_by_name",
    "replace_spaces",
    "search_spaces",
]

#: The creator (``created_by``) of what an operator made with the CLI (`datastore-bot connect` / `create`):
#: lower-case, so it is never a Slack user id — nobody is mentioned, DMed or linked for it.
OPERATOR = "operator"


def find_datastore_by_name(session: Session, *, team_id: str, name_key: str) -> Datastore | None:
    statement = select(Datastore).where(Datastore.team_id == team_id, Datastore.name_key == name_key)
    return session.scalars(statement).first()


def count_datastores(session: Session, *, team_id: str) -> int:
    return int(session.scalar(select(func.count()).select_from(Datastore).where(Datastore.team_id == team_id)) or 0)


def replace_spaces(session: Session, *, connection_id: int, spaces: Iterable[tuple[str, str, str]]) -> int:
    """Store the (id, key, name) spaces a connection can see, replacing the previous list."""
    session.execute(delete(ConfluenceSpace).where(ConfluenceSpace.connection_id == connection_id))
    rows = [
        ConfluenceSpace(connection_id=connection_id, space_id=sid, key=key, name=name, name_folded=name.casefold())
        for sid, key, name in spaces
    ]
    session.add_all(rows)
    session.flush()
    return len(rows)


def search_spaces(session: Session, *, connection_id: int, query: str, limit: int = 100) -> list[ConfluenceSpace]:
    """Spaces whose name or key contains ``query`` (case-insensitive), names starting with it first."""
    folded = query.strip().casefold()
    statement = select(ConfluenceSpace).where(ConfluenceSpace.connection_id == connection_id)
    if folded:
        escaped = folded.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        contains = "%" + escaped + "%"
        statement = statement.where(
            ConfluenceSpace.name_folded.like(contains, escape="\\")
            | func.lower(ConfluenceSpace.key).like(contains, escape="\\")
        )
        starts = ConfluenceSpace.name_folded.like(escaped + "%", escape="\\")
        statement = statement.order_by(starts.desc(), ConfluenceSpace.name_folded)
    else:
        statement = statement.order_by(ConfluenceSpace.name_folded)
    return list(session.scalars(statement.limit(limit)))
