"""Kill a sync with SIGKILL mid-run, run it again: the index equals a clean sync's, each page charged once."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from demo.fakes.atlassian import SiteSpec
from storage.documents import Document
from storage.models import CreditEntry, Datastore, SyncRun
from tests.bot.sync.conftest import TEAM, SyncWorld, make_world
from tests.harness import command_env

ROOT = Path(__file__).resolve().parents[3]


def _cli(world: SyncWorld, *args: str) -> subprocess.Popen[str]:
    env = command_env(world.services.settings, SYNC_LEASE_SECONDS="2")
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "sync", *args],
        env=env,
        cwd=ROOT,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )


def _index(world: SyncWorld, datastore_id: int) -> dict[str, tuple[int, str]]:
    with world.services.sessions() as session:
        rows = session.execute(
            select(Document.source_id, Document.version, Document.content_hash).where(
                Document.datastore_id == datastore_id
            )
        )
        return {source_id: (version, digest) for source_id, version, digest in rows}


def test_a_killed_sync_resumes_to_the_same_index(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'resume.db'}"
    spec = SiteSpec(spaces=4, pages_per_space=300, blogposts_per_space=10, body_bytes=3000)
    for world in make_world(database_url, spec):
        world.atlassian.set_latency(0.01)
        with world.services.sessions.begin() as session:
            clean = Datastore(
                team_id=TEAM,
                name="clean",
                name_key="clean",
                share_all=True,
                created_by="U1",
                connection_id=world.datastore().connection_id,
            )
            session.add(clean)
            session.flush()
            clean_id = clean.id
        run_id = world.queue(kind="full")

        first = _cli(world, "eng-wiki")
        deadline = time.monotonic() + 60
        while world.run(run_id).processed < 300:
            assert first.poll() is None, "the sync finished before it could be killed: make the corpus larger"
            assert time.monotonic() < deadline
            time.sleep(0.05)
        first.send_signal(signal.SIGKILL)
        first.wait()
        assert first.stdout is not None
        first.stdout.close()
        killed_at = world.run(run_id)
        assert killed_at.state == "running" and 0 < killed_at.processed < 1240

        time.sleep(2.2)  # the dead worker's lease runs out
        second = _cli(world, "eng-wiki")
        out, _ = second.communicate(timeout=120)
        assert second.returncode == 0, out
        resumed = world.run(run_id)
        assert resumed.outcome == "synced" and resumed.processed == 1240

        clean_run = _cli(world, "clean")
        out, _ = clean_run.communicate(timeout=120)
        assert clean_run.returncode == 0, out

        assert _index(world, world.datastore_id) == _index(world, clean_id)
        assert len(_index(world, clean_id)) == 1240
        with world.services.sessions() as session:
            charged = session.scalar(
                select(func.sum(CreditEntry.amount)).where(CreditEntry.run_id == run_id, CreditEntry.kind == "charge")
            )
            assert charged == -1240
            assert session.scalar(select(func.count()).select_from(SyncRun).where(SyncRun.state != "finished")) == 0
