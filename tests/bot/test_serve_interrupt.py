"""Ctrl-C on `datastore-bot serve` mid-sync: it shuts down with one last line and exit 130, no traceback, and the
run it was driving is handed back — its lease released (the lease is 10 minutes here, so only the hand-back can
free it), its checkpoints kept — for the next `sync` or `serve` to resume at once."""

from __future__ import annotations

import signal
from pathlib import Path

from demo.fakes.slack_api import FakeSlack
from storage.states import RunState
from tests.bot.served_sync import served_sync


def test_ctrl_c_on_serve_hands_its_run_back(fake_slack: FakeSlack, database_url: str, tmp_path: Path) -> None:
    with served_sync(fake_slack, database_url, tmp_path, pages=2_000, SYNC_LEASE_SECONDS="600") as sync:
        sync.wait_processing()
        sync.served.process.send_signal(signal.SIGINT)
        assert sync.served.process.wait(timeout=120) == 130
        output = sync.served.output()
        assert "Traceback" not in output
        run = sync.run()
        assert output.splitlines()[-1] == (
            f"datastore-bot: stopped; serve shut down; sync run {run.id} is handed back for the next worker"
        )
        assert run.state == RunState.RUNNING and run.lease_owner is None and run.lease_expires_at is None
        assert 0 < run.processed < 2_000


def test_sigterm_on_serve_is_a_graceful_stop_that_hands_its_run_back(
    fake_slack: FakeSlack, database_url: str, tmp_path: Path
) -> None:
    """`docker stop` and systemd send SIGTERM: exit 0 (a stop asked for), one log line saying so, run handed back."""
    with served_sync(fake_slack, database_url, tmp_path, pages=2_000, SYNC_LEASE_SECONDS="600") as sync:
        sync.wait_processing()
        sync.served.process.send_signal(signal.SIGTERM)
        assert sync.served.process.wait(timeout=120) == 0
        output = sync.served.output()
        assert "Traceback" not in output
        run = sync.run()
        assert output.splitlines()[-1].endswith(
            f"stopped on SIGTERM; sync run {run.id} is handed back for the next worker"
        )
        assert run.state == RunState.RUNNING and run.lease_owner is None and run.lease_expires_at is None
