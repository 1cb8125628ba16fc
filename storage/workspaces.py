"""Workspace repository. Like every repository here it never commits: the caller frames the transaction."""

from __future__ import annotations

from sqlalchemy.orm import Session

from storage.models import CreditEntry, Workspace, utcnow

__all__ = ["get_workspace", "touch_workspace"]


def get_workspace(session: Session, *, team_id: str) -> Workspace | None:
    return session.get(Workspace, team_id)


def touch_workspace(
    session: Session, *, team_id: str, team_name: str | None = None, initial_credits: int = 0
) -> Workspace:
    """The workspace row for ``team_id``, created on first sight with ``initial_credits``."""
    workspace = session.get(Workspace, team_id)
    if workspace is None:
        workspace = Workspace(team_id=team_id, team_name=team_name, credit_balance=initial_credits)
        session.add(workspace)
        if initial_credits:
            grant = CreditEntry(team_id=team_id, kind="grant", amount=initial_credits, balance_after=initial_credits)
            session.add(grant)
    else:
        workspace.last_seen_at = utcnow()
        if team_name:
            workspace.team_name = team_name
    session.flush()
    return workspace
