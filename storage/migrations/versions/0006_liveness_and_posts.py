"""heartbeats of the long-running loops, posts made at most once, attempts and error ids of sync runs,
announcement steps done

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN: a batch rebuild of "sync_runs" on SQLite would cascade-delete its items and checkpoints.
    op.add_column("sync_runs", sa.Column("announce_steps", sa.String(length=64), nullable=True))
    op.add_column("sync_runs", sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False))
    op.add_column("sync_runs", sa.Column("error_id", sa.String(length=16), nullable=True))
    op.create_table(
        "slack_posts",
        sa.Column("key", sa.String(length=160), nullable=False),
        sa.Column("datastore_id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("thread_ts", sa.String(length=32), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("uncertain", sa.Boolean(), nullable=False),
        sa.Column("ts", sa.String(length=32), nullable=True),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["datastore_id"], ["datastores.id"], name=op.f("fk_slack_posts_datastore_id_datastores"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_slack_posts")),
    )
    op.create_index(op.f("ix_slack_posts_datastore_id"), "slack_posts", ["datastore_id"])
    op.create_table(
        "heartbeats",
        sa.Column("component", sa.String(length=32), nullable=False),
        sa.Column("owner", sa.String(length=96), nullable=False),
        sa.Column("beat_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("detail", sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint("component", "owner", name=op.f("pk_heartbeats")),
    )


def downgrade() -> None:
    op.drop_table("heartbeats")
    op.drop_index(op.f("ix_slack_posts_datastore_id"), table_name="slack_posts")
    op.drop_table("slack_posts")
    op.drop_column("sync_runs", "error_id")
    op.drop_column("sync_runs", "attempts")
    op.drop_column("sync_runs", "announce_steps")
