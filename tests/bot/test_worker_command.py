"""`datastore-bot worker` on its own: a `serve` with SERVE_WORKERS=0 syncs nothing itself (its /healthz has no
worker to report); a worker started next to it, sharing the database, drives the sync to its ✅; SIGTERM stops
the worker with exit code 0 and one line saying it had nothing to hand back."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from demo.fakes.slack_api import FakeSlack
from tests.bot.served_sync import DONE, served_sync
from tests.harness import wait_until

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.postgresql_sample(every=2, per="module")


@pytest.mark.timeout(240)
def test_a_worker_of_its_own_drives_the_sync_of_a_serve_that_runs_none(
    fake_slack: FakeSlack, database_url: str, tmp_path: Path
) -> None:
    with served_sync(fake_slack, database_url, tmp_path, pages=500, page_latency=0.2, SERVE_WORKERS="0") as sync:
        wait_until(lambda: bool(sync.runs()), timeout=30)
        time.sleep(2.0)
        assert sync.run().state == "queued", "serve ran the sync itself"
        assert sync.healthz().status_code == 200
        log = tmp_path / "worker.log"
        with log.open("wb") as out:
            worker = subprocess.Popen(
                [sys.executable, "-m", "bot.cli", "worker"],
                env={**sync.environment, "METRICS_PORT": "0"},
                cwd=REPO,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
            try:
                run = sync.wait_finished(timeout=120)
                assert run.outcome == "synced" and run.processed == sync.pages
                assert len(fake_slack.all_messages(text_prefix=DONE)) == 1
                worker.send_signal(signal.SIGTERM)
                assert worker.wait(timeout=60) == 0
            finally:
                if worker.poll() is None:
                    worker.kill()
                    worker.wait()
        said = log.read_text()
        assert "sync worker" in said and "started (pid" in said
        assert "stopped (SIGTERM); no sync was running" in said and "Traceback" not in said
        assert "started by" in said  # the run's start was logged by this worker
