from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session, sessionmaker

from storage.credits import add_credits, charge, ledger, top_offs_this_month
from storage.models import Workspace
from storage.workspaces import touch_workspace

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


@pytest.fixture
def sessions(migrated_sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    return migrated_sessions


def _workspace(sessions: sessionmaker[Session], balance: int, **top_off: int | None) -> None:
    with sessions.begin() as session:
        workspace = touch_workspace(session, team_id="T1", initial_credits=balance)
        for key, value in top_off.items():
            setattr(workspace, f"topoff_{key}", value)


def test_new_workspace_grant_is_in_the_ledger(sessions: sessionmaker[Session]) -> None:
    _workspace(sessions, 100)
    with sessions() as session:
        entries = ledger(session, team_id="T1")
        assert [(e.kind, e.amount, e.balance_after) for e in entries] == [("grant", 100, 100)]


def test_charges_stop_at_zero_without_top_off(sessions: sessionmaker[Session]) -> None:
    _workspace(sessions, 10)
    with sessions.begin() as session:
        assert charge(session, team_id="T1", units=4, cost_per_unit=1, now=NOW).paid == 4
        result = charge(session, team_id="T1", units=10, cost_per_unit=1, now=NOW)
        assert (result.paid, result.balance, result.topped_off) == (6, 0, 0)
        assert charge(session, team_id="T1", units=3, cost_per_unit=1, now=NOW).paid == 0
    with sessions() as session:
        kinds = [e.kind for e in ledger(session, team_id="T1")]
        assert kinds == ["charge", "charge", "grant"]


def test_auto_top_off_adds_below_the_threshold_up_to_the_monthly_cap(sessions: sessionmaker[Session]) -> None:
    _workspace(sessions, 100, threshold=50, amount=100, monthly_cap=250)
    with sessions.begin() as session:
        first = charge(session, team_id="T1", units=60, cost_per_unit=1, now=NOW)
        assert first.paid == 60 and first.topped_off == 100 and first.balance == 140
        second = charge(session, team_id="T1", units=500, cost_per_unit=1, now=NOW)
        # 150 more fit under the cap of 250 a month (100 + 100 + 50), then the balance runs out.
        assert second.topped_off == 150
        assert second.paid == 290 and second.balance == 0
        assert top_offs_this_month(session, team_id="T1", now=NOW) == 250
        assert top_offs_this_month(session, team_id="T1", now=NOW.replace(month=12)) == 0


def test_costs_other_than_one_and_manual_additions(sessions: sessionmaker[Session]) -> None:
    _workspace(sessions, 10)
    with sessions.begin() as session:
        assert charge(session, team_id="T1", units=4, cost_per_unit=3, now=NOW).paid == 3
        assert add_credits(session, team_id="T1", amount=50, now=NOW, note="by an operator") == 51
    with sessions() as session:
        workspace = session.get(Workspace, "T1")
        assert workspace is not None and workspace.credit_balance == 51
