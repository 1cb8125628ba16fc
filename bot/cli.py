"""The `datastore-bot` command line: serve, worker (bot/cli_worker.py), migrate, keygen, demo, and the operator
commands in cli_datastores."""

from __future__ import annotations

import argparse
import logging
import shutil
import signal
import sys
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import NoReturn

from bot.cli_datastores import add_parsers
from bot.cli_worker import add_worker_parser
from bot.errors import BotError, ConfigurationError, UserFacingError
from bot.logs import configure_logging
from bot.settings import Settings, load_settings

__all__ = ["main"]

logger = logging.getLogger("datastore_bot")


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app import create_app, slack_wsgi, start_socket_mode
    from bot.jobs import Jobs
    from bot.liveness import Heartbeat, LivenessCheck, Loop
    from bot.metrics import start_metrics_server
    from bot.startup import prepare_serve
    from bot.sync.runtime import SyncRuntime
    from bot.sync.supervisor import WorkerSupervisor
    from bot.web import HttpServer, Router

    port = args.port or settings.port
    services = prepare_serve(settings, args.host, port)
    app = create_app(services, verify_token=False)
    sync = SyncRuntime(services, processes=0)  # the permission passes; syncs run in the worker processes
    jobs = Jobs(services)
    counted = settings.serve_workers > 0 and settings.metrics_port > 0
    counters = Path(tempfile.mkdtemp(prefix="datastore-bot-metrics-")) if counted else None
    workers = WorkerSupervisor(
        settings.serve_workers,
        metrics_dir=counters,
        on_start=lambda owner: Heartbeat(services, Loop.WORKER, owner).beat("starting", force=True),
    )
    liveness = LivenessCheck(services, [*workers.beats(), jobs.heartbeat])
    router = Router(
        slack=slack_wsgi(app.bolt),
        engine=services.engine,
        signing_secret=app.signing_secret,
        oauth_callback=app.oauth_callback,
        stale_loops=liveness.stale,
    )
    server = HttpServer(router, host=args.host, port=port)
    metrics = start_metrics_server(settings, services.sessions, services.budget, workers=counters)
    if metrics is not None:
        logger.info("metrics on http://%s:%d/metrics", settings.metrics_host, metrics.port)
    if settings.slack_app_token is not None:
        start_socket_mode(app.bolt, settings.slack_app_token.get_secret_value())
    mode = "Socket Mode" if settings.socket_mode else "HTTP mode (POST /slack/events)"
    logger.info("datastore-bot listening on %s:%d — %s", args.host, server.port, mode)
    terminated = threading.Event()

    def _terminate(_signum: int, _frame: FrameType | None) -> None:
        terminated.set()
        server.close()

    signal.signal(signal.SIGTERM, _terminate)
    interrupted = False
    try:
        workers.start()
        jobs.start(app.progress_tick, offers=app.access_offers, passes=sync.passes())
        server.serve_forever()
    except KeyboardInterrupt:
        logger.info("stopping")
        interrupted = True
    finally:
        workers.halt()  # first: each hands back the run it was driving while the rest shuts down
        server.close()
        app.close()
        jobs.stop()
        handed = workers.stop()
        if metrics is not None:
            metrics.close()
        if counters is not None:
            shutil.rmtree(counters, ignore_errors=True)
        sync.close()
    said = _handed_back(handed)
    if interrupted:
        raise KeyboardInterrupt(f"serve shut down; {said}")
    if terminated.is_set():  # docker stop, systemd: a graceful stop, exit code 0
        logger.info("stopped on SIGTERM; %s", said)
    return 0


def _handed_back(runs: list[int]) -> str:
    if not runs:
        return "no sync was running"
    if len(runs) == 1:
        return f"sync run {runs[0]} is handed back for the next worker"
    return f"sync runs {', '.join(map(str, sorted(runs)))} are handed back for the next workers"


def _migrate(settings: Settings, _args: argparse.Namespace) -> int:
    from bot.database_url import display_url
    from bot.startup import open_database
    from storage.migrate import current_revision

    engine = open_database(settings)
    print(f"database is at revision {current_revision(engine)} ({display_url(settings.effective_database_url)})")
    engine.dispose()
    return 0


def _keygen(_settings: Settings, _args: argparse.Namespace) -> int:
    from bot.crypto import generate_key

    print(generate_key())
    return 0


def _demo(_settings: Settings, args: argparse.Namespace) -> int:
    from demo.run import main as demo_main  # the only import of the demo package outside demo/ and tests/

    return demo_main(pages=args.pages, keep=args.keep)


class _OneLineParser(argparse.ArgumentParser):
    """argparse, but a bad argument is one line (the command, what is wrong, where to look) and exit code 2,
    like every other refusal of the command line; its subcommands' parsers are of this class too."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _OneLineParser(
        prog="datastore-bot",
        description="Datastore Bot: connect Confluence to a searchable datastore from Slack.",
        epilog="Settings come from the environment or a .env file; see .env.example.",
    )
    commands: argparse._SubParsersAction[argparse.ArgumentParser] = parser.add_subparsers(
        dest="command", metavar="COMMAND", required=True, parser_class=_OneLineParser
    )
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
    demo = commands.add_parser(
        "demo",
        help="try the bot in one command: no Slack account or Confluence site needed",
        description="Start a local Confluence site and a local Slack stand-in, run `serve` against them, create "
        "a datastore through the real wizard, show its sync's progress message live, then search it.",
    )
    demo.add_argument("--pages", type=int, default=300, help="pages in the local Confluence site (default 300)")
    demo.add_argument("--keep", action="store_true", help="keep the demo's data folder and print where it is")
    demo.set_defaults(handler=_demo)
    add_worker_parser(commands)
    add_parsers(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
        configure_logging(settings)
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
    except KeyboardInterrupt as exc:  # Ctrl-C: one line saying what happened (a command may say more), no traceback
        print(f"datastore-bot: stopped; {exc or 'interrupted before it finished'}", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
