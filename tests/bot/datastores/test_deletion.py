"""Deleting a datastore from the core and the operator CLI: everything of that datastore goes, nothing else,
even while it syncs; its channel message is marked by whichever process speaks Slack."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from slack_sdk import WebClient
from sqlalchemy import func, select

from bot.datastores.deletion import DatastoreDeletion
from demo.fakes.atlassian import SiteSpec
from demo.fakes.slack_api import FakeSlack
from handlers.notices import NoticeDelivery
from storage.credits import charge
from storage.documents import Chunk, Document
from storage.models import Connection, Datastore, DeletionNotice, SyncRun, utcnow
from tests.bot.sync.conftest import TEAM, SyncWorld, make_world
from tests.harness import add_connected_datastore, wait_until


@pytest.fixture
def world(database_url: str) -> Iterator[SyncWorld]:
    yield from make_world(database_url, SiteSpec(spaces=2, pages_per_space=60, blogposts_per_space=0, body_bytes=2000))


def _documents(world: SyncWorld, datastore_id: int) -> tuple[int, int]:
    with world.services.sessions() as session:
        documents = session.scalar(
            select(func.count()).select_from(Document).where(Document.datastore_id == datastore_id)
        )
        chunks = session.scalar(select(func.count()).select_from(Chunk).where(Chunk.datastore_id == datastore_id))
        return int(documents or 0), int(chunks or 0)


def _cli(args: list[str], world: SyncWorld, cwd: Path) -> subprocess.CompletedProcess[str]:
    settings = world.services.settings
    assert settings.encryption_key is not None and settings.database_url is not None
    env = {key: value for key, value in os.environ.items() if key in ("PATH", "HOME", "LANG")}
    env.update(
        PYTHONPATH=str(Path(__file__).resolve().parents[3]),
        DATABASE_URL=settings.database_url,
        ENCRYPTION_KEY=settings.encryption_key.get_secret_value(),
    )
    command = [sys.executable, "-m", "bot.cli", *args]
    return subprocess.run(
        command, env=env, cwd=cwd, capture_output=True, text=True, timeout=60, check=False, stdin=subprocess.DEVNULL
    )


def test_deleting_while_it_syncs_stops_the_sync_and_leaves_nothing_behind(world: SyncWorld) -> None:
    world.atlassian.set_latency(0.05)
    run_id = world.queue(kind="full")
    worker = world.worker()
    finished = threading.Event()

    def run() -> None:
        worker.run_until_idle()
        finished.set()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    wait_until(lambda: world.run(run_id).processed > 0, timeout=20)
    deleted = DatastoreDeletion(world.services).delete(datastore_id=world.datastore_id, team_id=TEAM, deleted_by="U1")
    thread.join(timeout=30)
    assert finished.is_set()  # the worker stopped quietly (its run is gone), without an error
    assert deleted.documents > 0 and deleted.connection_deleted
    assert _documents(world, world.datastore_id) == (0, 0)  # nothing written after the deletion
    with world.services.sessions() as session:
        assert session.scalar(select(func.count()).select_from(SyncRun)) == 0
        assert session.get(Datastore, world.datastore_id) is None


def test_the_cli_deletes_one_datastore_and_serve_marks_its_message(world: SyncWorld, tmp_path: Path) -> None:
    other = add_connected_datastore(
        world.services,
        cloud_id=world.atlassian.cloud_id,
        token=world.atlassian.issue_token(),
        team_id=TEAM,
        credits=0,
        name="ops-wiki",
    )
    world.queue(kind="full")
    world.worker().run_until_idle()
    with world.services.sessions.begin() as session:
        session.add(SyncRun(datastore_id=other, kind="full", trigger="create"))
    world.worker().run_until_idle()
    kept = _documents(world, other)
    assert kept[0] == 120

    with FakeSlack(team_id=TEAM) as slack:
        client = WebClient(token=sorted(slack.bot_tokens)[0], base_url=slack.api_url)
        parent = str(client.chat_postMessage(channel=slack.default_channel_id, text="eng-wiki")["ts"])
        with world.services.sessions.begin() as session:
            datastore = session.get(Datastore, world.datastore_id)
            assert datastore is not None
            datastore.channel_id, datastore.parent_ts = slack.default_channel_id, parent

        unconfirmed = _cli(["delete", "eng-wiki"], world, tmp_path)
        assert unconfirmed.returncode == 1 and "confirm with --yes" in unconfirmed.stderr
        assert _documents(world, world.datastore_id)[0] == 120

        result = _cli(["delete", "eng-wiki", "--yes"], world, tmp_path)
        assert result.returncode == 0, result.stderr
        assert "Deleted eng-wiki: 120 documents" in result.stdout and "Confluence tokens deleted" in result.stdout
        assert _documents(world, world.datastore_id) == (0, 0) and _documents(world, other) == kept
        with world.services.sessions() as session:
            assert [c.id for c in session.scalars(select(Connection))] == [
                session.get(Datastore, other).connection_id  # type: ignore[union-attr]
            ]

        notices = NoticeDelivery(world.services, lambda _team: client)
        slack.fail("chat.update", times=1)  # rate-limited: the notice waits for a later tick
        assert notices.deliver() == {TEAM}
        assert "deleted" not in slack.message(slack.default_channel_id, parent).text
        assert notices.deliver() == {TEAM}
        assert "eng-wiki was deleted by an operator" in slack.message(slack.default_channel_id, parent).text
        assert notices.deliver() == set()  # delivered exactly once
        with world.services.sessions() as session:
            assert session.scalars(select(DeletionNotice)).one().delivered_at is not None


def test_credits_show_lists_the_ledger(world: SyncWorld, tmp_path: Path) -> None:
    with world.services.sessions.begin() as session:
        run = SyncRun(datastore_id=world.datastore_id, kind="full", trigger="create")
        session.add(run)
        session.flush()
        charge(session, team_id=TEAM, units=120, cost_per_unit=1, now=utcnow(), run_id=run.id)
    shown = _cli(["credits", "show", TEAM], world, tmp_path)
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[0] == f"{TEAM}: 99,880 credits" and lines[1] == "auto top-off: off"
    assert "charge" in lines[3] and "-120" in lines[3] and "eng-wiki · 120 pages" in lines[3]
