"""Who opened the bot's App Home recently, so their tab is published again when a sync finishes."""

from __future__ import annotations

from datetime import datetime

from bot.services import Services
from storage.home_viewers import recent_home_viewers, record_home_viewer

__all__ = ["recent_viewers", "record_viewer"]


def record_viewer(services: Services, *, team_id: str, user_id: str, now: datetime) -> None:
    with services.sessions.begin() as session:
        record_home_viewer(session, team_id=team_id, user_id=user_id, now=now)


def recent_viewers(services: Services, *, team_id: str, since: datetime, limit: int) -> list[str]:
    """User ids of the workspace's most recent App Home viewers since ``since``, newest first."""
    with services.sessions() as session:
        return recent_home_viewers(session, team_id=team_id, since=since, limit=limit)
