"""Deletion notices: mark a deleted datastore's channel message "deleted by …". Each notice is written with the
deletion (from Slack or the CLI) and delivered here by whichever process speaks Slack; a rate limit or a crash
only delays it, and a message that is gone needs nothing more."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.clock import utcnow
from bot.datastores.notices import claim_notices, finish_notice
from bot.errors import UserFacingError
from bot.services import Services
from handlers.views.delete import deleted_parent_message

__all__ = ["NoticeDelivery"]

logger = logging.getLogger(__name__)

#: Nothing left to update: the message, its channel, or the bot's access to it is gone.
NOTHING_TO_UPDATE = {
    "message_not_found",
    "channel_not_found",
    "is_archived",
    "not_in_channel",
    "cant_update_message",
    "edit_window_closed",
    "restricted_action",
}
#: A claim older than this (a crash mid-delivery, or a failure) is taken again.
CLAIM_STALE = timedelta(minutes=2)


class NoticeDelivery:
    def __init__(
        self,
        services: Services,
        client_for_team: Callable[[str], WebClient],
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.services, self.client_for_team, self.clock = services, client_for_team, clock

    def _finish(self, notice_id: int, *, delivered: bool) -> None:
        finish_notice(self.services, notice_id, delivered=delivered, now=self.clock())

    def deliver(self, team_id: str | None = None) -> set[str]:
        """Deliver pending notices (of one workspace, or all); returns the workspaces that had some."""
        teams: set[str] = set()
        limited: set[str] = set()
        for notice in claim_notices(self.services, team_id=team_id, now=self.clock(), stale_after=CLAIM_STALE):
            if notice.team_id in limited:
                self._finish(notice.id, delivered=False)
                continue
            teams.add(notice.team_id)
            try:
                client = self.client_for_team(notice.team_id)
                message = deleted_parent_message(
                    name=notice.name,
                    site=notice.site,
                    deleted_by=notice.deleted_by,
                    documents=notice.documents,
                    deleted_at=notice.created_at,
                )
                client.chat_update(channel=notice.channel_id, ts=notice.message_ts, **message)
            except SlackApiError as exc:
                error = str(exc.response.get("error", ""))
                if exc.response.status_code == 429:
                    limited.add(notice.team_id)
                    self._finish(notice.id, delivered=False)
                    continue
                if error not in NOTHING_TO_UPDATE:
                    logger.warning("could not mark %s deleted in Slack (%s); retrying later", notice.name, error)
                    continue  # the claim goes stale and the notice is tried again
                logger.info("the message of deleted datastore %s is gone (%s)", notice.name, error)
            except UserFacingError as exc:  # the bot is no longer installed in that workspace
                logger.info("deletion notice for %s dropped: %s", notice.name, exc)
            self._finish(notice.id, delivered=True)
        return teams
