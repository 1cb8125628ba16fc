"""Alembic environment. `serve` and `datastore-bot migrate` hand over a connection (storage.migrate); the
`alembic` command line (alembic.ini at the repo root) connects to the bot's own database instead: DATABASE_URL,
or the embedded SQLite default, read from the environment and `.env` like every other command."""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from sqlalchemy import Connection

from storage.db import make_engine
from storage.migrations import include_name, target_metadata

config = context.config


def _database_url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    if url:
        return url
    # The alembic command line is an entry point of its own, like the bot's CLI: it reads the bot's settings.
    # Only here does storage/ reach into bot/ (import-linter: storage.migrations.env -> bot.settings).
    from bot.settings import load_settings

    return load_settings().effective_database_url


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_name=include_name,  # type: ignore[arg-type]
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    context.configure(url=_database_url(), target_metadata=target_metadata, include_name=include_name)  # type: ignore[arg-type]
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    if config.config_file_name is not None:
        fileConfig(config.config_file_name, disable_existing_loggers=False)
    engine = make_engine(_database_url())
    try:
        with engine.begin() as connection:
            _run(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
