"""Migration 0009 and the permission pass rows: due, claimed by one owner at a time, renewed, released."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from storage.access_modes import AccessMode
from storage.db import make_engine, make_sessionmaker
from storage.migrate import upgrade_to, upgrade_to_head
from storage.models import Datastore, utcnow
from storage.permission_passes import (
    PassOutcome,
    PermissionPass,
    claim_pass,
    due_pass_ids,
    ensure_pass_rows,
    finish_pass,
    renew_pass_lease,
)

LEASE = timedelta(minutes=5)


def test_0009_upgrades_and_downgrades_on_both_backends(database_url: str) -> None:
    from alembic import command

    from storage.migrate import _config

    engine = make_engine(database_url)
    upgrade_to(engine, "0009")
    assert "permission_passes" in sa.inspect(engine).get_table_names()
    with engine.begin() as connection:
        command.downgrade(_config(connection), "0008")
    assert "permission_passes" not in sa.inspect(engine).get_table_names()
    assert "ix_documents_acl_checked" not in {i["name"] for i in sa.inspect(engine).get_indexes("documents")}
    upgrade_to_head(engine)
    engine.dispose()


def test_one_owner_at_a_time_and_a_finished_pass_is_due_again_at_its_time(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade_to_head(engine)
    sessions = make_sessionmaker(engine)
    now = utcnow()
    with sessions.begin() as session:
        each = Datastore(team_id="T1", name="a", name_key="a", created_by="U1", access_mode=AccessMode.EACH.value)
        everyone = Datastore(team_id="T1", name="b", name_key="b", created_by="U1")
        session.add_all([each, everyone])
        session.flush()
        each.connection_id = everyone.connection_id = None
        ids = each.id, everyone.id
    with sessions.begin() as session:
        ensure_pass_rows(session, now=now)  # no connection: nothing to read with
        assert session.get(PermissionPass, ids[0]) is None
        session.add(PermissionPass(datastore_id=ids[0], next_due_at=now))
    with sessions.begin() as session:
        assert due_pass_ids(session, now=now) == [ids[0]]
        assert claim_pass(session, datastore_id=ids[0], owner="one", now=now, lease=LEASE)
        assert not claim_pass(session, datastore_id=ids[0], owner="two", now=now, lease=LEASE)
        assert due_pass_ids(session, now=now) == []
        assert not renew_pass_lease(session, datastore_id=ids[0], owner="two", now=now, lease=LEASE)
        assert renew_pass_lease(session, datastore_id=ids[0], owner="one", now=now, lease=LEASE)
    later = now + LEASE * 2
    with sessions.begin() as session:  # a crashed owner's lease runs out: another takes the pass over
        assert claim_pass(session, datastore_id=ids[0], owner="two", now=later, lease=LEASE)
        assert not finish_pass(
            session, datastore_id=ids[0], owner="one", outcome=PassOutcome.COMPLETE, next_due_at=later, now=later
        )
        assert finish_pass(
            session,
            datastore_id=ids[0],
            owner="two",
            outcome=PassOutcome.COMPLETE,
            next_due_at=later + timedelta(hours=1),
            now=later,
            points=120,
            requests=4,
        )
    with sessions() as session:
        row = session.get(PermissionPass, ids[0])
        assert row is not None and row.lease_owner is None and row.last_points == 120 and row.last_requests == 4
        assert due_pass_ids(session, now=later + timedelta(minutes=59)) == []
        assert due_pass_ids(session, now=later + timedelta(hours=1)) == [ids[0]]
    engine.dispose()
