"""The `alembic` command line from the repo root (alembic.ini): upgrade to head, then `alembic check` finds the
migrations and the models in step, slack-sdk's installation tables left out, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import text

from storage.db import make_engine
from storage.migrate import head_revision, upgrade_to_head
from storage.migrations import SLACK_SDK_TABLES

ROOT = Path(__file__).resolve().parents[2]
BACKENDS = pytest.mark.parametrize(
    "database_url", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)


def alembic(*args: str, cwd: Path = ROOT, database_url: str | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if database_url is not None:
        env["DATABASE_URL"] = database_url
    return subprocess.run(
        [sys.executable, "-m", "alembic", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def create_slack_sdk_tables(database_url: str) -> None:
    """What bot/app.py does in multi-workspace mode: slack-sdk creates its own tables in the bot's database."""
    engine = make_engine(database_url)
    SQLAlchemyInstallationStore(client_id="111.222", engine=engine).create_tables()
    states = SQLAlchemyOAuthStateStore(expiration_seconds=600, engine=engine)
    states.metadata.create_all(engine)
    engine.dispose()


@BACKENDS
def test_upgrade_head_then_check_is_clean_with_slack_sdk_tables(database_url: str) -> None:
    upgraded = alembic("upgrade", "head", database_url=database_url)
    assert upgraded.returncode == 0, upgraded.stderr
    create_slack_sdk_tables(database_url)

    current = alembic("current", database_url=database_url)
    assert current.returncode == 0, current.stderr
    assert f"{head_revision()} (head)" in current.stdout

    checked = alembic("check", database_url=database_url)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "No new upgrade operations detected." in checked.stdout


@BACKENDS
def test_check_reports_a_table_the_models_do_not_have(database_url: str) -> None:
    """`alembic check` does compare: a stray table fails it (so the clean run above means something)."""
    engine = make_engine(database_url)
    upgrade_to_head(engine)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE stray_table (id INTEGER PRIMARY KEY)"))
    engine.dispose()
    checked = alembic("check", database_url=database_url)
    assert checked.returncode != 0
    assert "stray_table" in checked.stdout + checked.stderr


def test_the_ignored_tables_are_slack_sdks() -> None:
    """The names env.py leaves out are the ones slack-sdk's stores create (their defaults, as bot/app.py uses them)."""
    engine = make_engine("sqlite://")
    installations = SQLAlchemyInstallationStore(client_id="111.222", engine=engine)
    states = SQLAlchemyOAuthStateStore(expiration_seconds=600, engine=engine)
    assert set(installations.metadata.tables) | set(states.metadata.tables) == SLACK_SDK_TABLES
    engine.dispose()


def test_without_database_url_the_embedded_default_is_used(tmp_path: Path) -> None:
    """Like every other command, `alembic` reads the bot's settings: no DATABASE_URL means ./data/datastore.db."""
    upgraded = alembic("-c", str(ROOT / "alembic.ini"), "upgrade", "head", cwd=tmp_path)
    assert upgraded.returncode == 0, upgraded.stderr
    assert (tmp_path / "data" / "datastore.db").is_file()
    checked = alembic("-c", str(ROOT / "alembic.ini"), "check", cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
