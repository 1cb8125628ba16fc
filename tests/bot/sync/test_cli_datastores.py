"""The operator commands, run through `datastore-bot`'s main() with the environment an operator sets."""

from __future__ import annotations

import pytest

from bot.cli import main
from tests.bot.sync.conftest import TEAM, SyncWorld


@pytest.fixture
def operator_env(sync_world: SyncWorld, monkeypatch: pytest.MonkeyPatch) -> SyncWorld:
    settings = sync_world.services.settings
    assert settings.encryption_key is not None and settings.atlassian_client_secret is not None
    monkeypatch.setenv("DATABASE_URL", settings.effective_database_url)
    monkeypatch.setenv("ENCRYPTION_KEY", settings.encryption_key.get_secret_value())
    monkeypatch.setenv("ATLASSIAN_CLIENT_ID", settings.atlassian_client_id or "")
    monkeypatch.setenv("ATLASSIAN_CLIENT_SECRET", settings.atlassian_client_secret.get_secret_value())
    monkeypatch.setenv("ATLASSIAN_AUTH_URL", settings.atlassian_auth_url)
    monkeypatch.setenv("ATLASSIAN_API_URL", settings.atlassian_api_url)
    return sync_world


def test_sync_search_and_list(operator_env: SyncWorld, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sync", "ENG-WIKI"]) == 0
    out = capsys.readouterr()
    assert "eng-wiki: synced" in out.out and "failed" in out.out
    page_id = sorted(operator_env.atlassian.site.ids("page"))[0]
    hints = operator_env.atlassian.site.page_text_hints(page_id)
    assert main(["search", "eng-wiki", hints.tag]) == 0
    assert hints.title in capsys.readouterr().out
    assert main(["search", "eng-wiki", "zzqx-not-a-word"]) == 1
    assert main(["datastores"]) == 0
    listing = capsys.readouterr().out
    assert "eng-wiki" in listing and "synced" in listing
    assert main(["search", "no-such-store", "x"]) == 1
    assert "No datastore is named" in capsys.readouterr().err


def test_credits_add_resumes_syncs_paused_for_credits(
    operator_env: SyncWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    from storage.credits import add_credits
    from storage.models import utcnow

    world = operator_env
    with world.services.sessions.begin() as session:  # spent elsewhere: 10 credits left
        add_credits(session, team_id=TEAM, amount=-99_990, now=utcnow())
    run_id = world.queue(kind="full")
    world.worker(batch_size=5).run_until_idle()
    assert world.run(run_id).pause_kind == "credits"
    capsys.readouterr()
    assert main(["credits", "add", TEAM, "500"]) == 0
    assert "1 paused sync(s) resume" in capsys.readouterr().out
    world.worker().run_until_idle()
    assert world.run(run_id).outcome == "synced"


@pytest.mark.parametrize("hidden", ["\x1f", "\u202e", "\t", "\u2028", "\x00"])
def test_hidden_characters_in_cli_text(
    operator_env: SyncWorld, capsys: pytest.CaptureFixture[str], hidden: str
) -> None:
    """A query is cleaned (its hits are the clean query's); a name or interval holding one is refused by name,
    one line, exit 1, nothing looked up or changed (a NUL would make PostgreSQL refuse the lookup)."""
    assert main(["sync", "eng-wiki"]) == 0
    hints = operator_env.atlassian.site.page_text_hints(sorted(operator_env.atlassian.site.ids("page"))[0])
    capsys.readouterr()
    assert main(["search", "eng-wiki", hints.tag]) == 0
    clean = capsys.readouterr().out
    assert main(["search", "eng-wiki", f"{hidden}{hints.tag}{hidden}"]) == 0
    assert capsys.readouterr().out == clean
    assert main(["search", f"eng{hidden}-wiki", hints.tag]) == 1
    refused = capsys.readouterr()
    assert "The datastore name contains U+" in refused.err and "Traceback" not in refused.err
    assert main(["schedule", "eng-wiki", f"6{hidden}h"]) == 1
    assert "The interval contains U+" in capsys.readouterr().err
    assert operator_env.datastore().sync_interval_minutes is None


def test_operators_are_told_they_see_everything_as_the_connecting_account(
    operator_env: SyncWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    from sqlalchemy import select

    from bot.cli_datastores import OPERATOR_VIEW
    from storage.models import Connection

    with operator_env.services.sessions.begin() as session:
        session.scalars(select(Connection)).one().account_name = "Ada\x1b[31m Lovelace\u202e"
    assert main(["datastores"]) == 0
    listing = capsys.readouterr().out
    assert "everyone: Ada [31m Lovelace" in listing and "\x1b" not in listing and "\u202e" not in listing
    assert OPERATOR_VIEW in listing
    assert main(["search", "eng-wiki", "anything"]) == 1
    assert "everything Ada [31m Lovelace can see in Confluence: operators see all of it" in capsys.readouterr().err
    for command in ("search", "datastores"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        assert " ".join(OPERATOR_VIEW.split()) in " ".join(capsys.readouterr().out.split())
