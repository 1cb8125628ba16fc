"""Alembic environment: runs on the connection handed over by storage.migrate (or DATABASE_URL offline)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from storage.models import Base
from storage.search_index import alembic_include_name

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_name=alembic_include_name,  # type: ignore[arg-type]
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    connection = config.attributes["connection"]
    _run(connection)
