"""documents, chunks, document failures, and the full-text index over chunks

The index is the one dialect-specific part of the schema (read only by storage.search_index):

* SQLite: ``chunks_fts``, an FTS5 table with external content (``content='chunks'``, rowid = chunk id),
  columns title, heading and text, tokenizer ``unicode61 remove_diacritics 2`` (Unicode case folding
  and accent folding in every script: "zurich" finds "Zürich"); triggers on ``chunks`` keep it in
  step, including deletes that cascade from documents and datastores.  A future migration that rebuilds
  ``chunks`` in batch mode drops these triggers and must recreate them (then run the FTS5 'rebuild').
* PostgreSQL: ``chunks.search_vector``, a stored generated ``tsvector`` (title weight A, heading B,
  body D) with a GIN index, in the text search configuration ``datastore_fts``: a copy of ``simple``
  (no stemming, no stop words, so every language is treated alike) that also passes words through
  ``unaccent`` when that contrib extension can be installed, matching SQLite's accent folding.  ``<``
  is indexed as a space: the default parser would otherwise take ``<angle>`` or ``List<String>`` for an
  HTML tag and index nothing of it.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.exc import DBAPIError

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_FTS_COLUMNS = "title, heading, text"
_FTS_NEW = "new.title, new.heading, new.text"
_FTS_OLD = "old.title, old.heading, old.text"
_SQLITE_UP = (
    f"CREATE VIRTUAL TABLE chunks_fts USING fts5({_FTS_COLUMNS}, content='chunks', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER chunks_fts_ai AFTER INSERT ON chunks BEGIN "
    f"INSERT INTO chunks_fts(rowid, {_FTS_COLUMNS}) VALUES (new.id, {_FTS_NEW}); END",
    "CREATE TRIGGER chunks_fts_ad AFTER DELETE ON chunks BEGIN "
    f"INSERT INTO chunks_fts(chunks_fts, rowid, {_FTS_COLUMNS}) VALUES ('delete', old.id, {_FTS_OLD}); END",
    "CREATE TRIGGER chunks_fts_au AFTER UPDATE ON chunks BEGIN "
    f"INSERT INTO chunks_fts(chunks_fts, rowid, {_FTS_COLUMNS}) VALUES ('delete', old.id, {_FTS_OLD}); "
    f"INSERT INTO chunks_fts(rowid, {_FTS_COLUMNS}) VALUES (new.id, {_FTS_NEW}); END",
)
_SQLITE_DOWN = (
    "DROP TRIGGER IF EXISTS chunks_fts_au",
    "DROP TRIGGER IF EXISTS chunks_fts_ad",
    "DROP TRIGGER IF EXISTS chunks_fts_ai",
    "DROP TABLE IF EXISTS chunks_fts",
)
_PG_VECTOR = (
    "ALTER TABLE chunks ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ("
    "setweight(to_tsvector('datastore_fts'::regconfig, replace(title, '<', ' ')), 'A') || "
    "setweight(to_tsvector('datastore_fts'::regconfig, replace(heading, '<', ' ')), 'B') || "
    "setweight(to_tsvector('datastore_fts'::regconfig, replace(text, '<', ' ')), 'D')) STORED",
    "CREATE INDEX ix_chunks_search_vector ON chunks USING gin (search_vector)",
)
_UNACCENT_SCHEMA = (
    "SELECT quote_ident(n.nspname) FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
    "WHERE e.extname = 'unaccent'"
)


def _unaccent_schema(bind: sa.Connection) -> str | None:
    """The (quoted) schema of the unaccent extension, installing it when possible; None without it."""
    schema = bind.execute(sa.text(_UNACCENT_SCHEMA)).scalar()
    if schema is not None:
        return str(schema)
    if bind.execute(sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'unaccent'")).first() is None:
        return None
    try:
        with bind.begin_nested():
            bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS unaccent"))
    except DBAPIError:  # no privilege to install it: search stays accent-sensitive on this server
        return None
    schema = bind.execute(sa.text(_UNACCENT_SCHEMA)).scalar()
    return None if schema is None else str(schema)


def _create_postgresql_index(bind: sa.Connection) -> None:
    op.execute("CREATE TEXT SEARCH CONFIGURATION datastore_fts (COPY = pg_catalog.simple)")
    schema = _unaccent_schema(bind)
    if schema is not None:
        op.execute(
            "ALTER TEXT SEARCH CONFIGURATION datastore_fts "
            f"ALTER MAPPING FOR hword, hword_part, word WITH {schema}.unaccent, pg_catalog.simple"
        )
    for statement in _PG_VECTOR:
        op.execute(statement)


def upgrade() -> None:
    op.create_table(
        "documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("datastore_id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("space_id", sa.String(length=64), nullable=True),
        sa.Column("space_key", sa.String(length=255), nullable=True),
        sa.Column("space_name", sa.String(length=255), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("last_modified", sa.DateTime(timezone=True), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("indexed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["datastore_id"], ["datastores.id"], name=op.f("fk_documents_datastore_id_datastores"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
        sa.UniqueConstraint("datastore_id", "source_id", name="uq_documents_datastore_source"),
    )
    op.create_table(
        "document_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("datastore_id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.String(length=64), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["datastore_id"],
            ["datastores.id"],
            name=op.f("fk_document_failures_datastore_id_datastores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_failures")),
        sa.UniqueConstraint("datastore_id", "source_id", name="uq_document_failures_datastore_source"),
    )
    op.create_table(
        "chunks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("datastore_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("heading", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name=op.f("fk_chunks_document_id_documents"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chunks")),
    )
    op.create_index(op.f("ix_chunks_document_id"), "chunks", ["document_id"], unique=False)
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for statement in _SQLITE_UP:
            op.execute(statement)
    elif bind.dialect.name == "postgresql":
        _create_postgresql_index(bind)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for statement in _SQLITE_DOWN:
            op.execute(statement)
    elif bind.dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_chunks_search_vector")
        op.execute("ALTER TABLE chunks DROP COLUMN IF EXISTS search_vector")
        op.execute("DROP TEXT SEARCH CONFIGURATION IF EXISTS datastore_fts")
    op.drop_index(op.f("ix_chunks_document_id"), table_name="chunks")
    op.drop_table("chunks")
    op.drop_table("document_failures")
    op.drop_table("documents")
