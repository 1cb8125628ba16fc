"""The app factory: the one place in bot/ that builds Bolt objects (and so imports slack_bolt)."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.error import BoltError
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler

import handlers
from bot.errors import SlackUnavailableError
from bot.services import Services

if TYPE_CHECKING:
    from bot.web import OAuthCallback, WsgiApp

__all__ = ["BotApp", "create_app", "slack_wsgi", "start_socket_mode"]

logger = logging.getLogger(__name__)

#: Listener threads: slow work after an ack (token exchange, Confluence calls) must not starve new requests.
LISTENER_THREADS = 32


class _DropClientTokenNotice(logging.Filter):
    """Bolt warns that SLACK_BOT_TOKEN is unused when a client is given; ours carries that same token."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "As you gave `client` as well" not in record.getMessage()


logging.getLogger("slack_bolt.App").addFilter(_DropClientTokenNotice())


@dataclass(frozen=True)
class BotApp:
    """The Bolt app and the OAuth callback its listeners share state with."""

    bolt: App
    oauth_callback: OAuthCallback
    listeners: ThreadPoolExecutor

    def close(self) -> None:
        """Let listeners that are still working after their ack finish (graceful shutdown)."""
        self.listeners.shutdown(wait=True)


def create_app(services: Services) -> BotApp:
    """A Bolt app wired with every listener; checks the bot token against SLACK_API_URL once."""
    settings = services.settings
    assert settings.slack_bot_token is not None and settings.slack_signing_secret is not None
    client = WebClient(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=settings.slack_api_url,
        timeout=10,
        retry_handlers=[ConnectionErrorRetryHandler(max_retry_count=2)],
    )
    listeners = ThreadPoolExecutor(max_workers=LISTENER_THREADS, thread_name_prefix="slack")
    try:
        app = App(
            client=client,
            signing_secret=settings.slack_signing_secret.get_secret_value(),
            process_before_response=False,
            listener_executor=listeners,
        )
    except (BoltError, SlackApiError, SlackRequestError, OSError) as exc:
        listeners.shutdown(wait=False)
        raise SlackUnavailableError(
            f"Slack rejected SLACK_BOT_TOKEN or could not be reached at {settings.slack_api_url}: {exc}"
        ) from None
    oauth_callback = handlers.register(app, services)
    return BotApp(bolt=app, oauth_callback=oauth_callback, listeners=listeners)


def slack_wsgi(app: App) -> WsgiApp:
    """The WSGI callable that serves POST /slack/events."""
    return SlackRequestHandler(app, path="/slack/events")


def start_socket_mode(app: App, app_token: str) -> SocketModeHandler:
    """Connect to Slack over Socket Mode in the background; requests then arrive over the websocket."""
    handler = SocketModeHandler(app, app_token=app_token)
    handler.connect()  # type: ignore[no-untyped-call]
    logger.info("connected to Slack in Socket Mode")
    return handler
