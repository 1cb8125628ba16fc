"""permission passes (issue #12 step 3): one row per datastore with when its next pass is due, the lease of the
worker running it, the spaces an unfinished pass has done and what the last complete pass cost

A new table only: documents (acl_id, acl_checked_at from 0008) are not touched, so no batch rebuild on SQLite.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "permission_passes",
        sa.Column("datastore_id", sa.Integer(), nullable=False),
        sa.Column("next_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("spaces_done", sa.Text(), nullable=True),
        sa.Column("new_documents_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_complete_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_points", sa.Integer(), nullable=False),
        sa.Column("last_requests", sa.Integer(), nullable=False),
        sa.Column("last_documents", sa.Integer(), nullable=False),
        sa.Column("points_so_far", sa.Integer(), nullable=False),
        sa.Column("requests_so_far", sa.Integer(), nullable=False),
        sa.Column("last_outcome", sa.String(length=16), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["datastore_id"],
            ["datastores.id"],
            name=op.f("fk_permission_passes_datastore_id_datastores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("datastore_id", name=op.f("pk_permission_passes")),
    )
    # Finding documents a pass never checked (a sync added them): per datastore, by acl_checked_at.
    op.create_index("ix_documents_acl_checked", "documents", ["datastore_id", "acl_checked_at"])


def downgrade() -> None:
    op.drop_index("ix_documents_acl_checked", table_name="documents")
    op.drop_table("permission_passes")
