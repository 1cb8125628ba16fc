"""resyncs that list only what changed (issue #14 item 2): per space and kind, Atlassian's time from which the
next resync asks for changes (space_watermarks); the deletion check's own cadence on datastores; whether a run
lists every id (the deletion check) and, per listed space, when its listing began and from when it asks for
changes; the kind and space of a failed item, so a resync that lists only changes still retries it.

Plain ADD COLUMN (nullable, or with a server default) and one new table: no batch rebuild.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "space_watermarks",
        sa.Column("datastore_id", sa.Integer(), nullable=False),
        sa.Column("space_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("changes_since", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["datastore_id"],
            ["datastores.id"],
            name=op.f("fk_space_watermarks_datastore_id_datastores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("datastore_id", "space_id", "kind", name=op.f("pk_space_watermarks")),
    )
    op.add_column("datastores", sa.Column("deletion_interval_minutes", sa.Integer(), nullable=True))
    op.add_column("datastores", sa.Column("deletions_checked_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        "sync_runs", sa.Column("lists_everything", sa.Boolean(), server_default=sa.text("true"), nullable=False)
    )
    op.add_column("sync_run_spaces", sa.Column("changes_since", sa.DateTime(timezone=True), nullable=True))
    op.add_column("sync_run_spaces", sa.Column("listed_from", sa.DateTime(timezone=True), nullable=True))
    op.add_column("document_failures", sa.Column("kind", sa.String(length=16), nullable=True))
    op.add_column("document_failures", sa.Column("space_id", sa.String(length=64), nullable=True))


def downgrade() -> None:
    op.drop_column("document_failures", "space_id")
    op.drop_column("document_failures", "kind")
    op.drop_column("sync_run_spaces", "listed_from")
    op.drop_column("sync_run_spaces", "changes_since")
    op.drop_column("sync_runs", "lists_everything")
    op.drop_column("datastores", "deletions_checked_at")
    op.drop_column("datastores", "deletion_interval_minutes")
    op.drop_table("space_watermarks")
