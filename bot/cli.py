"""The `datastore-bot` command line: serve, migrate, keygen, and the operator commands in cli_datastores."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from collections.abc import Sequence

from bot.cli_datastores import add_parsers
from bot.errors import BotError, ConfigurationError, UserFacingError
from bot.settings import Settings, load_settings

__all__ = ["main"]

logger = logging.getLogger("datastore_bot")


def _configure_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    settings.require_for_serve()

    from bot.app import create_app, slack_wsgi, start_socket_mode
    from bot.jobs import Jobs
    from bot.liveness import LivenessCheck
    from bot.services import build_services
    from bot.sync.runtime import SyncRuntime
    from bot.web import HttpServer, Router
    from storage.migrate import upgrade_to_head

    services = build_services(settings)
    upgrade_to_head(services.engine)
    app = create_app(services)
    sync = SyncRuntime(services)
    worker = sync.worker()
    jobs = Jobs(services)
    port = args.port or settings.port
    heartbeats = [beat for beat in (worker.heartbeat, jobs.heartbeat) if beat is not None]
    liveness = LivenessCheck(services, heartbeats)
    router = Router(
        slack=slack_wsgi(app.bolt),
        engine=services.engine,
        signing_secret=app.signing_secret,
        oauth_callback=app.oauth_callback,
        stale_loops=liveness.stale,
    )
    server = HttpServer(router, host=args.host, port=port)
    if settings.slack_app_token is not None:
        start_socket_mode(app.bolt, settings.slack_app_token.get_secret_value())
    mode = "Socket Mode" if settings.socket_mode else "HTTP mode (POST /slack/events)"
    logger.info("datastore-bot listening on %s:%d — %s", args.host, server.port, mode)
    signal.signal(signal.SIGTERM, lambda _signum, _frame: server.close())
    worker.start()
    jobs.start(app.progress_tick, offers=app.access_offers, passes=sync.passes())
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        logger.info("stopping")
    finally:
        server.close()
        app.close()
        jobs.stop()
        worker.stop()
        sync.close()
    return 0


def _migrate(settings: Settings, _args: argparse.Namespace) -> int:
    from storage.db import make_engine
    from storage.migrate import current_revision, upgrade_to_head

    engine = make_engine(settings.effective_database_url)
    upgrade_to_head(engine)
    print(f"database is at revision {current_revision(engine)}")
    return 0


def _keygen(_settings: Settings, _args: argparse.Namespace) -> int:
    from bot.crypto import generate_key

    print(generate_key())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="datastore-bot",
        description="Datastore Bot: connect Confluence to a searchable datastore from Slack.",
        epilog="Settings come from the environment or a .env file; see .env.example.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    serve = commands.add_parser(
        "serve",
        help="run the bot (HTTP mode; Socket Mode when SLACK_APP_TOKEN is set)",
        description="Run the bot: migrates the database, then serves POST /slack/events, "
        "GET /oauth/confluence/callback and GET /healthz. Uses Socket Mode for Slack when SLACK_APP_TOKEN is set.",
    )
    serve.add_argument("--host", default="0.0.0.0", help="address to listen on (default 0.0.0.0)")
    serve.add_argument("--port", type=int, default=None, help="port to listen on (default: PORT, 3000)")
    serve.set_defaults(handler=_serve)
    migrate = commands.add_parser("migrate", help="upgrade the database schema to the newest version")
    migrate.set_defaults(handler=_migrate)
    keygen = commands.add_parser("keygen", help="print a new ENCRYPTION_KEY")
    keygen.set_defaults(handler=_keygen)
    add_parsers(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
        _configure_logging(settings)
        return int(args.handler(settings, args))
    except ConfigurationError as exc:
        print(f"datastore-bot: {exc.message}", file=sys.stderr)
        return 2
    except UserFacingError as exc:
        print(f"datastore-bot: {exc}", file=sys.stderr)
        return 1
    except BotError as exc:
        print(f"datastore-bot: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
