"""Alembic's script directory (``env.py``, ``versions/``), and what autogenerate compares against the models."""

from __future__ import annotations

from collections.abc import Mapping

from storage.models import Base
from storage.search_index import alembic_include_name

__all__ = ["SLACK_SDK_TABLES", "include_name", "target_metadata"]

#: What autogenerate and `alembic check` compare the database with.
target_metadata = Base.metadata

#: Tables slack-sdk's SQLAlchemy installation and OAuth state stores create in the bot's database in
#: multi-workspace mode (bot/app.py); slack-sdk owns their schema, so no migration of ours creates or drops them.
SLACK_SDK_TABLES = frozenset({"slack_installations", "slack_bots", "slack_oauth_states"})


def include_name(name: str | None, type_: str, parent_names: Mapping[str, str | None]) -> bool:
    """Alembic ``include_name`` hook: autogenerate (and ``alembic check``) leaves out slack-sdk's tables and
    the dialect-specific search index objects, none of which are in the models."""
    if type_ == "table" and name in SLACK_SDK_TABLES:
        return False
    return alembic_include_name(name, type_, parent_names)
