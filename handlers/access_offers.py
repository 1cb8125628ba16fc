"""The one DM offering per-person access to the creator of each datastore that predates access modes
(migration 0007 marked them "everyone", access_offer pending): one message per datastore, exactly once.

Each post goes through the once-only ledger (handlers/slack_once.py, key ``ds<id>:access-offer``): of two
processes only one posts; a post whose answer was lost (timeout, 5xx, a crash before its ts was recorded) is
looked for in the DM before it is posted again. The datastore is marked ``sent`` once the ledger has its ts,
or when the creator can never get a DM (deactivated, unknown): it is not tried again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.datastores.access import AccessChanges, OfferTarget
from bot.errors import UserFacingError
from bot.progress.posts import PostKeys, PostLedger
from bot.services import Services
from handlers.slack_once import TRANSPORT_ERRORS, SlackFailure, classify, post_once
from handlers.views.access_choice import offer_message

__all__ = ["AccessOffers"]

logger = logging.getLogger(__name__)


class AccessOffers:
    def __init__(self, services: Services, changes: AccessChanges, client_for_team: Callable[[str], WebClient]) -> None:
        self.changes, self.client_for_team = changes, client_for_team
        self.ledger = PostLedger(services)

    def tick(self) -> None:
        """The scheduler job's work (bot.jobs.access_offers_tick)."""
        sent = self.send_pending()
        if sent:
            logger.info("sent %d one-time access offer DM(s)", sent)

    def send_pending(self) -> int:
        """Send the pending offers (a pass: at most OFFERS_PER_PASS); returns how many were posted now."""
        posted = 0
        for target in self.changes.pending_offers():
            try:
                outcome = self._send(target)
            except SlackApiError as exc:
                failure = classify(exc)
                if failure is SlackFailure.RATE_LIMITED:
                    logger.info("access offers: rate limited, the rest wait for the next pass")
                    return posted
                if failure is SlackFailure.MAYBE_APPLIED:
                    logger.info("access offer of datastore %s: Slack answered %s", target.datastore_id, failure)
                    continue
                error = exc.response.get("error")
                logger.warning(
                    "access offer of datastore %s cannot be sent (%s): not tried again", target.datastore_id, error
                )
                self.changes.offer_done(target.datastore_id)
                continue
            except TRANSPORT_ERRORS as exc:
                logger.info("access offer of datastore %s: %s; tried again next pass", target.datastore_id, exc)
                continue
            except UserFacingError as exc:  # the workspace uninstalled the bot
                logger.info("access offer of datastore %s: %s", target.datastore_id, exc)
                self.changes.offer_done(target.datastore_id)
                continue
            posted += outcome
        return posted

    def _send(self, target: OfferTarget) -> int:
        if not self.changes.still_pending(target.datastore_id):
            return 0
        client = self.client_for_team(target.team_id)
        dm = str(client.conversations_open(users=target.creator_id)["channel"]["id"])
        message = offer_message(
            datastore_id=target.datastore_id, name=target.name, account_name=target.account_name, site=target.site
        )
        key = PostKeys.access_offer(target.datastore_id)
        ts = post_once(client, self.ledger, key, datastore_id=target.datastore_id, channel=dm, message=message)
        if ts is None:  # in flight in another process, or its outcome unknown: the next pass sees
            return 0
        self.changes.offer_done(target.datastore_id)
        return 1
