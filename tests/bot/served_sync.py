"""A datastore created through a real `datastore-bot serve` and synced long enough for a fault to land mid-sync:
the shared setting of the end-to-end fault tests (classes 4 and 11 of issue #11)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.crypto import generate_key
from demo.fakes.atlassian import FakeAtlassian, OAuthApp, SiteConfig, SiteSpec
from demo.fakes.slack_api import FakeSlack
from demo.fakes.slack_requests import SlackRequestSender
from storage.db import make_engine
from storage.models import CreditEntry, Datastore, SyncRun
from tests.handlers.wizard_driver import WizardDriver
from tests.harness import SIGNING_SECRET, free_port, wait_until
from tests.served import CLIENT_ID, CLIENT_SECRET, Endpoint, Served, ServedWorld, serve, serve_environment

__all__ = ["DONE", "ServedSync", "served_sync"]

DONE = "✅ *eng-wiki* is ready"


@dataclass
class ServedSync:
    slack: FakeSlack
    atlassian: FakeAtlassian
    engine: Engine  # the test's own view of serve's database
    served: Served
    port: int
    sender: SlackRequestSender
    pages: int
    environment: dict[str, str]  # serve's: what another `datastore-bot` command needs to share its database

    def runs(self) -> list[SyncRun]:
        with Session(self.engine) as session:
            return list(session.scalars(select(SyncRun).order_by(SyncRun.id)))

    def run(self) -> SyncRun:
        runs = self.runs()
        assert runs, "no sync run"
        return runs[-1]

    def datastore(self) -> Datastore:
        with Session(self.engine) as session:
            return session.scalars(select(Datastore)).one()

    def thread(self) -> tuple[str, str, str]:
        datastore = self.datastore()
        assert datastore.channel_id and datastore.parent_ts and datastore.progress_ts
        return datastore.channel_id, datastore.parent_ts, datastore.progress_ts

    def wait_processing(self) -> SyncRun:
        """Until pages are being processed (the run still has a good part to go) and the thread shows it."""

        def processing() -> bool:
            runs = self.runs()
            assert not runs or runs[-1].state != "finished", "the sync finished before the fault was injected"
            started = bool(runs) and runs[-1].phase == "processing" and runs[-1].processed > 0
            return started and self.datastore().progress_ts is not None

        wait_until(processing, timeout=60, interval=0.05)
        return self.run()

    def wait_finished(self, *, announced: bool = True, timeout: float = 120) -> SyncRun:
        def done() -> bool:
            run = self.run()
            return run.state == "finished" and (run.announced_ts is not None or not announced)

        wait_until(done, timeout=timeout, interval=0.1)
        return self.run()

    def charged(self, run_id: int) -> int:
        """The credits the run ``run_id`` was charged."""
        with Session(self.engine) as session:
            total = session.scalar(
                select(func.sum(CreditEntry.amount)).where(CreditEntry.run_id == run_id, CreditEntry.kind == "charge")
            )
        return -int(total or 0)

    def healthz(self) -> httpx.Response:
        return httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=5)


@contextmanager
def served_sync(
    slack: FakeSlack,
    database_url: str,
    tmp_path: Path,
    *,
    pages: int = 1_000,
    channel_id: str | None = None,
    before_create: Callable[[FakeSlack], None] = lambda _slack: None,
    on_started: Callable[[Engine], None] = lambda _engine: None,
    page_latency: float = 1.5,
    **env: str,
) -> Iterator[ServedSync]:
    """A `serve` against the fakes; the default user created datastore eng-wiki in ``channel_id`` (default
    #general) and its first sync is under way (slow page bodies: each listing page of bodies takes
    ``page_latency``, so processing lasts several seconds).
    ``on_started`` runs once `serve` migrated the database, ``before_create`` before the wizard's last step."""
    port = free_port()
    callback = f"http://127.0.0.1:{port}/oauth/confluence/callback"
    # Two spaces: each listed in pages // 500 listing pages of 250 bodies, one after the other.
    spec = SiteSpec(spaces=2, pages_per_space=pages // 2, blogposts_per_space=0, body_bytes=1500)
    apps = [OAuthApp(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, redirect_uris=(callback,))]
    engine = make_engine(database_url)
    served: Served | None = None
    try:
        with FakeAtlassian(sites=[SiteConfig(name="acme", spec=spec)], apps=apps) as atlassian:
            atlassian.set_consent(site_ids=(atlassian.cloud_id,))
            atlassian.set_latency(0.05)
            atlassian.set_latency(page_latency, "GET /wiki/api/v2/pages")
            atlassian.set_latency(page_latency, "GET */wiki/api/v2/spaces/*/pages?*body-format=storage*")
            environment = serve_environment(slack, atlassian, database_url, port, generate_key(), **env)
            with serve(environment, port, tmp_path / "serve.log") as served:
                on_started(engine)
                with SlackRequestSender(f"http://127.0.0.1:{port}/slack/events", SIGNING_SECRET, slack) as sender:
                    driver = WizardDriver(ServedWorld(slack=slack, bot=Endpoint(sender)), channel_id=channel_id)
                    driver.connect("eng-wiki", "acme")
                    driver.grant(None)
                    before_create(slack)
                    assert driver.submit().json == {"response_action": "clear"}
                    yield ServedSync(slack, atlassian, engine, served, port, sender, pages, environment)
    except BaseException:
        if served is not None:
            print(f"----- serve log -----\n{served.output()}")
        raise
    finally:
        engine.dispose()


def settle(seconds: float = 2.0) -> None:
    """A few more progress ticks of `serve`: whatever they would add must not change the outcome."""
    time.sleep(seconds)
