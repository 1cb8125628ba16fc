"""datastore deletion notices, App Home viewers, thread permalinks, compact "seen" listing rows

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN: a batch rebuild of "datastores" on SQLite would cascade-delete its documents.
    op.add_column("datastores", sa.Column("thread_url", sa.Text(), nullable=True))
    op.create_table(
        "home_viewers",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "user_id", name=op.f("pk_home_viewers")),
    )
    op.create_table(
        "deletion_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("message_ts", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("site", sa.String(length=255), nullable=False),
        sa.Column("deleted_by", sa.String(length=32), nullable=True),
        sa.Column("documents", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deletion_notices")),
    )
    op.create_index("ix_deletion_notices_pending", "deletion_notices", ["delivered_at"])
    op.create_table(
        "sync_run_seen",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("source_ids", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["sync_runs.id"], name=op.f("fk_sync_run_seen_run_id_sync_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_run_seen")),
    )
    op.create_index(op.f("ix_sync_run_seen_run_id"), "sync_run_seen", ["run_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_sync_run_seen_run_id"), table_name="sync_run_seen")
    op.drop_table("sync_run_seen")
    op.drop_index("ix_deletion_notices_pending", table_name="deletion_notices")
    op.drop_table("deletion_notices")
    op.drop_table("home_viewers")
    op.drop_column("datastores", "thread_url")  # native DROP COLUMN: no table rebuild, documents stay
