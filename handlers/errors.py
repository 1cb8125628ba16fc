"""The single ``@app.error`` handler: a clear message for the user, an error id in the log."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from slack_bolt import App, BoltResponse
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.webhook import WebhookClient

from bot.errors import UserFacingError

__all__ = ["register", "user_message_for"]

logger = logging.getLogger(__name__)


def user_message_for(error: Exception, error_id: str) -> str:
    if isinstance(error, UserFacingError):
        return str(error)
    return f"Something went wrong on my side (error id `{error_id}`). Try again, or give this id to your admin."


def _tell_user(body: dict[str, Any], client: WebClient, text: str) -> None:
    user = body.get("user_id") or (body.get("user") or {}).get("id")
    channel = body.get("channel_id") or (body.get("channel") or {}).get("id")
    try:
        if body.get("response_url"):
            WebhookClient(body["response_url"]).send(text=text, response_type="ephemeral")
        elif user and channel:
            client.chat_postEphemeral(channel=channel, user=user, text=text)
        elif user:
            dm = client.conversations_open(users=user)
            client.chat_postMessage(channel=dm["channel"]["id"], text=text)
    except (SlackApiError, SlackRequestError, OSError) as exc:
        logger.warning("could not tell the user about an error: %s", exc)


def handle_error(error: Exception, body: dict[str, Any], client: WebClient) -> BoltResponse:
    error_id = uuid.uuid4().hex[:8]
    if isinstance(error, UserFacingError):
        logger.info("user-facing error %s: %s", error_id, error)
    else:
        logger.error("unhandled error %s", error_id, exc_info=error)
    _tell_user(body, client, user_message_for(error, error_id))
    return BoltResponse(status=500, body="", headers={"x-slack-no-retry": "1"})


def register(app: App) -> None:
    app.error(handle_error)
