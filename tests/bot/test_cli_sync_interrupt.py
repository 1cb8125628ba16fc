"""Ctrl-C in a foreground `datastore-bot sync` (a real process on a large, slow fake Confluence): one line,
exit 130, no traceback, and the run handed back so that the next `sync` resumes it at once — with a lease of
10 minutes, a run not handed back would make it say "another process is syncing it right now"."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session

from bot.cli import main
from bot.crypto import generate_key
from bot.services import build_services
from bot.settings import Settings
from demo.fakes.atlassian import FakeAtlassian, OAuthApp, SiteSpec
from storage.db import make_engine
from storage.migrate import upgrade_to_head
from storage.models import SyncRun
from tests.harness import add_connected_datastore, wait_until

REPO = Path(__file__).resolve().parents[2]
#: A first sync lists with bodies (one pass): what to slow down so that the Ctrl-C lands mid-sync.
BODIED_LISTINGS = "GET */wiki/api/v2/spaces/*/pages?*body-format=storage*"


@dataclass
class Corpus:
    atlassian: FakeAtlassian
    env: dict[str, str]
    database_url: str

    def runs(self) -> list[SyncRun]:
        engine = make_engine(self.database_url)
        try:
            with Session(engine) as session:
                return list(session.scalars(select(SyncRun).order_by(SyncRun.id)))
        finally:
            engine.dispose()


@pytest.fixture
def corpus(tmp_path: Path) -> Iterator[Corpus]:
    database_url = f"sqlite:///{tmp_path / 'bot.db'}"
    app = OAuthApp(client_id="cid", client_secret="secret", redirect_uris=("http://127.0.0.1:1/callback",))
    # One space of four listing pages, listed one after the other: slowed, the first sync lasts several seconds.
    spec = SiteSpec(spaces=1, pages_per_space=1000, blogposts_per_space=0, body_bytes=1500)
    with FakeAtlassian(spec, apps=[app]) as atlassian:
        key = generate_key()
        settings = Settings(
            _env_file=None,
            database_url=database_url,
            encryption_key=key,
            atlassian_client_id="cid",
            atlassian_client_secret="secret",
            atlassian_auth_url=atlassian.auth_url,
            atlassian_api_url=atlassian.api_url,
        )
        services = build_services(settings)
        upgrade_to_head(services.engine)
        add_connected_datastore(
            services, cloud_id=atlassian.cloud_id, token=atlassian.issue_token(), team_id="T0CTRLC", credits=10**6
        )
        services.engine.dispose()
        env = {name: value for name, value in os.environ.items() if name in ("PATH", "HOME", "LANG")}
        env.update(
            PYTHONPATH=str(REPO),
            DATABASE_URL=database_url,
            ENCRYPTION_KEY=key,
            ATLASSIAN_CLIENT_ID="cid",
            ATLASSIAN_CLIENT_SECRET="secret",
            ATLASSIAN_AUTH_URL=atlassian.auth_url,
            ATLASSIAN_API_URL=atlassian.api_url,
            SYNC_LEASE_SECONDS="600",
            LOG_LEVEL="WARNING",
        )
        yield Corpus(atlassian, env, database_url)


def _sync(corpus: Corpus, tmp_path: Path, name: str) -> tuple[subprocess.Popen[bytes], Path, Path]:
    out, err = tmp_path / f"{name}.out", tmp_path / f"{name}.err"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "sync", "eng-wiki"],
            env=corpus.env,
            cwd=tmp_path,
            stdout=stdout,
            stderr=stderr,
        )
    return process, out, err


def test_ctrl_c_is_one_line_exit_130_and_the_next_sync_resumes_the_run_at_once(corpus: Corpus, tmp_path: Path) -> None:
    corpus.atlassian.set_latency(1.5, "GET /wiki/api/v2/pages")
    corpus.atlassian.set_latency(1.5, BODIED_LISTINGS)
    first, _out, err = _sync(corpus, tmp_path, "first")
    try:

        def processing() -> bool:
            runs = corpus.runs()
            assert first.poll() is None, err.read_text()
            return bool(runs) and runs[-1].phase == "processing" and runs[-1].processed > 0

        wait_until(processing, timeout=120, interval=0.1)
        first.send_signal(signal.SIGINT)
        assert first.wait(timeout=60) == 130, err.read_text()
    finally:
        if first.poll() is None:
            first.kill()
    lines = err.read_text().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("datastore-bot: stopped; the sync of eng-wiki is handed back at ")
    assert "resumes it now" in lines[0]
    [run] = corpus.runs()
    assert run.state == "running" and run.lease_owner is None and run.lease_expires_at is None
    stopped_at = run.processed
    assert 0 < stopped_at < 1000

    corpus.atlassian.set_latency(0.0, "GET /wiki/api/v2/pages")
    corpus.atlassian.set_latency(0.0, BODIED_LISTINGS)
    second, out, err = _sync(corpus, tmp_path, "second")
    assert second.wait(timeout=300) == 0, err.read_text()
    summary = out.read_text().splitlines()[-1]
    assert summary.startswith("eng-wiki: synced"), out.read_text()
    [run] = corpus.runs()  # the same run, resumed from its checkpoints: no second run
    assert run.outcome == "synced" and run.processed == 1000
    assert "Traceback" not in err.read_text()


def test_a_ctrl_c_inside_a_write_statement_still_hands_the_run_back(
    corpus: Corpus, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The interrupt lands inside SQLite's executemany while the run's transaction holds the write lock: the
    statement's cursor stays referenced from the interrupt's traceback, and the hand-back must not wait on it
    (it used to fail after the busy timeout with "database is locked", exit 1)."""
    for name, value in corpus.env.items():
        monkeypatch.setenv(name, value)
    interrupted: list[str] = []

    def interrupt_a_bulk_insert(cursor: Any, statement: str, parameters: Any, _context: Any) -> bool | None:
        if interrupted or not statement.lstrip().upper().startswith("INSERT"):
            return None
        cursor.executemany(statement, parameters)  # the rows are written: the write lock is held
        interrupted.append(statement)
        raise KeyboardInterrupt

    event.listen(Engine, "do_executemany", interrupt_a_bulk_insert)
    try:
        assert main(["sync", "eng-wiki"]) == 130
    finally:
        event.remove(Engine, "do_executemany", interrupt_a_bulk_insert)
    assert interrupted
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("datastore-bot: stopped; the sync of eng-wiki is handed back"), line
    [run] = corpus.runs()
    assert run.state == "running" and run.lease_owner is None and run.lease_expires_at is None
