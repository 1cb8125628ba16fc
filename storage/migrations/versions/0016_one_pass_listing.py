"""one-pass syncs (issue #14 item 2): a full or first sync lists its pages with their bodies and indexes them as
they arrive, so a run records whether it lists bodies, whether its total is the count's estimate, and whether
its listing has ended (the phase no longer says so: a one-pass listing runs during Processing).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

COLUMNS = ("lists_bodies", "total_estimated", "listing_finished")


def upgrade() -> None:
    with op.batch_alter_table("sync_runs") as batch:
        for name in COLUMNS:
            batch.add_column(sa.Column(name, sa.Boolean(), server_default=sa.text("false"), nullable=False))
    # A run past its listing before this migration keeps going from there, not from a second listing.
    op.execute("UPDATE sync_runs SET listing_finished = true WHERE phase NOT IN ('initializing', 'syncing_metadata')")


def downgrade() -> None:
    with op.batch_alter_table("sync_runs") as batch:
        for name in reversed(COLUMNS):
            batch.drop_column(name)
