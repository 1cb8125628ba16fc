"""Announce a new datastore: the parent message in the channel and the threaded progress reply.

Every post goes through the once-only ledger (handlers/slack_once.py): a post Slack may have applied before a
timeout or a 5xx is looked for before it is posted again, so a retry never doubles the channel message.
The listener retries a few times; if the thread still is not open, the progress job opens it later.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.progress.posts import PostKeys, PostLedger
from bot.progress.thread_store import ThreadStore
from bot.services import Services
from bot.wizard.finish import CreatedDatastore
from handlers.slack_once import TRANSPORT_ERRORS, SlackFailure, classify, post_once, retry_after_seconds
from handlers.views.datastore_messages import announcement_message, first_progress_reply, not_posted_dm

__all__ = ["CHANNEL_REFUSALS", "Thread", "announce_datastore", "open_thread"]

logger = logging.getLogger(__name__)

Message = dict[str, Any]
#: Errors that mean "this channel will not take the message": fall back to a DM.
CHANNEL_REFUSALS = {
    "not_in_channel": "I am not a member of that channel",
    "channel_not_found": "the channel is private or no longer exists",
    "is_archived": "the channel is archived",
    "restricted_action": "posting there is restricted",
}
#: The listener's attempts before it leaves the thread to the progress job, and the longest wait between them.
ATTEMPTS = 3
LONGEST_WAIT = 10.0


@dataclass
class Thread:
    channel_id: str
    parent_ts: str
    progress_ts: str


def refusal_reason(exc: SlackApiError) -> str:
    code = str(exc.response.get("error", ""))
    return CHANNEL_REFUSALS.get(code, code.replace("_", " "))


def open_thread(
    client: WebClient,
    ledger: PostLedger,
    *,
    datastore_id: int,
    channel_id: str | None,
    creator_id: str,
    parent: Message,
    progress: Message,
    not_posted: Callable[[str], Message],
) -> Thread | None:
    """Post the channel message and its progress reply (in the creator's DM when the channel refuses).
    None when a post is in flight elsewhere or its outcome is unknown: call again later."""
    reason = "no channel was known"
    if channel_id:
        key = PostKeys.announcement(datastore_id, channel_id)
        try:
            parent_ts = post_once(client, ledger, key, datastore_id=datastore_id, channel=channel_id, message=parent)
        except SlackApiError as exc:
            if classify(exc) is not SlackFailure.CHANNEL_GONE:
                raise
            reason = refusal_reason(exc)
        else:
            return _with_progress(client, ledger, datastore_id, channel_id, parent_ts, progress)
    dm = str(client.conversations_open(users=creator_id)["channel"]["id"])
    note = PostKeys.not_posted_note(datastore_id)
    if post_once(client, ledger, note, datastore_id=datastore_id, channel=dm, message=not_posted(reason)) is None:
        return None
    key = PostKeys.announcement(datastore_id, dm)
    parent_ts = post_once(client, ledger, key, datastore_id=datastore_id, channel=dm, message=parent)
    return _with_progress(client, ledger, datastore_id, dm, parent_ts, progress)


def _with_progress(
    client: WebClient, ledger: PostLedger, datastore_id: int, channel: str, parent_ts: str | None, progress: Message
) -> Thread | None:
    if parent_ts is None:
        return None
    key = PostKeys.progress(datastore_id, parent_ts, None)
    reply_ts = post_once(
        client, ledger, key, datastore_id=datastore_id, channel=channel, thread_ts=parent_ts, message=progress
    )
    return Thread(channel, parent_ts, reply_ts) if reply_ts is not None else None


def announce_datastore(
    client: WebClient,
    services: Services,
    created: CreatedDatastore,
    *,
    creator_id: str,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Post where /datastore create was typed, or by DM with an invite hint when the channel refuses."""
    ledger = PostLedger(services)
    wait = 1.0
    for attempt in range(1, ATTEMPTS + 1):
        try:
            thread = open_thread(
                client,
                ledger,
                datastore_id=created.datastore_id,
                channel_id=created.channel_id,
                creator_id=creator_id,
                parent=announcement_message(created, creator_id=creator_id),
                progress=first_progress_reply(created),
                not_posted=lambda reason: not_posted_dm(created, channel_id=created.channel_id, reason=reason),
            )
        except SlackApiError as exc:
            failure = classify(exc)
            if failure is SlackFailure.REFUSED or failure is SlackFailure.MESSAGE_GONE:
                raise
            wait = retry_after_seconds(exc) if failure is SlackFailure.RATE_LIMITED else wait
            logger.info(
                "announcing datastore %s: Slack answered %s (attempt %d)", created.datastore_id, failure, attempt
            )
            thread = None
        except TRANSPORT_ERRORS as exc:
            logger.info("announcing datastore %s: %s (attempt %d)", created.datastore_id, exc, attempt)
            thread = None
        if thread is not None:
            ThreadStore(services).opened_thread(
                created.datastore_id,
                channel_id=thread.channel_id,
                parent_ts=thread.parent_ts,
                progress_ts=thread.progress_ts,
            )
            return
        if attempt < ATTEMPTS and wait <= LONGEST_WAIT:
            sleep(wait)
            wait *= 2
    logger.warning("datastore %s: its thread is not open yet; the progress job opens it", created.datastore_id)
