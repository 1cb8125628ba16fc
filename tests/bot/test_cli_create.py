"""`datastore-bot connect` + `datastore-bot create` against the fakes and a real `serve`: the consent URL the CLI
prints is followed through the fake Atlassian consent, the running `serve` receives the callback and stores the
connection while `connect` waits, `create` makes the datastore on chosen spaces with the operator as creator, and
its first sync reaches Synced with its thread in the channel given."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.crypto import generate_key
from demo.fakes.atlassian import FakeAtlassian, OAuthApp, SiteConfig, SiteSpec
from demo.fakes.slack_api import FakeSlack
from storage.db import make_engine
from storage.models import Connection, Datastore, SyncRun
from storage.person_links import PersonLink
from tests.harness import free_port, wait_until
from tests.served import CLIENT_ID, CLIENT_SECRET, Served, serve, serve_environment

CHANNEL = "C0OPS"


@dataclass
class World:
    slack: FakeSlack
    atlassian: FakeAtlassian
    env: dict[str, str]
    engine: Engine
    served: Served
    tmp_path: Path

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot.cli", *args],
            env=self.env,
            cwd=self.tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def connect(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "connect", "acme.atlassian.net", "--team", self.slack.team_id, *args],
            env=self.env,
            cwd=self.tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )


@pytest.fixture
def world(fake_slack: FakeSlack, tmp_path: Path) -> Iterator[World]:
    database_url = f"sqlite:///{tmp_path / 'bot.db'}"
    port = free_port()
    callback = f"http://127.0.0.1:{port}/oauth/confluence/callback"
    spec = SiteSpec(spaces=3, pages_per_space=30, blogposts_per_space=0, body_bytes=800)
    apps = [OAuthApp(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, redirect_uris=(callback,))]
    fake_slack.add_channel(CHANNEL, "ops")
    engine = make_engine(database_url)
    with FakeAtlassian(sites=[SiteConfig(name="acme", spec=spec)], apps=apps) as atlassian:
        atlassian.set_consent(site_ids=(atlassian.cloud_id,))
        env = serve_environment(fake_slack, atlassian, database_url, port, generate_key(), LOG_LEVEL="WARNING")
        with serve(env, port, tmp_path / "serve.log") as served:
            try:
                yield World(fake_slack, atlassian, env, engine, served, tmp_path)
            except BaseException:
                print(f"----- serve log -----\n{served.output()}")
                raise
    engine.dispose()


def _consent_url(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("http"):
            return line.strip()
    raise AssertionError(f"no consent URL printed: {process.stderr.read() if process.stderr else ''}")


def _space_keys(world: World) -> list[str]:
    return sorted(space.key for space in world.atlassian.site.spaces.values())


def test_connect_then_create_syncs_into_the_channel_thread(world: World) -> None:
    connect = world.connect()
    url = _consent_url(connect)
    assert url.startswith(world.atlassian.auth_url)
    page = httpx.get(url, follow_redirects=True, timeout=20)
    assert page.status_code == 200, page.text
    out, err = connect.communicate(timeout=60)
    assert connect.returncode == 0, err
    assert "Connected acme.atlassian.net as " in out and err == ""
    with Session(world.engine) as session:
        connection = session.scalars(select(Connection)).one()
        assert connection.created_by == "operator" and connection.team_id == world.slack.team_id
        assert list(session.scalars(select(PersonLink))) == []  # no Slack person is linked by it

    keys = _space_keys(world)
    unknown = world.cli("create", "eng-wiki", "--spaces", f"{keys[0]},NOPE,ZZZ")
    assert unknown.returncode == 1 and unknown.stdout == ""
    assert unknown.stderr.count("\n") == 1 and "no space NOPE, ZZZ" in unknown.stderr
    with Session(world.engine) as session:
        assert list(session.scalars(select(Datastore))) == []

    created = world.cli("create", "eng-wiki", "--spaces", f"{keys[0]},{keys[2].lower()}", "--channel", CHANNEL)
    assert created.returncode == 0, created.stderr
    assert created.stdout.startswith("Created eng-wiki on acme.atlassian.net (") and created.stderr == ""
    with Session(world.engine) as session:
        datastore = session.scalars(select(Datastore)).one()
        assert datastore.created_by == "operator" and datastore.channel_id == CHANNEL
        assert not datastore.share_all
        assert sorted(item["key"] for item in (datastore.spaces or {})["items"]) == [keys[0], keys[2]]

    def synced_and_announced() -> bool:
        with Session(world.engine) as session:
            run = session.scalars(select(SyncRun)).first()
            return run is not None and run.outcome == "synced" and run.announced_ts is not None

    wait_until(synced_and_announced, timeout=120, interval=0.2)
    with Session(world.engine) as session:
        datastore = session.scalars(select(Datastore)).one()
        assert datastore.channel_id == CHANNEL and datastore.parent_ts and datastore.progress_ts
        parent_ts = datastore.parent_ts
        assert datastore.document_count == 60
    [parent] = [m for m in world.slack.messages(CHANNEL) if m.ts == parent_ts]
    assert "eng-wiki" in parent.text and "an operator" in str(parent.blocks) + parent.text
    replies = world.slack.thread_replies(CHANNEL, parent_ts)
    assert any("✅" in reply.text for reply in replies)

    again = world.cli("create", "ENG-WIKI")
    assert again.returncode == 1 and "already has a datastore" in again.stderr


def test_a_denied_consent_is_one_line_and_connects_nothing(world: World) -> None:
    world.atlassian.set_consent(approve=False)
    connect = world.connect()
    httpx.get(_consent_url(connect), follow_redirects=True, timeout=20)
    _out, err = connect.communicate(timeout=60)
    assert connect.returncode == 1
    assert err.count("\n") == 1 and err.startswith("datastore-bot: Not connected: You chose not to give access")
    with Session(world.engine) as session:
        assert list(session.scalars(select(Connection))) == []


def test_no_consent_within_the_timeout_is_one_line(world: World) -> None:
    connect = world.connect("--timeout", "1")
    _consent_url(connect)
    _out, err = connect.communicate(timeout=60)
    assert connect.returncode == 1
    assert err.count("\n") == 1 and "Not connected: no consent arrived within 1 s" in err


def test_create_without_a_connection_or_with_a_bad_channel_is_one_line(world: World) -> None:
    none = world.cli("create", "eng-wiki")
    assert none.returncode == 1 and none.stderr.count("\n") == 1
    assert "No operator connection yet: run `datastore-bot connect SITE` first." in none.stderr
    channel = world.cli("create", "eng-wiki", "--channel", "#ops")
    assert channel.returncode == 1 and "--channel takes a Slack channel id like C0123ABCD" in channel.stderr


def test_ctrl_c_while_connect_waits_voids_the_link(world: World) -> None:
    connect = world.connect()
    url = _consent_url(connect)
    connect.send_signal(signal.SIGINT)
    _out, err = connect.communicate(timeout=60)
    assert connect.returncode == 130
    assert err == "datastore-bot: stopped; the consent link no longer works; nothing was connected\n"
    page = httpx.get(url, follow_redirects=True, timeout=20)
    assert "no longer waiting" in page.text
    with Session(world.engine) as session:
        assert list(session.scalars(select(Connection))) == []
