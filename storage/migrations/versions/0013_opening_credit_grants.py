"""opening credit grants (issue #13): a workspace whose balance no ledger row explains — one recorded before
the free starting balance was written to the ledger, or given a balance by hand — gets one ``grant`` entry of
its current balance, so `credits show` and the ledger agree. Data only; the downgrade removes those entries.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

#: The note of the entries this migration writes (so the downgrade finds only them).
NOTE = "opening balance (recorded by migration 0013)"


def upgrade() -> None:
    op.execute(
        sa.text(
            "INSERT INTO credit_ledger (team_id, kind, amount, balance_after, run_id, note, created_at) "
            "SELECT w.team_id, 'grant', w.credit_balance, w.credit_balance, NULL, :note, w.created_at "
            "FROM workspaces w WHERE w.credit_balance <> 0 "
            "AND NOT EXISTS (SELECT 1 FROM credit_ledger c WHERE c.team_id = w.team_id)"
        ).bindparams(note=NOTE)
    )


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM credit_ledger WHERE kind = 'grant' AND note = :note").bindparams(note=NOTE))
