"""Migration 0009 and the permission pass rows: due, claimed by one owner at a time, renewed, released."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

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


def test_pages_a_sync_added_are_checked_at_once_when_it_ends_and_within_the_gap_while_it_runs(
    database_url: str,
) -> None:
    """NEW_DOCUMENTS_GAP spaces the checks while a sync is adding batches; once no sync runs, documents indexed
    since the last check are due at once (their thread holds the ✅ until they are read)."""
    from storage.documents import Document
    from storage.models import SyncRun
    from storage.states import RunState

    engine = make_engine(database_url)
    upgrade_to_head(engine)
    sessions = make_sessionmaker(engine)
    now = utcnow()
    checked = now - timedelta(seconds=30)  # the last check of new documents: inside the gap
    with sessions.begin() as session:
        each = Datastore(team_id="T1", name="a", name_key="a", created_by="U1", access_mode=AccessMode.EACH.value)
        session.add(each)
        session.flush()
        datastore_id = each.id
        session.add(PermissionPass(datastore_id=datastore_id, next_due_at=now + timedelta(hours=1)))
        session.flush()
        session.get(PermissionPass, datastore_id).new_documents_at = checked  # type: ignore[union-attr]
        run = SyncRun(datastore_id=datastore_id, state=RunState.RUNNING)
        session.add(run)

        def document(source_id: str, indexed_at: object) -> Document:
            return Document(
                datastore_id=datastore_id,
                source_id=source_id,
                title=source_id,
                url="u",
                content_hash="h",
                indexed_at=indexed_at,
            )

        session.add(document("old", checked - timedelta(seconds=5)))  # unchecked, but looked at already
    with sessions.begin() as session:
        assert due_pass_ids(session, now=now) == []  # the gap holds: nothing new since the check
        session.add(document("new", now - timedelta(seconds=1)))
    with sessions.begin() as session:
        assert due_pass_ids(session, now=now) == []  # the sync still runs: more batches come, the gap holds
        session.get(SyncRun, run.id).state = RunState.FINISHED  # type: ignore[union-attr]
    with sessions.begin() as session:
        assert due_pass_ids(session, now=now) == [datastore_id]  # it ended: its new page is due at once
        session.get(PermissionPass, datastore_id).new_documents_at = now  # type: ignore[union-attr]
    with sessions() as session:
        assert due_pass_ids(session, now=now + timedelta(seconds=10)) == []  # checked: the gap again
    engine.dispose()


def _a_pass_during_a_sync(
    database_url: str, began: datetime, indexed_at: datetime
) -> tuple[Engine, sessionmaker[Session], int, int]:
    """A per-person datastore whose pass (leased to "w", begun at ``began``) runs while a sync runs, and one
    unchecked document indexed at ``indexed_at``: (engine, sessions, datastore id, run id)."""
    from storage.documents import Document
    from storage.models import SyncRun
    from storage.states import RunState

    engine = make_engine(database_url)
    upgrade_to_head(engine)
    sessions = make_sessionmaker(engine)
    with sessions.begin() as session:
        each = Datastore(team_id="T1", name="a", name_key="a", created_by="U1", access_mode=AccessMode.EACH.value)
        session.add(each)
        session.flush()
        pass_row = PermissionPass(
            datastore_id=each.id,
            next_due_at=began + timedelta(hours=1),
            lease_owner="w",
            lease_expires_at=began + LEASE,
        )
        run = SyncRun(datastore_id=each.id, state=RunState.RUNNING)
        document = Document(
            datastore_id=each.id, source_id="late", title="t", url="u", content_hash="h", indexed_at=indexed_at
        )
        session.add_all([pass_row, run, document])
        session.flush()
        return engine, sessions, each.id, run.id


def test_documents_indexed_while_a_pass_ran_are_due_once_the_sync_ends(database_url: str) -> None:
    """A pass that began reading what to check before a sync's last batch was indexed did not see that batch:
    it records when it began, so the batch is due at once when the sync ends (not after the full pass's hour,
    while its thread holds the ✅)."""
    from storage.models import SyncRun
    from storage.states import RunState

    began = utcnow() - timedelta(seconds=3)  # after it, the pass read its unchecked documents; then this one came
    engine, sessions, datastore_id, run_id = _a_pass_during_a_sync(database_url, began, began + timedelta(seconds=1))
    finished = began + timedelta(seconds=2)
    with sessions.begin() as session:
        assert finish_pass(
            session,
            datastore_id=datastore_id,
            owner="w",
            outcome=PassOutcome.NEW_DOCUMENTS,
            next_due_at=None,
            now=finished,
            checked_from=began,
        )
        session.get(SyncRun, run_id).state = RunState.FINISHED  # type: ignore[union-attr]
    with sessions() as session:
        assert due_pass_ids(session, now=finished + timedelta(seconds=1)) == [datastore_id]
    engine.dispose()


def test_a_batch_committed_after_a_pass_began_is_due_once_the_sync_ends_though_stamped_before(
    database_url: str,
) -> None:
    """A document's indexed_at is stamped before its batch commits: a pass that began between the stamp and the
    commit did not see the batch, though it is stamped before the pass began. The run that finishes after the
    pass began makes the batch due at once (seen in CI: 250 of 1,000 pages waited two minutes for their ACLs);
    the check after it begins later, so it is not due again."""
    from storage.models import SyncRun
    from storage.states import RunState

    stamped = utcnow() - timedelta(seconds=10)
    began = stamped + timedelta(seconds=1)  # the pass began before the batch committed
    engine, sessions, datastore_id, run_id = _a_pass_during_a_sync(database_url, began, stamped)
    with sessions.begin() as session:
        assert finish_pass(
            session,
            datastore_id=datastore_id,
            owner="w",
            outcome=PassOutcome.COMPLETE,
            next_due_at=began + timedelta(hours=1),
            now=began + timedelta(seconds=1),
            checked_from=began,
        )
    with sessions() as session:
        assert due_pass_ids(session, now=began + timedelta(seconds=2)) == []  # the sync still runs
    with sessions.begin() as session:
        ended = session.get(SyncRun, run_id)
        assert ended is not None
        ended.state, ended.finished_at = RunState.FINISHED, began + timedelta(seconds=2)
    with sessions() as session:
        assert due_pass_ids(session, now=began + timedelta(seconds=3)) == [datastore_id]
    with sessions.begin() as session:  # the check after the run: it began later, and still did not list "late"
        assert claim_pass(session, datastore_id=datastore_id, owner="w", now=began + timedelta(seconds=3), lease=LEASE)
        assert finish_pass(
            session,
            datastore_id=datastore_id,
            owner="w",
            outcome=PassOutcome.NEW_DOCUMENTS,
            next_due_at=None,
            now=began + timedelta(seconds=4),
            checked_from=began + timedelta(seconds=3),
        )
    with sessions() as session:
        assert due_pass_ids(session, now=began + timedelta(seconds=5)) == []  # not again until the gap
    engine.dispose()
