"""Deletion notices waiting to mark a deleted datastore's channel message "deleted by …": which ones this
process takes, and recording that one was delivered (or handed back). ``handlers/notices.py`` speaks Slack and
calls these; it opens no session itself."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.services import Services
from storage.models import DeletionNotice
from storage.progress import claim_notice, pending_notices

__all__ = ["PendingNotice", "claim_notices", "finish_notice"]


@dataclass(frozen=True)
class PendingNotice:
    """A claimed notice: where the message is and what it should say."""

    id: int
    team_id: str
    channel_id: str
    message_ts: str
    name: str
    site: str
    deleted_by: str | None
    documents: int
    created_at: datetime


def claim_notices(
    services: Services, *, team_id: str | None, now: datetime, stale_after: timedelta
) -> list[PendingNotice]:
    """The pending notices (of one workspace, or all) this process claimed; a claim older than ``stale_after``
    (a crash mid-delivery, or a failure) is taken again."""
    with services.sessions.begin() as session:
        return [
            PendingNotice(
                id=notice.id,
                team_id=notice.team_id,
                channel_id=notice.channel_id,
                message_ts=notice.message_ts,
                name=notice.name,
                site=notice.site,
                deleted_by=notice.deleted_by,
                documents=notice.documents,
                created_at=notice.created_at,
            )
            for notice in pending_notices(session, team_id=team_id)
            if claim_notice(session, notice_id=notice.id, now=now, stale_after=stale_after)
        ]


def finish_notice(services: Services, notice_id: int, *, delivered: bool, now: datetime) -> None:
    """Record a notice delivered (or gone for good), or hand its claim back to be tried again."""
    with services.sessions.begin() as session:
        notice = session.get(DeletionNotice, notice_id)
        if notice is not None:
            if delivered:
                notice.delivered_at = now
            else:
                notice.claimed_at = None
