"""Shared fixtures: a clean environment per test and fresh databases (SQLite always, PostgreSQL when
TEST_DATABASE_URL is set; otherwise the ``postgres`` cases are deselected, see tests/backends.py)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from bot.settings import Settings
from demo.fakes import slack_limits
from demo.fakes.slack_api import FakeSlack
from storage.db import make_engine, make_sessionmaker
from tests.backends import BACKENDS, keep_postgresql_sample, postgres_base_url, without_postgres
from tests.corpus import Corpus
from tests.db_snapshot import TableSnapshots
from tests.harness import RunningBot, migrate, running_bot

BOT_VARIABLES = tuple(name.upper() for name in Settings.model_fields)
#: Arbitrary constant: serializes the creation of the unaccent extension across test processes.
_EXTENSION_LOCK = 7_120_431_338
# Dozens of bots share two cores while the suite runs (pytest -n): a bot's first answer, with its imports and
# database set-up, can then take longer than Slack's 3 s for reasons the test is not about.  The fakes wait
# longer in this suite; what the 3 s guards is checked by tests whose slow calls outlast SLACK_SECONDS
# (demo/fakes/slack_limits.py) and measured by the benchmark.
slack_limits.SLACK_SECONDS = 8.0


def pytest_report_header() -> str | None:
    if os.environ.get("TEST_DATABASE_URL"):
        return None
    return "postgres tests: deselected (TEST_DATABASE_URL is not set)"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without TEST_DATABASE_URL the ``postgres`` cases are deselected; ``postgresql_sample(every=n)``: of a marked
    test's PostgreSQL cases, a fixed sample runs (tests/backends.py)."""
    for choose in (without_postgres, keep_postgresql_sample):
        kept, left_out = choose(items)
        if left_out:
            config.hook.pytest_deselected(items=left_out)
            items[:] = kept


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No bot setting leaks in from the machine, and no .env file is picked up from the repo."""
    for name in BOT_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def _postgres_schema_url(base_url: str) -> Iterator[str]:
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base_url)
    with admin.begin() as connection:
        # Extensions are database-wide: installed into a test's schema, dropping that schema would cascade
        # into every other schema's search configuration. Keep unaccent in public, where no test drops it.
        # Tests run in several processes (pytest-xdist): one at a time creates it, or two would both try.
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _EXTENSION_LOCK})
        if connection.execute(text("SELECT 1 FROM pg_available_extensions WHERE name = 'unaccent'")).first():
            connection.execute(text("CREATE EXTENSION IF NOT EXISTS unaccent SCHEMA public"))
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(base_url).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database URL on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'data' / 'test.db'}"
        return
    yield from _postgres_schema_url(postgres_base_url())


@pytest.fixture
def migrated_sessions(database_url: str) -> Iterator[sessionmaker[Session]]:
    """Sessions on a database upgraded to the newest schema (disposed afterwards)."""
    engine = make_engine(database_url)
    migrate(engine)
    yield make_sessionmaker(engine)
    engine.dispose()


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    with FakeSlack() as slack:
        yield slack


@pytest.fixture
def bot(fake_slack: FakeSlack, database_url: str) -> Iterator[RunningBot]:
    """The bot served over HTTP against the fake Slack, on SQLite and (when available) PostgreSQL."""
    with running_bot(fake_slack, database_url) as running:
        yield running
        running.sender.close()


@pytest.fixture(scope="module", params=BACKENDS)
def corpus(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Corpus]:
    """One bot per module and backend for generated request corpora (tests/corpus.py): every case proves it
    changed nothing, so the cases of a module can share it."""
    with pytest.MonkeyPatch.context() as patch:
        for name in BOT_VARIABLES:
            patch.delenv(name, raising=False)
        if request.param == "sqlite":
            urls: Iterator[str] = iter([f"sqlite:///{tmp_path_factory.mktemp('corpus') / 'test.db'}"])
        else:
            urls = _postgres_schema_url(postgres_base_url())
        database_url = next(urls)
        try:
            with FakeSlack() as slack, running_bot(slack, database_url) as bot:
                yield Corpus(bot=bot, tables=TableSnapshots(bot.services.engine))
                bot.sender.close()
        finally:
            for _rest in urls:  # drops the PostgreSQL schema
                pass
