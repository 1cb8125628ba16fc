"""A workspace's free starting balance is in the ledger from the moment the workspace first appears, exactly
once — also when its first requests race — and migration 0013 writes it for workspaces recorded without it."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from storage.credits import ledger
from storage.db import make_engine, make_sessionmaker
from storage.migrate import upgrade_to, upgrade_to_head
from storage.models import CreditEntry, Workspace
from storage.workspaces import OPENING_GRANT, touch_workspace


@pytest.fixture
def sessions(migrated_sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    return migrated_sessions


def _grants(sessions: sessionmaker[Session], team_id: str) -> list[tuple[str, int, int, str | None]]:
    with sessions() as session:
        return [(e.kind, e.amount, e.balance_after, e.note) for e in ledger(session, team_id=team_id)]


def test_the_first_touch_grants_the_starting_balance_and_later_touches_do_not(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        workspace = touch_workspace(session, team_id="T1", team_name="Acme", initial_credits=100_000)
        assert workspace.credit_balance == 100_000
    for _ in range(2):
        with sessions.begin() as session:
            assert touch_workspace(session, team_id="T1", initial_credits=100_000).credit_balance == 100_000
    assert _grants(sessions, "T1") == [("grant", 100_000, 100_000, OPENING_GRANT)]


def test_a_rolled_back_first_touch_leaves_neither_row_nor_grant(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        touch_workspace(session, team_id="T1", initial_credits=500)
        session.rollback()
    with sessions() as session:
        assert session.get(Workspace, "T1") is None
        assert list(session.scalars(sa.select(CreditEntry))) == []


def test_no_grant_when_the_starting_balance_is_zero(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        assert touch_workspace(session, team_id="T1", initial_credits=0).credit_balance == 0
    assert _grants(sessions, "T1") == []


def test_concurrent_first_requests_grant_once(sessions: sessionmaker[Session]) -> None:
    """Eight requests of a new workspace at once (each its own transaction): all succeed, one grant."""
    start = threading.Barrier(8)
    errors: list[BaseException] = []

    def first_request() -> None:
        try:
            start.wait()
            with sessions.begin() as session:
                assert touch_workspace(session, team_id="TRACE", initial_credits=700).credit_balance == 700
        except BaseException as exc:  # noqa: BLE001 — the test thread reports whatever it met
            errors.append(exc)

    threads = [threading.Thread(target=first_request) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert _grants(sessions, "TRACE") == [("grant", 700, 700, OPENING_GRANT)]
    with sessions() as session:
        workspace = session.get(Workspace, "TRACE")
        assert workspace is not None and workspace.credit_balance == 700


def test_migration_0013_records_the_opening_balance_of_workspaces_without_ledger_rows(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade_to(engine, "0012")
    with engine.begin() as connection:
        for team, balance in (("TOLD", 100_000), ("TZERO", 0), ("TLEDGER", 40)):
            connection.execute(
                sa.text(
                    "INSERT INTO workspaces (team_id, created_at, last_seen_at, credit_balance) "
                    "VALUES (:team, '2026-11-01 09:00:00', '2026-11-30 09:00:00', :balance)"
                ),
                {"team": team, "balance": balance},
            )
        connection.execute(
            sa.text(
                "INSERT INTO credit_ledger (team_id, kind, amount, balance_after, created_at) "
                "VALUES ('TLEDGER', 'manual', 40, 40, '2026-11-02 09:00:00')"
            )
        )
    upgrade_to_head(engine)
    sessions = make_sessionmaker(engine)
    told = _grants(sessions, "TOLD")
    assert [(kind, amount, after) for kind, amount, after, _note in told] == [("grant", 100_000, 100_000)]
    assert _grants(sessions, "TZERO") == []
    assert [kind for kind, *_ in _grants(sessions, "TLEDGER")] == ["manual"]
    upgrade_to_head(engine)  # repeatable: at head nothing runs again
    assert len(_grants(sessions, "TOLD")) == 1
    engine.dispose()
