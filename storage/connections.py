"""Connection repository: reads and compare-and-swap token updates. It never commits: the caller frames the
transaction with ``with services.sessions.begin() as session:``.

``token_version`` is the compare-and-swap guard of the token columns. An **even** version means the
stored tokens are settled; an **odd** version means one process has claimed the refresh and is talking
to Atlassian (see ``bot.atlassian.tokens``). Every function below that changes tokens or the version
only succeeds when the version is still the one the caller saw, and says whether it did.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CursorResult, Update, select, update
from sqlalchemy.orm import Session

from storage.models import Connection, utcnow
from storage.states import ConnectionStatus

__all__ = [
    "compare_and_set_version",
    "compare_and_store_tokens",
    "get_connection",
    "mark_needs_reconnect",
]


def get_connection(session: Session, *, connection_id: int) -> Connection | None:
    return session.scalars(select(Connection).where(Connection.id == connection_id)).first()


def _updated_one(session: Session, statement: Update) -> bool:
    result = session.execute(statement.execution_options(synchronize_session=False))
    return isinstance(result, CursorResult) and result.rowcount == 1


def _swap(session: Session, connection_id: int, expected_version: int, values: dict[str, object]) -> bool:
    statement = (
        update(Connection)
        .where(Connection.id == connection_id, Connection.token_version == expected_version)
        .values(updated_at=utcnow(), **values)
    )
    return _updated_one(session, statement)


def compare_and_set_version(session: Session, *, connection_id: int, expected_version: int, new_version: int) -> bool:
    """Move ``token_version`` from ``expected_version`` to ``new_version``; False when someone moved it first."""
    return _swap(session, connection_id, expected_version, {"token_version": new_version})


def compare_and_store_tokens(
    session: Session,
    *,
    connection_id: int,
    expected_version: int,
    access_token_enc: str,
    refresh_token_enc: str | None,
    access_expires_at: datetime,
    scopes: str | None = None,
) -> bool:
    """Store a refreshed (encrypted) token pair and bump the version to ``expected_version + 1``.

    False, and nothing written, when the version is no longer ``expected_version``.
    """
    values: dict[str, object] = {
        "token_version": expected_version + 1,
        "access_token_enc": access_token_enc,
        "refresh_token_enc": refresh_token_enc,
        "access_expires_at": access_expires_at,
    }
    if scopes:
        values["scopes"] = scopes
    return _swap(session, connection_id, expected_version, values)


def mark_needs_reconnect(session: Session, *, connection_id: int, expected_version: int | None = None) -> bool:
    """Set ``status="needs_reconnect"``; with ``expected_version`` only if it still holds (then bumped by one)."""
    if expected_version is None:
        statement = (
            update(Connection)
            .where(Connection.id == connection_id)
            .values(status=ConnectionStatus.NEEDS_RECONNECT, updated_at=utcnow())
        )
        return _updated_one(session, statement)
    return _swap(
        session,
        connection_id,
        expected_version,
        {"status": ConnectionStatus.NEEDS_RECONNECT, "token_version": expected_version + 1},
    )
