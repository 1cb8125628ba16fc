"""Slack calls that must happen once, and what a failed Slack call means.

``post_once`` claims a post in the ledger before chat.postMessage and records its ts after. When a call fails
in a way Slack may have applied — a timeout, a dropped connection, a 5xx — the claim is marked uncertain, and
the next attempt first looks for the message in Slack (conversations.replies / conversations.history, by the
key carried in the message's metadata) so it never appears twice. The bot's WebClient never retries a post on
its own (bot/app.py), for the same reason.
"""

from __future__ import annotations

import http.client
import logging
import math
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.progress.posts import ClaimState, PostClaim, PostLedger

__all__ = [
    "EVENT_TYPE",
    "TRANSPORT_ERRORS",
    "SlackFailure",
    "classify",
    "find_post",
    "post_once",
    "retry_after_seconds",
]

logger = logging.getLogger(__name__)

#: The metadata event type of every message the bot posts once; its payload carries the ledger key.
EVENT_TYPE = "datastore_bot_post"
#: The call may or may not have reached Slack: a timeout, a refused or dropped connection, a broken answer.
TRANSPORT_ERRORS: tuple[type[Exception], ...] = (OSError, http.client.HTTPException)
#: How far before a claim an applied post may be stamped (clock skew between this host and Slack).
SKEW = timedelta(minutes=10)
#: Nothing can be looked up there: the post, if it was applied, is out of reach (or the scope is missing).
CANNOT_LOOK = {"thread_not_found", "channel_not_found", "not_in_channel", "missing_scope", "is_archived"}


class SlackFailure(StrEnum):
    RATE_LIMITED = "rate_limited"  # 429: wait Retry-After, never less
    MESSAGE_GONE = "message_gone"  # the message was deleted (or can no longer be edited)
    CHANNEL_GONE = "channel_gone"  # archived, deleted, the bot removed, posting restricted
    MAYBE_APPLIED = "maybe_applied"  # 5xx: Slack failed, perhaps after applying the call
    REFUSED = "refused"  # anything else: a bug or a permanent refusal


CHANNEL_GONE = {
    "channel_not_found",
    "is_archived",
    "not_in_channel",
    "restricted_action",
    "restricted_action_read_only_channel",
    "restricted_action_thread_only_channel",
    "restricted_action_non_threadable_channel",
    "team_access_not_granted",
    "ekm_access_denied",
}
MESSAGE_GONE = {"message_not_found", "cant_update_message", "edit_window_closed"}


def classify(exc: SlackApiError) -> SlackFailure:
    status = int(exc.response.status_code)
    error = str(exc.response.get("error", ""))
    if status == 429 or error == "ratelimited":
        return SlackFailure.RATE_LIMITED
    if status >= 500 or error in ("internal_error", "fatal_error", "service_unavailable", "request_timeout"):
        return SlackFailure.MAYBE_APPLIED
    if error in MESSAGE_GONE:
        return SlackFailure.MESSAGE_GONE
    if error in CHANNEL_GONE:
        return SlackFailure.CHANNEL_GONE
    return SlackFailure.REFUSED


def retry_after_seconds(exc: SlackApiError) -> float:
    """Slack's Retry-After (seconds) of a 429; 1 s when it is missing or not a number."""
    headers = exc.response.headers or {}
    raw = headers.get("Retry-After", headers.get("retry-after", "1"))
    value = raw[0] if isinstance(raw, list) and raw else raw
    try:
        seconds = float(str(value))
    except ValueError:
        return 1.0
    return seconds if math.isfinite(seconds) and seconds > 0 else 1.0


def _metadata(key: str) -> dict[str, Any]:
    return {"event_type": EVENT_TYPE, "event_payload": {"key": key}}


def _carries(message: dict[str, Any], key: str) -> bool:
    metadata = message.get("metadata") or {}
    payload = metadata.get("event_payload") or {}
    return bool(metadata.get("event_type") == EVENT_TYPE and payload.get("key") == key)


def find_post(client: WebClient, claim: PostClaim, key: str) -> str | None:
    """The ts of the message posted under ``key`` where ``claim`` says it was attempted, if Slack has it.
    SlackApiError when it cannot be looked up (see CANNOT_LOOK) or Slack fails."""
    since = claim.since or datetime.now().astimezone()
    oldest = f"{(since - SKEW).timestamp():.6f}"
    cursor: str | None = None
    while True:
        options: dict[str, Any] = {"channel": claim.channel_id, "oldest": oldest, "include_all_metadata": True}
        if cursor:
            options["cursor"] = cursor
        if claim.thread_ts is not None:
            page = client.conversations_replies(ts=claim.thread_ts, limit=200, **options)
        else:
            page = client.conversations_history(limit=200, **options)
        for message in page.get("messages") or []:
            if isinstance(message, dict) and _carries(message, key):
                return str(message["ts"])
        cursor = str((page.get("response_metadata") or {}).get("next_cursor") or "")
        if not cursor:
            return None


def _look_for_earlier(client: WebClient, ledger: PostLedger, claim: PostClaim, key: str) -> str | None:
    """Look for an earlier attempt; the claim goes back to uncertain if the look-up itself fails."""
    try:
        found = find_post(client, claim, key)
    except SlackApiError as exc:
        if str(exc.response.get("error", "")) not in CANNOT_LOOK:
            ledger.uncertain(key)
            raise
        logger.warning(
            "cannot check whether %s was already posted in %s (%s); posting it again",
            key,
            claim.channel_id,
            exc.response.get("error"),
        )
        return None
    except TRANSPORT_ERRORS:
        ledger.uncertain(key)
        raise
    if found is not None:
        logger.info("%s was posted by an earlier attempt (ts %s): not posting it again", key, found)
        ledger.posted(key, channel_id=claim.channel_id, ts=found)
    return found


def post_once(
    client: WebClient,
    ledger: PostLedger,
    key: str,
    *,
    datastore_id: int,
    channel: str,
    thread_ts: str | None = None,
    message: dict[str, Any],
) -> str | None:
    """Post ``message`` unless the post ``key`` already exists; returns its ts, or None when it may be in
    flight elsewhere or its outcome is unknown (try again later: it will be looked for first).

    Raises SlackApiError when Slack refused it (nothing was posted; the claim is released) and for a 5xx
    (after marking the claim uncertain); transport errors likewise mark it uncertain and are raised."""
    claim = ledger.claim(key, datastore_id=datastore_id, channel_id=channel, thread_ts=thread_ts)
    if claim.state is ClaimState.POSTED:
        return claim.ts
    if claim.state is ClaimState.BUSY:
        return None
    if claim.state is ClaimState.CHECK:
        found = _look_for_earlier(client, ledger, claim, key)
        if found is not None:
            return found
    options: dict[str, Any] = {"thread_ts": thread_ts} if thread_ts else {}
    try:
        response = client.chat_postMessage(channel=channel, metadata=_metadata(key), **options, **message)
    except SlackApiError as exc:
        if classify(exc) is SlackFailure.MAYBE_APPLIED:
            ledger.uncertain(key)
        else:
            ledger.release(key)
        raise
    except TRANSPORT_ERRORS:
        ledger.uncertain(key)
        raise
    ts = str(response["ts"])
    ledger.posted(key, channel_id=str(response.get("channel") or channel), ts=ts)
    return ts
