"""wizards remember the Enterprise Grid organisation they were started in (bound to team + enterprise + user)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("wizards", sa.Column("enterprise_id", sa.String(length=32), nullable=True))


def downgrade() -> None:
    op.drop_column("wizards", "enterprise_id")
