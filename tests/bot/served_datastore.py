"""A datastore created through the real wizard on a real `datastore-bot serve`, synced once, and the ways to look at
it afterwards: its runs, its connection, its thread. For end-to-end tests that inject Atlassian faults into resyncs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.crypto import generate_key
from demo.fakes.atlassian import FakeAtlassian, OAuthApp, SiteConfig, SiteSpec
from demo.fakes.slack_api import FakeSlack
from demo.fakes.slack_calls import SlackCall
from demo.fakes.slack_requests import SlackRequestSender
from storage.db import make_engine
from storage.models import Connection, Datastore, SyncRun
from tests.handlers.wizard_driver import WizardDriver
from tests.harness import SIGNING_SECRET, free_port, wait_until
from tests.served import CLIENT_ID, CLIENT_SECRET, Endpoint, Served, ServedWorld, serve, serve_environment

__all__ = ["NAME", "ServedDatastore", "served_datastore"]

NAME = "eng-wiki"


@dataclass
class ServedDatastore:
    slack: FakeSlack
    atlassian: FakeAtlassian
    sender: SlackRequestSender
    engine: Engine
    served: Served
    channel: str
    parent_ts: str
    progress_ts: str
    #: Where Atlassian sent the browser back after the first consent (the callback, with its code and state).
    consent_url: str = ""

    def datastore(self) -> Datastore:
        with Session(self.engine) as session:
            return session.scalars(select(Datastore)).one()

    def connection(self) -> Connection:
        with Session(self.engine) as session:
            return session.scalars(select(Connection)).one()

    def runs(self) -> list[SyncRun]:
        with Session(self.engine) as session:
            return list(session.scalars(select(SyncRun).order_by(SyncRun.id)))

    def run(self, run_id: int) -> SyncRun:
        return next(run for run in self.runs() if run.id == run_id)

    def thread_posts(self) -> list[SlackCall]:
        """Every message the bot posted in the datastore's thread, in order (the progress reply first)."""
        return [c for c in self.slack.calls("chat.postMessage") if c.args.get("thread_ts") == self.parent_ts]

    def progress_text(self) -> str:
        message = self.slack.message(self.channel, self.progress_ts)
        return f"{message.text} {message.blocks}"

    def deletion_check_due(self) -> None:
        """The next resync lists every page (its deletion check is due, as once a day)."""
        with Session(self.engine) as session, session.begin():
            session.scalars(select(Datastore)).one().deletions_checked_at = None

    def resync(self, *, full: bool = False) -> int:
        """`/datastore sync NAME [--full]` typed in Slack; the id of the run it queued."""
        before = {run.id for run in self.runs()}
        response = self.sender.slash_command(f"sync {NAME}" + (" --full" if full else ""))
        assert response.status == 200, response.body
        wait_until(lambda: {run.id for run in self.runs()} - before != set(), timeout=10)
        (run_id,) = {run.id for run in self.runs()} - before
        return run_id

    def wait_for(self, run_id: int, done: Callable[[SyncRun], bool], timeout: float = 90) -> SyncRun:
        wait_until(lambda: done(self.run(run_id)), timeout=timeout, interval=0.1)
        return self.run(run_id)

    def announced(self, run_id: int, timeout: float = 90) -> SyncRun:
        """The run, once it finished and its completion reply is posted."""
        return self.wait_for(run_id, lambda run: run.state == "finished" and run.announced_ts is not None, timeout)


@contextmanager
def served_datastore(
    slack: FakeSlack, database_url: str, tmp_path: Path, spec: SiteSpec, **environment: str
) -> Iterator[ServedDatastore]:
    """`serve` against the fakes, a datastore created through the wizard (every space shared) and its first full
    sync finished and announced. The serve log is printed when the test fails."""
    port = free_port()
    callback = f"http://127.0.0.1:{port}/oauth/confluence/callback"
    apps = [OAuthApp(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, redirect_uris=(callback,))]
    engine = make_engine(database_url)  # the test's own view of the database
    served: Served | None = None
    try:
        with FakeAtlassian(sites=[SiteConfig(name="acme", spec=spec)], apps=apps) as atlassian:
            atlassian.set_consent(site_ids=(atlassian.cloud_id,))
            env = serve_environment(slack, atlassian, database_url, port, generate_key(), **environment)
            with (
                serve(env, port, tmp_path / "serve.log") as served,
                SlackRequestSender(f"http://127.0.0.1:{port}/slack/events", SIGNING_SECRET, slack) as sender,
            ):
                driver = WizardDriver(ServedWorld(slack=slack, bot=Endpoint(sender)))
                consent = driver.connect(NAME, "acme")
                driver.grant(None)
                assert driver.submit().json == {"response_action": "clear"}
                world = ServedDatastore(slack, atlassian, sender, engine, served, "", "", "", str(consent.url))
                wait_until(lambda: len(world.runs()) == 1, timeout=10)
                first = world.announced(world.runs()[0].id)
                assert first.outcome == "synced", first.reason
                datastore = world.datastore()
                assert datastore.channel_id and datastore.parent_ts and datastore.progress_ts
                world.channel, world.parent_ts = datastore.channel_id, datastore.parent_ts
                world.progress_ts = datastore.progress_ts
                yield world
    except BaseException:
        if served is not None:
            print(f"----- serve.log -----\n{served.output()}")
        raise
    finally:
        engine.dispose()
