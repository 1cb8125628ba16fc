from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from storage.connections import (
    compare_and_set_version,
    compare_and_store_tokens,
    get_connection,
    mark_needs_reconnect,
)
from storage.db import make_engine, make_sessionmaker
from storage.migrate import upgrade_to_head
from storage.models import Connection

EXPIRES = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


def _setup(database_url: str) -> tuple[Engine, sessionmaker[Session], int]:
    engine = make_engine(database_url)
    upgrade_to_head(engine)
    sessions = make_sessionmaker(engine)
    with sessions.begin() as session:
        connection = Connection(
            team_id="T1",
            created_by="U1",
            cloud_id="c1",
            site_url="https://acme.atlassian.net",
            access_token_enc="a0",
            refresh_token_enc="r0",
            access_expires_at=EXPIRES,
        )
        session.add(connection)
        session.flush()
        return engine, sessions, connection.id


def _get(sessions: sessionmaker[Session], connection_id: int) -> Connection:
    with sessions.begin() as session:
        connection = get_connection(session, connection_id=connection_id)
        assert connection is not None
        return connection


def test_compare_and_swap_only_from_the_expected_version(database_url: str) -> None:
    engine, sessions, connection_id = _setup(database_url)
    with sessions.begin() as session:
        assert compare_and_set_version(session, connection_id=connection_id, expected_version=0, new_version=1)
        assert not compare_and_set_version(session, connection_id=connection_id, expected_version=0, new_version=1)
        assert not compare_and_store_tokens(
            session,
            connection_id=connection_id,
            expected_version=0,
            access_token_enc="stale",
            refresh_token_enc="stale",
            access_expires_at=EXPIRES,
        )
        assert compare_and_store_tokens(
            session,
            connection_id=connection_id,
            expected_version=1,
            access_token_enc="a1",
            refresh_token_enc="r1",
            access_expires_at=EXPIRES,
            scopes="read:page:confluence",
        )
    stored = _get(sessions, connection_id)
    assert (stored.token_version, stored.access_token_enc, stored.refresh_token_enc) == (2, "a1", "r1")
    assert stored.scopes == "read:page:confluence" and stored.access_expires_at == EXPIRES
    engine.dispose()


def test_mark_needs_reconnect_with_and_without_a_version(database_url: str) -> None:
    engine, sessions, connection_id = _setup(database_url)
    with sessions.begin() as session:
        assert not mark_needs_reconnect(session, connection_id=connection_id, expected_version=5)
    assert _get(sessions, connection_id).status == "active"
    with sessions.begin() as session:
        assert mark_needs_reconnect(session, connection_id=connection_id, expected_version=0)
    assert (_get(sessions, connection_id).status, _get(sessions, connection_id).token_version) == (
        "needs_reconnect",
        1,
    )
    with sessions.begin() as session:
        assert mark_needs_reconnect(session, connection_id=connection_id)
        assert not mark_needs_reconnect(session, connection_id=connection_id + 1)
    engine.dispose()


def test_the_repository_never_commits(database_url: str) -> None:
    engine, sessions, connection_id = _setup(database_url)
    with sessions() as session:
        assert compare_and_set_version(session, connection_id=connection_id, expected_version=0, new_version=1)
        mark_needs_reconnect(session, connection_id=connection_id)
        session.rollback()
    stored = _get(sessions, connection_id)
    assert (stored.token_version, stored.status) == (0, "active")
    engine.dispose()
