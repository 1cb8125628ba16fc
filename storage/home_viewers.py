"""Who opened the App Home, so their tab can be refreshed when a sync finishes (never commits)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.db import upsert_into
from storage.models import HomeViewer

__all__ = ["recent_home_viewers", "record_home_viewer"]


def record_home_viewer(session: Session, *, team_id: str, user_id: str, now: datetime) -> None:
    statement = upsert_into(session, HomeViewer).values(team_id=team_id, user_id=user_id, opened_at=now)
    session.execute(statement.on_conflict_do_update(index_elements=["team_id", "user_id"], set_={"opened_at": now}))


def recent_home_viewers(session: Session, *, team_id: str, since: datetime, limit: int) -> list[str]:
    """User ids of the workspace's most recent App Home viewers since ``since``, newest first."""
    statement = (
        select(HomeViewer.user_id)
        .where(HomeViewer.team_id == team_id, HomeViewer.opened_at >= since)
        .order_by(HomeViewer.opened_at.desc())
        .limit(limit)
    )
    return list(session.scalars(statement))
