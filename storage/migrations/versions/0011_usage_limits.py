"""usage limits of datastores (issue #12 item 5: search and share only in listed channels, or only for the
members of a Slack user group) and the access mode a wizard's "Grant access" step chose (issue #12 step 6)

Plain ADD COLUMN on wizards (no batch rebuild). New datastores choose their mode in the wizard, so nothing
here touches existing datastores: migration 0007 marked them "everyone" with the one offer DM pending.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("wizards", sa.Column("access_mode", sa.String(length=16), nullable=True))
    op.create_table(
        "usage_limits",
        sa.Column("datastore_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("channels", sa.JSON(), nullable=True),
        sa.Column("group_id", sa.String(length=32), nullable=True),
        sa.Column("group_handle", sa.String(length=255), nullable=True),
        sa.Column("updated_by", sa.String(length=32), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["datastore_id"],
            ["datastores.id"],
            name=op.f("fk_usage_limits_datastore_id_datastores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("datastore_id", name=op.f("pk_usage_limits")),
    )


def downgrade() -> None:
    op.drop_table("usage_limits")
    op.drop_column("wizards", "access_mode")
