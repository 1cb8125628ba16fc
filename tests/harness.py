"""Run the real bot in-process over HTTP against the fakes: what most end-to-end tests stand on."""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from bot.access.people import PersonDirectory
from bot.app import BotApp, create_app, slack_wsgi
from bot.crypto import generate_key
from bot.services import Services, build_services
from bot.settings import Settings
from bot.web import HttpServer, Router, start_http_server
from demo.fakes import slack_limits
from demo.fakes.slack_api import FakeSlack
from demo.fakes.slack_requests import SlackRequestSender
from demo.serve import free_port as free_port  # re-exported: the tests pick ports with it
from storage.db import make_engine
from storage.migrate import upgrade_to_head

SIGNING_SECRET = "test-signing-secret"


@dataclass
class RunningBot:
    url: str
    services: Services
    slack: FakeSlack
    sender: SlackRequestSender
    server: HttpServer
    app: BotApp


@functools.cache
def _migrated_template() -> Path:
    """This process's migrated SQLite database, made on first use."""
    folder = Path(tempfile.mkdtemp(prefix="datastore-bot-template-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    engine = make_engine(f"sqlite:///{folder / 'template.db'}")
    upgrade_to_head(engine)
    engine.dispose()  # its last connection closed: the WAL is folded into the one file
    return folder / "template.db"


def migrate(engine: Engine) -> None:
    """``upgrade_to_head``, faster for a SQLite file not created yet: a copy of one migrated per process (the
    suite starts well over a thousand bots; each migration took ~0.1 s of CPU). Other databases, and files that
    exist, are migrated as `serve` migrates them; the migrations have tests of their own (tests/storage)."""
    url = engine.url
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        path = Path(url.database)
        if not path.exists():
            shutil.copyfile(_migrated_template(), path)
    upgrade_to_head(engine)  # at head already: a version check


def bot_settings(slack: FakeSlack, database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "slack_bot_token": sorted(slack.bot_tokens)[0],
        "slack_signing_secret": SIGNING_SECRET,
        "slack_api_url": slack.api_url,
        "database_url": database_url,
        "encryption_key": generate_key(),
        "public_url": "http://127.0.0.1:3000",
        "metrics_port": 0,  # many bots run at once in the suite and the benchmarks: none takes the default port
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


def command_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment of a `datastore-bot` command (sync, worker) that shares ``settings``' database, key and
    Atlassian app; ``extra`` adds or overrides variables."""
    assert settings.encryption_key is not None and settings.atlassian_client_secret is not None
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
        "DATABASE_URL": settings.effective_database_url,
        "ENCRYPTION_KEY": settings.encryption_key.get_secret_value(),
        "ATLASSIAN_CLIENT_ID": settings.atlassian_client_id or "",
        "ATLASSIAN_CLIENT_SECRET": settings.atlassian_client_secret.get_secret_value(),
        "ATLASSIAN_AUTH_URL": settings.atlassian_auth_url,
        "ATLASSIAN_API_URL": settings.atlassian_api_url,
        "LOG_LEVEL": "WARNING",
    }
    env.update(extra)
    return env


@contextmanager
def running_bot(
    slack: FakeSlack,
    database_url: str,
    *,
    port: int = 0,
    background: bool = False,
    people: PersonDirectory | None = None,
    **overrides: Any,
) -> Iterator[RunningBot]:
    """The bot's HTTP server on ``port`` (0: any), wired exactly as `datastore-bot serve` wires it.

    With ``background`` it also runs what `serve` runs beside the server: a sync worker (converting inline,
    no process pool in the test process) and the scheduler whose progress tick keeps the threads updated.
    """
    from bot.jobs import Jobs
    from bot.liveness import LivenessCheck
    from bot.sync.runtime import SyncRuntime

    services = build_services(bot_settings(slack, database_url, **overrides))
    migrate(services.engine)
    app = create_app(services, people=people)
    _wait_for_acks_as_the_fakes_do(app)
    sync = SyncRuntime(services, processes=0) if background else None
    worker = sync.worker(poll_seconds=0.2) if sync is not None else None
    jobs = Jobs(services, context=f"bot-{uuid.uuid4().hex[:8]}") if background else None
    beats = [beat for beat in (worker.heartbeat if worker else None, jobs.heartbeat if jobs else None) if beat]
    stale_loops = LivenessCheck(services, beats).stale if beats else None
    router = Router(
        slack=slack_wsgi(app.bolt),
        engine=services.engine,
        signing_secret=app.signing_secret,
        oauth_callback=app.oauth_callback,
        stale_loops=stale_loops,
    )
    server = start_http_server(router, port=port)
    url = f"http://127.0.0.1:{server.port}"
    sender = SlackRequestSender(f"{url}/slack/events", SIGNING_SECRET, slack)
    try:
        if worker is not None and jobs is not None:
            worker.start()
            jobs.start(app.progress_tick, offers=app.access_offers, passes=sync.passes() if sync else None)
        yield RunningBot(url=url, services=services, slack=slack, sender=sender, server=server, app=app)
    finally:
        server.close()
        app.close()
        if jobs is not None:
            jobs.stop()
        if worker is not None:
            worker.stop()
        if sync is not None:
            sync.close()
        services.engine.dispose()


def _wait_for_acks_as_the_fakes_do(app: BotApp) -> None:
    """Bolt gives a listener 3 s to ack, then answers as if no listener matched: under the suite's load that is
    a starved thread, not the bot's doing. Its listeners wait as long as the fakes do (demo/fakes/slack_limits.py);
    a bot run by `serve` keeps Bolt's 3 s."""
    for listener in app.bolt._listeners:  # Bolt has no public way to set a listener's ack timeout
        listener.ack_timeout = slack_limits.SLACK_SECONDS  # type: ignore[assignment]


def wait_until(predicate: Callable[[], bool], *, timeout: float = 5.0, interval: float = 0.02) -> None:
    """Poll ``predicate`` until true (the bot finishes work after acking); AssertionError on timeout."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(interval)


def add_connected_datastore(
    services: Services, *, cloud_id: str, token: dict[str, Any], team_id: str, credits: int, name: str = "eng-wiki"
) -> int:
    """A workspace with ``credits``, a Confluence connection holding ``token`` (encrypted) and a datastore
    sharing every space, as the wizard would leave them; returns the datastore's id."""
    from bot.atlassian.oauth import token_set_from
    from storage.models import Connection, Datastore
    from storage.workspaces import touch_workspace

    tokens = token_set_from(token)
    with services.sessions.begin() as session:
        touch_workspace(session, team_id=team_id, initial_credits=credits)
        connection = Connection(
            team_id=team_id,
            created_by="U1",
            cloud_id=cloud_id,
            site_url="https://acme.atlassian.net",
            access_token_enc=services.cipher.encrypt(tokens.access_token),
            refresh_token_enc=services.cipher.encrypt(tokens.refresh_token or ""),
            access_expires_at=tokens.expires_at,
            scopes=tokens.scope,
        )
        session.add(connection)
        session.flush()
        datastore = Datastore(
            team_id=team_id, name=name, name_key=name, connection_id=connection.id, share_all=True, created_by="U1"
        )
        session.add(datastore)
        session.flush()
        return int(datastore.id)


def open_sync_thread(
    services: Services, client: Any, *, datastore_id: int, channel: str, name: str = "eng-wiki"
) -> tuple[str, str]:
    """Post a datastore's channel card and its progress reply through ``client`` (a slack_sdk WebClient on the
    fake) and record both on the datastore, as the wizard's last step leaves them; returns (parent_ts, progress_ts)."""
    from storage.models import Datastore

    parent = str(client.chat_postMessage(channel=channel, text=f"📚 {name}")["ts"])
    progress = str(client.chat_postMessage(channel=channel, thread_ts=parent, text="Initializing")["ts"])
    with services.sessions.begin() as session:
        datastore = session.get(Datastore, datastore_id)
        assert datastore is not None
        datastore.channel_id, datastore.parent_ts, datastore.progress_ts = channel, parent, progress
    return parent, progress
