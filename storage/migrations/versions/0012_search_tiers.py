"""search tiers for common words on PostgreSQL (issue #12 performance): GIN indexes over the title of documents
and the heading of chunks, so a word most chunks contain is ranked by its title and heading matches without
reading every chunk's TOASTed search_vector (see storage.search_pg)

Expression indexes, not generated columns: no table rewrite, nothing new in the models. SQLite needs nothing
(FTS5 column filters do the same on chunks_fts), so this is a no-op there.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# The expressions must stay those of storage.search_pg (_TITLE, _HEADING) for the planner to use the indexes.
_UP = (
    "CREATE INDEX ix_documents_title_fts ON documents "
    "USING gin (to_tsvector('datastore_fts'::regconfig, replace(title, '<', ' ')))",
    "CREATE INDEX ix_chunks_heading_fts ON chunks "
    "USING gin (to_tsvector('datastore_fts'::regconfig, replace(heading, '<', ' ')))",
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in _UP:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_chunks_heading_fts")
    op.execute("DROP INDEX IF EXISTS ix_documents_title_fts")
