"""progress thread bookkeeping, per-datastore sync intervals, reconnect wizards

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (no batch table rebuild): on SQLite a rebuild of "datastores" would cascade-delete
    # every document through the foreign keys.
    op.add_column("datastores", sa.Column("sync_interval_minutes", sa.Integer(), nullable=True))
    op.add_column("datastores", sa.Column("progress_owner", sa.String(length=64), nullable=True))
    op.add_column("datastores", sa.Column("progress_lease_until", sa.DateTime(timezone=True), nullable=True))
    op.add_column("sync_runs", sa.Column("progress_digest", sa.String(length=64), nullable=True))
    op.add_column("sync_runs", sa.Column("progress_updated_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("sync_runs", sa.Column("announce_claimed_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("sync_runs", sa.Column("announced_ts", sa.String(length=32), nullable=True))
    op.add_column("wizards", sa.Column("purpose", sa.String(length=16), server_default="create", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("wizards") as batch:
        batch.drop_column("purpose")
    with op.batch_alter_table("sync_runs") as batch:
        for column in ("announced_ts", "announce_claimed_at", "progress_updated_at", "progress_digest"):
            batch.drop_column(column)
    with op.batch_alter_table("datastores") as batch:
        for column in ("progress_lease_until", "progress_owner", "sync_interval_minutes"):
            batch.drop_column(column)
