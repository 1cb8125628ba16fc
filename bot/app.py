"""The app factory: the one place in bot/ that builds Bolt objects (and so imports slack_bolt).

One workspace: SLACK_BOT_TOKEN. Many workspaces ("Add to Slack" at /slack/install): SLACK_CLIENT_ID and
SLACK_CLIENT_SECRET, with slack-sdk's SQLAlchemy installation and OAuth-state stores in the bot's database.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from slack_bolt import App, BoltContext, BoltRequest, BoltResponse
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.adapter.wsgi.http_request import WsgiHttpRequest
from slack_bolt.error import BoltError
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_bolt.request.internals import build_context
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError

import handlers
from bot import metrics
from bot.access.people import PersonDirectory
from bot.errors import ConfigurationError, SlackUnavailableError, UserFacingError
from bot.logs import ContextThreadPoolExecutor, current_ids, log_context, new_request_id
from bot.services import Services
from bot.slack_body import SlackBody
from bot.slack_clients import CountingWebClient, RepeatableCallRetryHandler, SlackClients
from bot.slack_gate import GATE_BODY, GATE_VERIFIED_AT, RECEIVED_AT

if TYPE_CHECKING:
    from bot.web import OAuthCallback, WsgiApp

__all__ = [
    "BOT_SCOPES",
    "BotApp",
    "CountingWebClient",
    "ObservedApp",
    "RepeatableCallRetryHandler",
    "create_app",
    "slack_wsgi",
    "start_socket_mode",
]

logger = logging.getLogger(__name__)

#: Listener threads: slow work after an ack (token exchange, Confluence calls) must not starve new requests.
LISTENER_THREADS = 32
#: The bot scopes manifest.yml declares (a test keeps the two equal).
#: users:read also delivers ``user_change`` (a deactivated user's links are removed); usergroups:read is for
#: datastores limited to a Slack user group (issue #12).
#: The *:history scopes let the bot read back its own threads (conversations.replies/history) to check whether a
#: post that timed out was applied before posting it again (handlers/slack_once.py).
BOT_SCOPES = (
    "commands",
    "chat:write",
    "chat:write.public",
    "reactions:write",
    "users:read",
    "usergroups:read",
    "im:write",
    "channels:history",
    "groups:history",
    "im:history",
    "usergroups:read",  # usergroups.list / usergroups.users.list: a datastore limited to a user group's members
)


class _DropClientTokenNotice(logging.Filter):
    """Bolt warns that SLACK_BOT_TOKEN is unused when a client is given; ours carries that same token."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "As you gave `client` as well" not in record.getMessage()


logging.getLogger("slack_bolt.App").addFilter(_DropClientTokenNotice())


class _DropFirstConnectFailure(logging.Filter):
    """While Socket Mode first connects, Bolt's own "Failed to retrieve WSS URL" (start_socket_mode says it)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "Failed to retrieve WSS URL" not in record.getMessage()


@dataclass(frozen=True)
class BotApp:
    """The Bolt app and the OAuth callback its listeners share state with."""

    bolt: App
    oauth_callback: OAuthCallback
    progress_tick: Callable[[], None]
    listeners: ThreadPoolExecutor
    #: What the HTTP gate (bot/slack_gate.py) checks every request to /slack/events against.
    signing_secret: str
    #: The one-time access offer DMs, run by the scheduler (bot.jobs.access_offers_tick).
    access_offers: Callable[[], None] | None = None

    def close(self) -> None:
        """Let listeners that are still working after their ack finish (graceful shutdown)."""
        self.listeners.shutdown(wait=True)


def _request_kind(body: dict[str, Any]) -> str:
    """The kind of a Slack request, for the handler latency histogram."""
    if "command" in body:
        return "command"
    kinds = {
        "block_actions": "action",
        "interactive_message": "action",
        "view_submission": "view",
        "view_closed": "view",
        "block_suggestion": "options",
        "event_callback": "event",
        "shortcut": "shortcut",
        "message_action": "shortcut",
    }
    return kinds.get(str(body.get("type")), "other")


def _shared_client(clients: SlackClients) -> Callable[[BoltContext, Callable[[], None]], None]:
    def middleware(context: BoltContext, next: Callable[[], None]) -> None:
        """Bolt's first global middleware: the request gets its installation's shared, counting client."""
        context["client"] = clients.like(context.client)
        next()

    return middleware


class ObservedApp(App):
    """Bolt's App, each request (over HTTP or Socket Mode) with its id on every line logged for it (kept from the
    HTTP router when it set one; copied into the listener threads) and its time to the answer in the handler
    latency histogram."""

    def dispatch(self, req: BoltRequest) -> BoltResponse:
        started = time.monotonic()
        with log_context(request_id=current_ids().get("request_id") or new_request_id()):
            try:
                return super().dispatch(req)
            finally:
                body = req.body if isinstance(req.body, dict) else {}
                metrics.HANDLER_SECONDS.labels(kind=_request_kind(body)).observe(time.monotonic() - started)


def _oauth_settings(services: Services) -> OAuthSettings:
    # Imported only in multi-workspace mode: slack-sdk's SQLAlchemy module pulls in sqlalchemy.ext.asyncio.
    from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
    from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

    settings = services.settings
    assert settings.slack_client_id is not None and settings.slack_client_secret is not None
    installations = SQLAlchemyInstallationStore(client_id=settings.slack_client_id, engine=services.engine)
    states = SQLAlchemyOAuthStateStore(expiration_seconds=600, engine=services.engine)
    # slack-sdk owns these tables' schema; it creates them if missing (checkfirst), on SQLite and PostgreSQL.
    installations.create_tables()  # type: ignore[no-untyped-call]
    states.metadata.create_all(services.engine)
    return OAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret.get_secret_value(),
        scopes=list(BOT_SCOPES),
        installation_store=installations,
        state_store=states,
        redirect_uri=f"{settings.public_url}/slack/oauth_redirect",
    )


def _client_for_team(clients: SlackClients, app: App) -> Callable[[str], WebClient]:
    """How work outside a Slack request (the OAuth callback, jobs) gets a client for a workspace."""
    store = app.installation_store
    if store is None:
        return lambda _team_id: app.client

    def for_team(team_id: str) -> WebClient:
        bot = store.find_bot(enterprise_id=None, team_id=team_id)
        if bot is None or not bot.bot_token:
            raise UserFacingError(f"Datastore Bot is not installed in workspace {team_id} any more.")
        return clients.get(bot.bot_token, team_id)

    return for_team


def create_app(services: Services, *, people: PersonDirectory | None = None, verify_token: bool = True) -> BotApp:
    """A Bolt app wired with every listener; checks the bot token against SLACK_API_URL once (unless
    ``verify_token`` is False: `serve` checked it already, bot/startup.py). ``people`` links Slack people to
    Confluence for per-person search (None: "each" datastores show nothing)."""
    settings = services.settings
    assert settings.slack_signing_secret is not None
    listeners = ContextThreadPoolExecutor(max_workers=LISTENER_THREADS, thread_name_prefix="slack")
    options: dict[str, Any] = {
        "signing_secret": settings.slack_signing_secret.get_secret_value(),
        "process_before_response": False,
        "listener_executor": listeners,
        # A request no listener takes (an unknown callback_id, action_id, command or event) reaches the one
        # @app.error (handlers/errors.py), which answers it the way Slack expects instead of Bolt's 404.
        "raise_error_for_unhandled_request": True,
        "token_verification_enabled": verify_token,
    }
    clients = SlackClients(settings.slack_api_url)
    if settings.multi_workspace:
        options.update(client=clients.get(None), oauth_settings=_oauth_settings(services))
    else:
        assert settings.slack_bot_token is not None
        options.update(client=clients.get(settings.slack_bot_token.get_secret_value()))
    try:
        app = ObservedApp(**options)
    except (BoltError, SlackApiError, SlackRequestError, OSError) as exc:
        listeners.shutdown(wait=False)
        raise SlackUnavailableError(
            f"Slack rejected SLACK_BOT_TOKEN or could not be reached at {settings.slack_api_url}: {exc}"
        ) from None
    app.use(_shared_client(clients))
    wiring = handlers.register(app, services, _client_for_team(clients, app), people=people)
    return BotApp(
        bolt=app,
        oauth_callback=wiring.oauth_callback,
        progress_tick=wiring.progress_tick,
        listeners=listeners,
        signing_secret=settings.slack_signing_secret.get_secret_value(),
        access_offers=wiring.access_offers,
    )


class _GatedRequestHandler(SlackRequestHandler):
    """Bolt's WSGI adapter, handed what the gate (bot/slack_gate.py) verified: the same bytes, and the body as
    the gate parsed it. Bolt's own parser reads any form body containing the word "payload" (a channel
    called #payload, a search for it) as an interactive payload and finds nothing; the gate's reading wins."""

    def dispatch(self, request: WsgiHttpRequest) -> BoltResponse:
        environ = request.environ
        context: dict[str, Any] = {}
        if GATE_VERIFIED_AT in environ:
            context[RECEIVED_AT] = environ[GATE_VERIFIED_AT]
        bolt_request = BoltRequest(
            body=request.get_body(), query=request.query_string, headers=request.get_headers(), context=context
        )
        parsed = environ.get(GATE_BODY)
        if isinstance(parsed, SlackBody) and bolt_request.body != parsed.fields:
            bolt_request.body = parsed.fields
            bolt_request.context = build_context(BoltContext(context), parsed.fields)
        return self.app.dispatch(bolt_request)


def slack_wsgi(app: App) -> WsgiApp:
    """The WSGI callable behind the gate for POST /slack/events (and /slack/install, /slack/oauth_redirect)."""
    return _GatedRequestHandler(app, path="/slack/events")


def start_socket_mode(app: App, app_token: str) -> SocketModeHandler:
    """Connect to Slack over Socket Mode in the background; requests then arrive over the websocket."""
    handler = SocketModeHandler(app, app_token=app_token)
    bolt_logger = logging.getLogger("slack_bolt.App")
    first_connect = _DropFirstConnectFailure()
    bolt_logger.addFilter(first_connect)  # a failure here becomes the one line below
    try:
        handler.connect()  # type: ignore[no-untyped-call]
    except SlackApiError as exc:
        error = str(exc.response.get("error", "")) if exc.response is not None else ""
        raise ConfigurationError(
            "SLACK_APP_TOKEN",
            f"Slack refused to open Socket Mode with SLACK_APP_TOKEN ({error or 'an error'}) — generate an "
            "app-level token (xapp-…) with the connections:write scope under Basic Information → App-Level "
            "Tokens, or leave SLACK_APP_TOKEN empty for HTTP mode.",
        ) from None
    except (SlackRequestError, OSError, ValueError) as exc:
        raise ConfigurationError(
            "SLACK_APP_TOKEN", f"Slack could not be reached to open Socket Mode ({exc}) — check SLACK_API_URL."
        ) from None
    finally:
        bolt_logger.removeFilter(first_connect)
    logger.info("connected to Slack in Socket Mode")
    return handler
