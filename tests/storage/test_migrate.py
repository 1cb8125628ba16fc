from __future__ import annotations

import threading

from sqlalchemy import inspect

from storage.db import database_is_reachable, make_engine, make_sessionmaker
from storage.migrate import current_revision, head_revision, upgrade_to_head
from storage.workspaces import get_workspace, touch_workspace


def test_upgrade_creates_the_schema_and_is_repeatable(database_url: str) -> None:
    engine = make_engine(database_url)
    assert current_revision(engine) is None
    upgrade_to_head(engine)
    upgrade_to_head(engine)
    assert current_revision(engine) == head_revision()
    assert "workspaces" in inspect(engine).get_table_names()
    engine.dispose()


def test_concurrent_upgrades_take_turns(database_url: str) -> None:
    engines = [make_engine(database_url) for _ in range(3)]
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            upgrade_to_head(engines[index])
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert current_revision(engines[0]) == head_revision()
    for engine in engines:
        engine.dispose()


def test_workspace_repository_never_commits(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade_to_head(engine)
    sessions = make_sessionmaker(engine)
    with sessions() as session:
        touch_workspace(session, team_id="T1", team_name="Acme")
        session.rollback()
    with sessions.begin() as session:
        assert get_workspace(session, team_id="T1") is None
        touch_workspace(session, team_id="T1", team_name="Acme")
    with sessions.begin() as session:
        workspace = get_workspace(session, team_id="T1")
        assert workspace is not None and workspace.team_name == "Acme"
        touch_workspace(session, team_id="T1")
    with sessions() as session:
        workspace = get_workspace(session, team_id="T1")
        assert workspace is not None and workspace.team_name == "Acme"
    assert database_is_reachable(engine)
    engine.dispose()


def test_unreachable_database_is_reported() -> None:
    engine = make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    assert database_is_reachable(engine) is False
    engine.dispose()


def test_migrations_match_the_models(database_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from storage.models import Base
    from storage.search_index import alembic_include_name

    engine = make_engine(database_url)
    upgrade_to_head(engine)
    with engine.connect() as connection:
        opts = {"compare_type": True, "include_name": alembic_include_name}
        diff = compare_metadata(MigrationContext.configure(connection, opts=opts), Base.metadata)
    assert diff == []
    engine.dispose()
