"""`credits show` and `credits add` against the ledger: the free starting balance is a real entry, and zero,
negative and unknown team ids are refused with one line, exit 1, changing nothing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.cli import main
from bot.crypto import generate_key
from storage.db import make_engine, make_sessionmaker
from storage.models import CreditEntry, Workspace
from storage.workspaces import touch_workspace
from tests.harness import migrate

TEAM = "T0CREDITS"


@pytest.fixture
def sessions(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[sessionmaker[Session]]:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("ENCRYPTION_KEY", generate_key())
    engine = make_engine(database_url)
    migrate(engine)
    factory = make_sessionmaker(engine)
    with factory.begin() as session:  # the workspace appears as the wizard records it: FREE_CREDITS' default
        touch_workspace(session, team_id=TEAM, initial_credits=100_000)
    yield factory
    engine.dispose()


def _state(sessions: sessionmaker[Session]) -> tuple[int | None, int, int]:
    with sessions() as session:
        workspace = session.get(Workspace, TEAM)
        balance = workspace.credit_balance if workspace else None
        entries = int(session.scalar(select(func.count()).select_from(CreditEntry)) or 0)
        workspaces = int(session.scalar(select(func.count()).select_from(Workspace)) or 0)
        return balance, entries, workspaces


def test_show_lists_the_starting_grant_and_add_adds_to_it(
    sessions: sessionmaker[Session], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["credits", "show", TEAM]) == 0
    shown = capsys.readouterr().out
    assert f"{TEAM}: 100,000 credits" in shown
    assert "grant" in shown and "+100,000" in shown and "no entries yet" not in shown
    assert main(["credits", "add", TEAM, "50"]) == 0
    assert f"{TEAM}: balance 100,050 credits" in capsys.readouterr().out
    assert _state(sessions) == (100_050, 2, 1)
    assert main(["credits", "show", TEAM]) == 0
    assert f"{TEAM}: 100,050 credits" in capsys.readouterr().out


@pytest.mark.parametrize("amount", ["0", "-5", "-100000"])
def test_add_refuses_zero_and_negative_amounts(
    sessions: sessionmaker[Session], capsys: pytest.CaptureFixture[str], amount: str
) -> None:
    before = _state(sessions)
    assert main(["credits", "add", TEAM, amount]) == 1
    out = capsys.readouterr()
    assert out.out == "" and out.err.count("\n") == 1 and "Traceback" not in out.err
    assert f"must be a whole number above 0, not {amount}" in out.err
    assert _state(sessions) == before


@pytest.mark.parametrize("command", [["credits", "add", "T0NOBODY", "50"], ["credits", "show", "T0NOBODY"]])
def test_unknown_team_ids_are_refused(
    sessions: sessionmaker[Session], capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    before = _state(sessions)
    assert main(command) == 1
    out = capsys.readouterr()
    assert out.out == "" and out.err.count("\n") == 1
    assert "No workspace 'T0NOBODY' has used the bot yet" in out.err
    assert _state(sessions) == before  # no workspace row made up, no entry


def test_a_team_id_with_hidden_characters_is_refused(
    sessions: sessionmaker[Session], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["credits", "add", f"{TEAM}\u202e", "50"]) == 1
    assert "The team id contains U+202E" in capsys.readouterr().err
    assert _state(sessions) == (100_000, 1, 1)
