"""Announce a new datastore: the parent message in the channel and the threaded progress reply."""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.services import Services
from bot.wizard.finish import CreatedDatastore
from handlers.views.datastore_messages import announcement_message, first_progress_reply, not_posted_dm
from storage.models import Datastore

__all__ = ["announce_datastore"]

logger = logging.getLogger(__name__)

#: Errors that mean "this channel will not take the message": fall back to a DM.
CHANNEL_REFUSALS = {
    "not_in_channel": "I am not a member of that channel",
    "channel_not_found": "the channel is private or no longer exists",
    "is_archived": "the channel is archived",
    "restricted_action": "posting there is restricted",
}


def _post_pair(client: WebClient, channel: str, created: CreatedDatastore, creator_id: str) -> tuple[str, str, str]:
    parent = client.chat_postMessage(channel=channel, **announcement_message(created, creator_id=creator_id))
    parent_channel, parent_ts = str(parent["channel"]), str(parent["ts"])
    reply = client.chat_postMessage(channel=parent_channel, thread_ts=parent_ts, **first_progress_reply(created))
    return parent_channel, parent_ts, str(reply["ts"])


def announce_datastore(client: WebClient, services: Services, created: CreatedDatastore, *, creator_id: str) -> None:
    """Post where /datastore create was typed, or by DM with an invite hint when the channel refuses."""
    posted: tuple[str, str, str] | None = None
    reason = "no channel was known"
    if created.channel_id:
        try:
            posted = _post_pair(client, created.channel_id, created, creator_id)
        except SlackApiError as exc:
            code = str(exc.response.get("error", ""))
            if code not in CHANNEL_REFUSALS:
                raise
            reason = CHANNEL_REFUSALS[code]
    if posted is None:
        dm = client.conversations_open(users=creator_id)
        dm_channel = str(dm["channel"]["id"])
        client.chat_postMessage(
            channel=dm_channel, **not_posted_dm(created, channel_id=created.channel_id, reason=reason)
        )
        posted = _post_pair(client, dm_channel, created, creator_id)
    channel, parent_ts, reply_ts = posted
    with services.sessions.begin() as session:
        datastore = session.get(Datastore, created.datastore_id)
        if datastore is not None:
            datastore.channel_id, datastore.parent_ts, datastore.progress_ts = channel, parent_ts, reply_ts
