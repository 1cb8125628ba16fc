"""the app's Atlassian points per UTC hour, counted by every process together (issue #14 item 2): a restart
or a second process draws from the same count instead of a fresh in-memory budget.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "points_windows",
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("spent", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("window_start", name=op.f("pk_points_windows")),
    )


def downgrade() -> None:
    op.drop_table("points_windows")
