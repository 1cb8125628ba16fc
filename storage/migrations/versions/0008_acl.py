"""ACLs of documents (issue #12 step 2): acls and their clauses, deduplicated by content, an ACL generation per
datastore, and documents.acl_id (NULL = unknown, hidden from per-person search)

Plain ADD COLUMN on documents: a batch rebuild on SQLite would cascade-delete its chunks and drop the FTS5
triggers. Nothing goes on chunks (an UPDATE of a chunk re-indexes it).

Revision ID: 0008
Revises: 0006 (to be chained after 0007 at merge)
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "acls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("datastore_id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["datastore_id"], ["datastores.id"], name=op.f("fk_acls_datastore_id_datastores"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_acls")),
        sa.UniqueConstraint("datastore_id", "digest", name="uq_acls_datastore_digest"),
    )
    op.create_table(
        "acl_clauses",
        sa.Column("acl_id", sa.Integer(), nullable=False),
        sa.Column("clause", sa.String(length=64), nullable=False),
        sa.Column("principal", sa.String(length=160), nullable=False),
        sa.ForeignKeyConstraint(["acl_id"], ["acls.id"], name=op.f("fk_acl_clauses_acl_id_acls"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("acl_id", "clause", "principal", name=op.f("pk_acl_clauses")),
    )
    op.create_table(
        "acl_generations",
        sa.Column("datastore_id", sa.Integer(), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["datastore_id"],
            ["datastores.id"],
            name=op.f("fk_acl_generations_datastore_id_datastores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("datastore_id", name=op.f("pk_acl_generations")),
    )
    if op.get_bind().dialect.name == "sqlite":
        # SQLite cannot ALTER in a constraint; a REFERENCES clause on the new column is allowed (NULL default).
        op.execute(
            "ALTER TABLE documents ADD COLUMN acl_id INTEGER CONSTRAINT fk_documents_acl_id_acls REFERENCES acls (id)"
        )
    else:
        op.add_column("documents", sa.Column("acl_id", sa.Integer(), nullable=True))
        op.create_foreign_key(op.f("fk_documents_acl_id_acls"), "documents", "acls", ["acl_id"], ["id"])
    op.add_column("documents", sa.Column("acl_checked_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_documents_visible", "documents", ["datastore_id", "acl_id", "id"])


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # SQLite drops no column a foreign key uses, and a batch rebuild of "documents" would cascade-delete
        # its chunks and drop the FTS5 triggers.
        raise NotImplementedError("downgrading past 0008 on SQLite is not supported: restore a backup")
    op.drop_index("ix_documents_visible", table_name="documents")
    op.drop_constraint(op.f("fk_documents_acl_id_acls"), "documents", type_="foreignkey")
    op.drop_column("documents", "acl_checked_at")
    op.drop_column("documents", "acl_id")
    op.drop_table("acl_generations")
    op.drop_table("acl_clauses")
    op.drop_table("acls")
