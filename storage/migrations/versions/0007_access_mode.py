"""access modes of datastores and their audit: every existing datastore is searched as its connecting account
by everyone in the workspace, which is now said explicitly ("everyone"), written to the audit, and marked for
the one DM that offers its creator per-person access (issue #12)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from storage.access_modes import AccessMode, AccessOffer, AuditAction, AuditSource

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_datastores = sa.table(
    "datastores",
    sa.column("id", sa.Integer()),
    sa.column("team_id", sa.String()),
    sa.column("connection_id", sa.Integer()),
    sa.column("access_mode", sa.String()),
    sa.column("access_account_name", sa.String()),
    sa.column("access_offer", sa.String()),
)
_connections = sa.table("connections", sa.column("id", sa.Integer()), sa.column("account_name", sa.String()))
_audit = sa.table(
    "access_audit",
    sa.column("datastore_id", sa.Integer()),
    sa.column("team_id", sa.String()),
    sa.column("actor_user_id", sa.String()),
    sa.column("source", sa.String()),
    sa.column("action", sa.String()),
    sa.column("old_value", sa.String()),
    sa.column("new_value", sa.String()),
    sa.column("account_name", sa.String()),
    sa.column("created_at", sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    # Plain ADD COLUMN: a batch rebuild of "datastores" on SQLite would cascade-delete its documents.
    op.add_column(
        "datastores",
        sa.Column("access_mode", sa.String(length=16), server_default=AccessMode.EVERYONE.value, nullable=False),
    )
    op.add_column("datastores", sa.Column("access_account_name", sa.String(length=255), nullable=True))
    op.add_column("datastores", sa.Column("access_offer", sa.String(length=16), nullable=True))
    op.create_table(
        "access_audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("datastore_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("actor_user_id", sa.String(length=32), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("old_value", sa.String(length=255), nullable=True),
        sa.Column("new_value", sa.String(length=255), nullable=False),
        sa.Column("account_name", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["datastore_id"],
            ["datastores.id"],
            name=op.f("fk_access_audit_datastore_id_datastores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_audit")),
    )
    op.create_index("ix_access_audit_datastore", "access_audit", ["datastore_id", "created_at"])
    account = (
        sa.select(_connections.c.account_name).where(_connections.c.id == _datastores.c.connection_id).scalar_subquery()
    )
    op.execute(
        _datastores.update().values(
            access_mode=AccessMode.EVERYONE.value, access_account_name=account, access_offer=AccessOffer.PENDING.value
        )
    )
    now = datetime.now(UTC)
    rows = sa.select(
        _datastores.c.id,
        _datastores.c.team_id,
        sa.null(),
        sa.literal(AuditSource.MIGRATION.value),
        sa.literal(AuditAction.MODE.value),
        sa.null(),
        sa.literal(AccessMode.EVERYONE.value),
        _datastores.c.access_account_name,
        sa.literal(now, type_=sa.DateTime(timezone=True)),
    )
    op.execute(_audit.insert().from_select([column.name for column in _audit.columns], rows))


def downgrade() -> None:
    op.drop_index("ix_access_audit_datastore", table_name="access_audit")
    op.drop_table("access_audit")
    # native DROP COLUMN: no table rebuild, documents stay
    op.drop_column("datastores", "access_offer")
    op.drop_column("datastores", "access_account_name")
    op.drop_column("datastores", "access_mode")
