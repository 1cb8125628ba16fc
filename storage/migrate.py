"""Bring a database up to the newest schema with Alembic (used by `migrate` and on `serve` start-up)."""

from __future__ import annotations

import threading
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import SQLAlchemyError

from storage.errors import StorageError

__all__ = ["current_revision", "head_revision", "upgrade_to", "upgrade_to_head"]

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
#: Arbitrary constant: serializes concurrent `serve` start-ups on PostgreSQL.
_PG_MIGRATION_LOCK = 7_120_431_337
#: Alembic keeps its running context in module globals: one migration per process at a time.
_PROCESS_LOCK = threading.Lock()


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade_to_head(engine: Engine) -> None:
    """Apply every pending migration; several processes starting together on PostgreSQL take turns."""
    upgrade_to(engine, "head")


def upgrade_to(engine: Engine, revision: str) -> None:
    """Apply the migrations up to ``revision`` (the tests of a migration start from the one before it)."""
    try:
        with _PROCESS_LOCK, engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
            command.upgrade(_config(connection), revision)
    except SQLAlchemyError as exc:
        raise StorageError(f"could not migrate the database: {getattr(exc, 'orig', None) or exc}") from exc
