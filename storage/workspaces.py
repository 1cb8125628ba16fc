"""Workspace repository. Like every repository here it never commits: the caller frames the transaction."""

from __future__ import annotations

from sqlalchemy.orm import Session

from storage.models import Workspace, utcnow

__all__ = ["get_workspace", "touch_workspace"]


def get_workspace(session: Session, *, team_id: str) -> Workspace | None:
    return session.get(Workspace, team_id)


def touch_workspace(session: Session, *, team_id: str, team_name: str | None = None) -> Workspace:
    """The workspace row for ``team_id``, created on first sight; records when it was last seen."""
    workspace = session.get(Workspace, team_id)
    if workspace is None:
        workspace = Workspace(team_id=team_id, team_name=team_name)
        session.add(workspace)
    else:
        workspace.last_seen_at = utcnow()
        if team_name:
            workspace.team_name = team_name
    session.flush()
    return workspace
