"""Workspace repository. Like every repository here it never commits: the caller frames the transaction."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.db import upsert_into
from storage.models import CreditEntry, Workspace, utcnow

__all__ = ["get_workspace", "touch_workspace"]

#: The ledger note of a workspace's free starting balance.
OPENING_GRANT = "free starting balance"


def get_workspace(session: Session, *, team_id: str) -> Workspace | None:
    return session.get(Workspace, team_id)


def touch_workspace(
    session: Session, *, team_id: str, team_name: str | None = None, initial_credits: int = 0
) -> Workspace:
    """The workspace row for ``team_id``, created on first sight with ``initial_credits`` — and the ledger's
    grant of them, in the same transaction. Exactly once even when first requests race: the row is inserted
    with ``ON CONFLICT DO NOTHING`` and only the one insert that created it writes the grant (on PostgreSQL a
    racing insert waits for the first transaction and then finds its row)."""
    workspace = session.get(Workspace, team_id)
    if workspace is not None:
        workspace.last_seen_at = utcnow()
        if team_name:
            workspace.team_name = team_name
        session.flush()
        return workspace
    now = utcnow()
    insert = upsert_into(session, Workspace).values(
        team_id=team_id, team_name=team_name, credit_balance=initial_credits, created_at=now, last_seen_at=now
    )
    created = session.execute(insert.on_conflict_do_nothing(index_elements=["team_id"]).returning(Workspace.team_id))
    if created.first() is not None and initial_credits:
        session.add(
            CreditEntry(
                team_id=team_id,
                kind="grant",
                amount=initial_credits,
                balance_after=initial_credits,
                note=OPENING_GRANT,
                created_at=now,
            )
        )
        session.flush()
    found = session.scalars(
        select(Workspace).where(Workspace.team_id == team_id).execution_options(populate_existing=True)
    ).one()
    return found
