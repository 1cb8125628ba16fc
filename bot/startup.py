"""Start-up checks: what a command makes sure of before it works, each failure one ConfigurationError line.

Every command that uses the database opens it here (``open_services``): its folder must be writable, the
database reachable within DATABASE_CONNECT_TIMEOUT (containers start in any order) and migrated. ``serve``
also checks (``prepare_serve``) that its port is free, that ENCRYPTION_KEY opens every stored token and that
Slack accepts SLACK_BOT_TOKEN.
"""

from __future__ import annotations

import logging
import socket
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError

from bot.crypto import KEY_FILE_NAME
from bot.database_url import display_url
from bot.errors import ConfigurationError
from bot.metrics import metrics_listen_error
from bot.services import Services, build_services
from bot.settings import WHERE_TO_GET, Settings
from bot.web import cannot_listen
from storage.db import make_engine
from storage.migrate import upgrade_to_head
from storage.stored_secrets import encrypted_tokens

__all__ = [
    "check_data_folder",
    "check_port",
    "check_slack_token",
    "check_stored_tokens",
    "open_database",
    "open_services",
    "prepare_serve",
    "prepare_worker",
    "wait_for_database",
]

logger = logging.getLogger(__name__)

#: Answers of auth.test that mean the token itself is refused (not Slack being unwell).
REJECTED_TOKEN_ERRORS = frozenset({"invalid_auth", "not_authed", "token_revoked", "account_inactive"})
#: Words in a database's refusal that no retry will change.
_PERMANENT = ("authentication failed", "does not exist", "no password supplied", "unable to open database file")
#: At most one "still waiting" line this often.
LOG_EVERY_SECONDS = 5.0
_MAX_DELAY = 5.0


def _writable(folder: Path, setting: str) -> None:
    """The folder exists (created if need be) and this user can create files in it."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise ConfigurationError(
            setting,
            f"{setting}: the folder {folder} is not writable ({exc.strerror or exc}) — create it and make it "
            f"writable by this user, or point {setting} at another folder.",
        ) from None


def check_data_folder(settings: Settings) -> None:
    """DATA_DIR (the embedded database and key file), or the folder of a SQLite DATABASE_URL, is writable."""
    if settings.uses_embedded_database:
        _writable(settings.data_dir, "DATA_DIR")
    url = make_url(settings.effective_database_url)
    if not settings.uses_embedded_database and url.get_backend_name() == "sqlite" and url.database:
        if url.database != ":memory:" and not url.database.startswith("file:"):
            _writable(Path(url.database).parent, "DATABASE_URL")


def _reason(error: SQLAlchemyError) -> str:
    original = getattr(error, "orig", None) or error
    return " ".join(str(original).split())[:300]


def wait_for_database(
    engine: Engine,
    settings: Settings,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Connect, retrying with backoff until DATABASE_CONNECT_TIMEOUT; ConfigurationError when it never answers."""
    where = display_url(settings.effective_database_url)
    timeout = settings.database_connect_timeout
    deadline = clock() + timeout
    delay, last_logged, attempt = 0.5, float("-inf"), 0
    while True:
        attempt += 1
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            return
        except (OperationalError, InterfaceError) as exc:
            reason = _reason(exc)
            retry = engine.dialect.name != "sqlite" and not any(word in reason for word in _PERMANENT)
            now = clock()
            if not retry or now >= deadline:
                tried = f" (tried {attempt} times in {timeout} s)" if retry and attempt > 1 else ""
                raise ConfigurationError(
                    "DATABASE_URL",
                    f"DATABASE_URL: cannot connect to {where}{tried}: {reason} — check that the database is "
                    "running and DATABASE_URL is right, or raise DATABASE_CONNECT_TIMEOUT.",
                ) from None
            if now - last_logged >= LOG_EVERY_SECONDS:
                logger.warning(
                    "database %s not reachable yet (attempt %d: %s); retrying for up to %.0f s more",
                    where,
                    attempt,
                    reason,
                    deadline - now,
                )
                last_logged = now
            sleep(min(delay, max(deadline - now, 0.0)))
            delay = min(delay * 2, _MAX_DELAY)


def _connect_and_migrate(engine: Engine, settings: Settings) -> None:
    try:
        wait_for_database(engine, settings)
        upgrade_to_head(engine)
    except BaseException:
        engine.dispose()
        raise


def open_database(settings: Settings) -> Engine:
    """The database alone (`migrate`): checked, connected (with retries) and migrated."""
    check_data_folder(settings)
    engine = make_engine(settings.effective_database_url)
    _connect_and_migrate(engine, settings)
    return engine


def open_services(settings: Settings) -> Services:
    """The services of a command that uses the database: checked, connected (with retries) and migrated."""
    check_data_folder(settings)
    services = build_services(settings)
    _connect_and_migrate(services.engine, settings)
    return services


def check_port(host: str, port: int) -> None:
    """The port is free to listen on (checked before the slow start-up work; HttpServer checks again)."""
    if not 0 <= port <= 65535:
        raise ConfigurationError("PORT", f"{port} is not a port — set PORT (or --port) to a number from 1 to 65535.")
    refused = _cannot_listen_on(host, port) if port != 0 else None
    if refused is not None:
        raise ConfigurationError("PORT", cannot_listen(host, port, refused))


def check_metrics_port(settings: Settings) -> None:
    """METRICS_HOST:METRICS_PORT is free (when /metrics is on), before the slow start-up work."""
    if settings.metrics_port == 0:
        return
    refused = _cannot_listen_on(settings.metrics_host, settings.metrics_port)
    if refused is not None:
        raise metrics_listen_error(settings.metrics_host, settings.metrics_port, refused)


def _cannot_listen_on(host: str, port: int) -> OSError | None:
    """Why ``host:port`` cannot be listened on (taken, privileged, not an address here), or None when it can."""
    try:
        with socket.create_server((host, port), reuse_port=False):
            return None
    except OSError as exc:
        return exc


def check_stored_tokens(services: Services) -> None:
    """ENCRYPTION_KEY opens every stored token; otherwise every sync would fail for good, so do not start."""
    total = unreadable = 0
    with services.sessions() as session:
        for ciphertext in encrypted_tokens(session):
            total += 1
            unreadable += not services.cipher.can_decrypt(ciphertext)
    if not unreadable:
        return
    settings = services.settings
    if settings.encryption_key is None:
        key_file = settings.data_dir / KEY_FILE_NAME
        raise ConfigurationError(
            "ENCRYPTION_KEY",
            f"the key in {key_file} cannot read {unreadable} of the {total} stored tokens — they were encrypted "
            "with another key: put that key file back from your backup, or set ENCRYPTION_KEY=new,old (the first "
            "key encrypts, every key decrypts) with the key that wrote them.",
        )
    raise ConfigurationError(
        "ENCRYPTION_KEY",
        f"ENCRYPTION_KEY cannot read {unreadable} of the {total} stored tokens — they were encrypted with another "
        "key: set ENCRYPTION_KEY=new,old (the first key encrypts, every key decrypts) with the key that wrote them.",
    )


def check_slack_token(settings: Settings) -> None:
    """Slack accepts SLACK_BOT_TOKEN (one workspace): ConfigurationError when it is refused; a warning when
    Slack cannot be asked, and serving goes on (Bolt asks again at the first request)."""
    if settings.multi_workspace or settings.slack_bot_token is None:
        return
    token = settings.slack_bot_token.get_secret_value()
    client = WebClient(token=token, base_url=settings.slack_api_url, timeout=10, retry_handlers=[])
    try:
        client.auth_test()
    except SlackApiError as exc:
        error = str(exc.response.get("error", "")) if exc.response is not None else ""
        if error in REJECTED_TOKEN_ERRORS:
            raise ConfigurationError(
                "SLACK_BOT_TOKEN",
                f"Slack rejected SLACK_BOT_TOKEN ({error}) — {WHERE_TO_GET['SLACK_BOT_TOKEN']}.",
            ) from None
        logger.warning("could not check SLACK_BOT_TOKEN: Slack answered %s; serving anyway", error or "an error")
    except (SlackRequestError, OSError, ValueError) as exc:
        logger.warning(
            "could not reach Slack at %s to check SLACK_BOT_TOKEN (%s); serving anyway", settings.slack_api_url, exc
        )


def prepare_worker(settings: Settings) -> Services:
    """Everything a sync worker checks before it claims work: the services, migrated and with tokens readable."""
    services = open_services(settings)
    try:
        check_stored_tokens(services)
    except BaseException:
        services.engine.dispose()
        raise
    return services


def prepare_serve(settings: Settings, host: str, port: int) -> Services:
    """Everything `serve` checks before it builds the app; the services, migrated and with tokens readable."""
    settings.require_for_serve()
    check_port(host, port)
    check_metrics_port(settings)
    services = open_services(settings)
    try:
        check_stored_tokens(services)
        check_slack_token(settings)
    except BaseException:
        services.engine.dispose()
        raise
    if settings.env_path is not None:
        logger.info("settings from %s", settings.env_path)
    logger.info("database: %s", display_url(settings.effective_database_url))
    return services
