"""initial schema: workspaces, wizards, OAuth states, connections, spaces, datastores, sync runs

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "connections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("created_by", sa.String(length=32), nullable=False),
        sa.Column("cloud_id", sa.String(length=64), nullable=False),
        sa.Column("site_url", sa.String(length=255), nullable=False),
        sa.Column("site_name", sa.String(length=255), nullable=True),
        sa.Column("account_id", sa.String(length=128), nullable=True),
        sa.Column("account_name", sa.String(length=255), nullable=True),
        sa.Column("scopes", sa.Text(), nullable=False),
        sa.Column("access_token_enc", sa.Text(), nullable=True),
        sa.Column("refresh_token_enc", sa.Text(), nullable=True),
        sa.Column("access_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("token_version", sa.Integer(), nullable=False),
        sa.Column("spaces_listed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connections")),
    )
    op.create_index(op.f("ix_connections_team_id"), "connections", ["team_id"], unique=False)
    op.create_table(
        "workspaces",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("team_name", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("credit_balance", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("topoff_threshold", sa.BigInteger(), nullable=True),
        sa.Column("topoff_amount", sa.BigInteger(), nullable=True),
        sa.Column("topoff_monthly_cap", sa.BigInteger(), nullable=True),
        sa.Column("topoff_updated_by", sa.String(length=32), nullable=True),
        sa.Column("topoff_updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("team_id", name=op.f("pk_workspaces")),
    )
    op.create_table(
        "confluence_spaces",
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("space_id", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("name_folded", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_confluence_spaces_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("connection_id", "space_id", name=op.f("pk_confluence_spaces")),
    )
    op.create_index("ix_confluence_spaces_lookup", "confluence_spaces", ["connection_id", "name_folded"], unique=False)
    op.create_table(
        "datastores",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("name_key", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=True),
        sa.Column("share_all", sa.Boolean(), nullable=False),
        sa.Column("spaces", sa.JSON(), nullable=True),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("status_detail", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=32), nullable=False),
        sa.Column("created_by_name", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("wizard_id", sa.String(length=32), nullable=True),
        sa.Column("channel_id", sa.String(length=32), nullable=True),
        sa.Column("parent_ts", sa.String(length=32), nullable=True),
        sa.Column("progress_ts", sa.String(length=32), nullable=True),
        sa.Column("document_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_datastores_connection_id_connections"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_datastores")),
        sa.UniqueConstraint("team_id", "name_key", name="uq_datastores_team_name"),
        sa.UniqueConstraint("wizard_id", name=op.f("uq_datastores_wizard_id")),
    )
    op.create_table(
        "sync_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("datastore_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("phase", sa.String(length=24), nullable=False),
        sa.Column("outcome", sa.String(length=24), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("pause_kind", sa.String(length=24), nullable=True),
        sa.Column("paused_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("spaces_total", sa.Integer(), nullable=False),
        sa.Column("spaces_done", sa.Integer(), nullable=False),
        sa.Column("found", sa.Integer(), nullable=False),
        sa.Column("to_process", sa.Integer(), nullable=False),
        sa.Column("processed", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("deleted", sa.Integer(), nullable=False),
        sa.Column("credits_charged", sa.BigInteger(), nullable=False),
        sa.Column("enumeration_complete", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("processing_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["datastore_id"], ["datastores.id"], name=op.f("fk_sync_runs_datastore_id_datastores"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_runs")),
    )
    op.create_index("ix_sync_runs_claim", "sync_runs", ["state", "lease_expires_at"], unique=False)
    op.create_index(op.f("ix_sync_runs_datastore_id"), "sync_runs", ["datastore_id"], unique=False)
    op.create_table(
        "wizards",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("step", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=True),
        sa.Column("name_key", sa.String(length=64), nullable=True),
        sa.Column("view_id", sa.String(length=64), nullable=True),
        sa.Column("view_closed", sa.Boolean(), nullable=False),
        sa.Column("top_off", sa.String(length=16), nullable=True),
        sa.Column("site_url", sa.String(length=255), nullable=True),
        sa.Column("connection_id", sa.Integer(), nullable=True),
        sa.Column("oauth_error", sa.Text(), nullable=True),
        sa.Column("offered_sites", sa.JSON(), nullable=True),
        sa.Column("share_all", sa.Boolean(), nullable=True),
        sa.Column("spaces", sa.JSON(), nullable=True),
        sa.Column("datastore_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_wizards_connection_id_connections"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["datastore_id"], ["datastores.id"], name=op.f("fk_wizards_datastore_id_datastores"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wizards")),
    )
    op.create_index("ix_wizards_owner", "wizards", ["team_id", "user_id", "status"], unique=False)
    op.create_index(
        "uq_wizards_open_name",
        "wizards",
        ["team_id", "name_key"],
        unique=True,
        sqlite_where=sa.text("status = 'open' AND name_key IS NOT NULL"),
        postgresql_where=sa.text("status = 'open' AND name_key IS NOT NULL"),
    )
    op.create_table(
        "credit_ledger",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("balance_after", sa.BigInteger(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["sync_runs.id"], name=op.f("fk_credit_ledger_run_id_sync_runs"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_ledger")),
    )
    op.create_index("ix_credit_ledger_team", "credit_ledger", ["team_id", "created_at"], unique=False)
    op.create_table(
        "oauth_states",
        sa.Column("state_hash", sa.String(length=64), nullable=False),
        sa.Column("wizard_id", sa.String(length=32), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["wizard_id"], ["wizards.id"], name=op.f("fk_oauth_states_wizard_id_wizards"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("state_hash", name=op.f("pk_oauth_states")),
    )
    op.create_table(
        "sync_items",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("space_id", sa.String(length=64), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("last_modified", sa.DateTime(timezone=True), nullable=True),
        sa.Column("webui", sa.Text(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["sync_runs.id"], name=op.f("fk_sync_items_run_id_sync_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("run_id", "source_id", name=op.f("pk_sync_items")),
    )
    op.create_index("ix_sync_items_state", "sync_items", ["run_id", "state"], unique=False)
    op.create_table(
        "sync_run_spaces",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("space_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("space_key", sa.String(length=255), nullable=False),
        sa.Column("space_name", sa.String(length=255), nullable=False),
        sa.Column("cursor", sa.Text(), nullable=True),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"], ["sync_runs.id"], name=op.f("fk_sync_run_spaces_run_id_sync_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("run_id", "space_id", "kind", name=op.f("pk_sync_run_spaces")),
    )


def downgrade() -> None:
    op.drop_table("sync_run_spaces")
    op.drop_index("ix_sync_items_state", table_name="sync_items")
    op.drop_table("sync_items")
    op.drop_table("oauth_states")
    op.drop_index("ix_credit_ledger_team", table_name="credit_ledger")
    op.drop_table("credit_ledger")
    op.drop_index(
        "uq_wizards_open_name",
        table_name="wizards",
        sqlite_where=sa.text("status = 'open' AND name_key IS NOT NULL"),
        postgresql_where=sa.text("status = 'open' AND name_key IS NOT NULL"),
    )
    op.drop_index("ix_wizards_owner", table_name="wizards")
    op.drop_table("wizards")
    op.drop_index(op.f("ix_sync_runs_datastore_id"), table_name="sync_runs")
    op.drop_index("ix_sync_runs_claim", table_name="sync_runs")
    op.drop_table("sync_runs")
    op.drop_table("datastores")
    op.drop_index("ix_confluence_spaces_lookup", table_name="confluence_spaces")
    op.drop_table("confluence_spaces")
    op.drop_table("workspaces")
    op.drop_index(op.f("ix_connections_team_id"), table_name="connections")
    op.drop_table("connections")
