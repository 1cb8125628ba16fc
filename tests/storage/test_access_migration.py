"""Migration 0007 on both backends: every datastore that existed before access modes is explicitly "everyone"
(searched as its connecting account), has one audit row naming that account, and is marked for the offer DM."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from storage.access_audit import AccessAudit, latest_access_changes, record_access_change
from storage.access_modes import AccessMode, AccessOffer, AuditSource
from storage.db import make_engine, make_sessionmaker
from storage.migrate import current_revision, head_revision, upgrade_to, upgrade_to_head
from storage.models import Datastore

NOW = "2026-11-30 10:00:00"


def _seed_0006(connection: sa.Connection) -> None:
    """Rows as revision 0006 knew them: two connections (one without an account name) and three datastores,
    one of whose connection was deleted."""
    connection.execute(
        sa.text(
            "INSERT INTO connections (id, team_id, created_by, cloud_id, site_url, account_name, scopes, "
            "token_version, status, created_at, updated_at) VALUES "
            "(1, 'T1', 'U1', 'c1', 'https://acme.atlassian.net', 'Ada <!channel> Lovelace', '', 0, 'active', :t, :t), "
            "(2, 'T2', 'U2', 'c2', 'https://beta.atlassian.net', NULL, '', 0, 'active', :t, :t)"
        ),
        {"t": NOW},
    )
    for id_, team, name, connection_id in ((1, "T1", "eng-wiki", 1), (2, "T2", "hr", 2), (3, "T1", "old", None)):
        connection.execute(
            sa.text(
                "INSERT INTO datastores (id, team_id, name, name_key, source, connection_id, share_all, status, "
                "created_by, created_at, document_count) VALUES "
                "(:id, :team, :name, :name, 'confluence', :conn, true, 'synced', 'U1', :t, 5)"
            ),
            {"id": id_, "team": team, "name": name, "conn": connection_id, "t": NOW},
        )


def test_existing_datastores_become_everyone_with_an_audit_row_and_a_pending_offer(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade_to(engine, "0006")
    with engine.begin() as connection:
        _seed_0006(connection)
    before = datetime.now(UTC)
    upgrade_to_head(engine)
    assert current_revision(engine) == head_revision()
    sessions = make_sessionmaker(engine)
    with sessions() as session:
        datastores = {d.name: d for d in session.scalars(sa.select(Datastore))}
        assert {d.access_mode for d in datastores.values()} == {AccessMode.EVERYONE}
        assert {d.access_offer for d in datastores.values()} == {AccessOffer.PENDING}
        assert datastores["eng-wiki"].access_account_name == "Ada <!channel> Lovelace"
        assert datastores["hr"].access_account_name is None and datastores["old"].access_account_name is None
        rows = list(session.scalars(sa.select(AccessAudit).order_by(AccessAudit.datastore_id)))
        assert [(r.datastore_id, r.team_id, r.source, r.action, r.old_value, r.new_value) for r in rows] == [
            (1, "T1", "migration", "mode", None, "everyone"),
            (2, "T2", "migration", "mode", None, "everyone"),
            (3, "T1", "migration", "mode", None, "everyone"),
        ]
        assert [r.account_name for r in rows] == ["Ada <!channel> Lovelace", None, None]
        assert all(r.actor_user_id is None for r in rows)
        assert all(before - timedelta(seconds=1) <= r.created_at <= datetime.now(UTC) for r in rows)
    engine.dispose()


def test_a_new_datastore_defaults_to_everyone_and_audit_rows_come_newest_first(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade_to_head(engine)
    sessions = make_sessionmaker(engine)
    with sessions.begin() as session:
        datastore = Datastore(team_id="T1", name="n", name_key="n", created_by="U1")
        session.add(datastore)
        session.flush()
        assert datastore.access_mode == AccessMode.EVERYONE and datastore.access_offer is None
        for minute in range(5):
            record_access_change(
                session,
                datastore_id=datastore.id,
                team_id="T1",
                actor_user_id="U1",
                source=AuditSource.SLACK,
                old_value=None,
                new_value=f"v{minute}",
                account_name="Ada",
                now=datetime(2026, 12, 1, 10, minute, tzinfo=UTC),
            )
        datastore_id = datastore.id
    with sessions() as session:
        latest = latest_access_changes(session, datastore_id=datastore_id, limit=3)
        assert [r.new_value for r in latest] == ["v4", "v3", "v2"]
    engine.dispose()


def test_the_audit_repository_never_commits(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade_to_head(engine)
    sessions = make_sessionmaker(engine)
    with sessions.begin() as session:
        datastore = Datastore(team_id="T1", name="n", name_key="n", created_by="U1")
        session.add(datastore)
        session.flush()
        datastore_id = datastore.id
    with Session(engine) as session:
        record_access_change(
            session,
            datastore_id=datastore_id,
            team_id="T1",
            actor_user_id=None,
            source=AuditSource.CLI,
            old_value="everyone",
            new_value="everyone",
            account_name=None,
            now=datetime.now(UTC),
        )
        session.rollback()
    with sessions() as session:
        assert latest_access_changes(session, datastore_id=datastore_id, limit=3) == []
    engine.dispose()


def test_the_migration_downgrades_cleanly(database_url: str) -> None:
    from alembic import command

    from storage.migrate import _config

    engine = make_engine(database_url)
    upgrade_to(engine, "0007")  # 0008 (ACLs) does not downgrade on SQLite: it would rebuild documents
    with engine.begin() as connection:
        command.downgrade(_config(connection), "0006")
    assert "access_audit" not in sa.inspect(engine).get_table_names()
    assert "access_mode" not in {c["name"] for c in sa.inspect(engine).get_columns("datastores")}
    upgrade_to_head(engine)
    engine.dispose()
