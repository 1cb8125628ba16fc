"""Logs and metrics of a real `datastore-bot serve` against the fakes (issue #13, items 4 and 5): JSON lines with
the ids of the run and of the Slack request, /metrics scraped during a sync, and no secret in a DEBUG log
through the error paths."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bot.crypto import generate_key
from demo.fakes.atlassian import FaultKind, SiteSpec
from demo.fakes.slack_api import FakeSlack
from tests.bot.served_datastore import served_datastore
from tests.bot.served_sync import served_sync
from tests.harness import SIGNING_SECRET, free_port, wait_until
from tests.served import REPO


def _scrape(port: int) -> dict[str, float]:
    """Every sample of /metrics as ``name{label=value,...}`` → value."""
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    samples: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            samples[f"{sample.name}{{{labels}}}"] = sample.value
    return samples


def _total(samples: dict[str, float], name: str, **labels: str) -> float:
    wanted = [f"{k}={v}" for k, v in labels.items()]
    return sum(
        value
        for key, value in samples.items()
        if key.split("{", 1)[0] == name and all(part in key.split("{", 1)[1] for part in wanted)
    )


def _json_lines(log: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log.splitlines() if line.strip()]


def test_a_served_sync_writes_json_lines_with_its_ids_and_counts_in_metrics(
    fake_slack: FakeSlack, database_url: str, tmp_path: Path
) -> None:
    port = free_port()
    with served_sync(
        fake_slack, database_url, tmp_path, pages=2_000, LOG_FORMAT="json", METRICS_PORT=str(port)
    ) as sync:
        sync.wait_processing()
        during = _scrape(port)
        run = sync.wait_finished()
        after = _scrape(port)
        sync.sender.slash_command("help", command="/not-ours")  # logged: no listener for it
        wait_until(lambda: "no listener" in sync.served.output(), timeout=20)
        log = sync.served.output()
        datastore_id = sync.datastore().id

    assert run.outcome == "synced" and run.processed == sync.pages
    processed = "datastore_bot_pages_processed_total"
    assert 0 < _total(during, processed) < _total(after, processed) == sync.pages
    assert _total(after, "datastore_bot_atlassian_calls_total", endpoint="confluence", outcome="ok") > 0
    assert _total(after, "datastore_bot_atlassian_points_spent_total") >= _total(
        after, "datastore_bot_atlassian_calls_total"
    )
    assert _total(after, "datastore_bot_sync_runs_total", outcome="synced") == 1
    assert _total(after, "datastore_bot_slack_api_calls_total", method="chat.postMessage", outcome="ok") > 0
    assert _total(after, "datastore_bot_slack_handler_seconds_count", kind="view") > 0
    assert _total(during, "datastore_bot_sync_runs_unfinished", state="running") == 1
    assert _total(after, "datastore_bot_sync_runs_unfinished", state="running") == 0

    lines = _json_lines(log)  # every line is one JSON object
    assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    finished = [line for line in lines if line["message"].startswith(f"sync run {run.id} of datastore")]
    assert len(finished) == 1 and ": synced" in finished[0]["message"]
    assert (finished[0]["run_id"], finished[0]["datastore_id"]) == (run.id, datastore_id)
    (started,) = [line for line in lines if line["message"].startswith(f"sync run {run.id}: started")]
    assert started["run_id"] == run.id and started["level"] == "INFO"
    (unhandled,) = [line for line in lines if "no listener" in line["message"]]
    assert len(str(unhandled["request_id"])) == 16
    assert not [line for line in lines if "Running job" in line["message"] or "HTTP Request" in line["message"]]


def test_a_debug_log_through_the_error_paths_holds_no_secret(
    fake_slack: FakeSlack, database_url: str, tmp_path: Path
) -> None:
    spec = SiteSpec(spaces=1, pages_per_space=12, blogposts_per_space=1, body_bytes=400)
    with served_datastore(fake_slack, database_url, tmp_path, spec, LOG_LEVEL="DEBUG") as world:
        consent = parse_qs(urlsplit(world.consent_url).query)
        code, state = consent["code"][0], consent["state"][0]
        callback = world.consent_url.split("?", 1)[0]
        bad_code, bad_state = "a-bad-code-0f-s0me0ne", "a-forged-state-0f-s0me0ne"
        page = httpx.get(callback, params={"code": bad_code, "state": bad_state}, timeout=10)
        assert page.status_code in (400, 403, 410)
        world.atlassian.inject("POST /oauth/token", FaultKind.OAUTH_ERROR, times=None, error="invalid_grant")
        world.atlassian.expire_access_tokens()  # the resync must refresh, and is refused
        fake_slack.fail("chat.update", error="internal_error", times=3)
        run_id = world.resync()
        paused = world.wait_for(run_id, lambda run: run.state == "paused")
        assert paused.pause_kind == "reconnect"
        tokens = world.atlassian.oauth.issued_tokens()
        log = world.served.output()

    assert "DEBUG" in log and "refused" in log.lower()
    secrets = {SIGNING_SECRET, *fake_slack.bot_tokens, *tokens, code, state, bad_code, bad_state}
    leaked = sorted(secret for secret in secrets if secret in log)
    assert not leaked, f"{len(leaked)} secret(s) in the log"


def test_a_metrics_port_in_use_is_one_line_and_exit_2(fake_slack: FakeSlack, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": str(REPO),
            "SLACK_BOT_TOKEN": sorted(fake_slack.bot_tokens)[0],
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": fake_slack.api_url,
            "ENCRYPTION_KEY": generate_key(),
            "METRICS_PORT": str(port),
        }
        result = subprocess.run(
            [sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1", "--port", str(free_port())],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("datastore-bot: METRICS_PORT") and str(port) in lines[0] and "in use" in lines[0]
