"""Slack handler latency while a full sync runs: with the sync worker in its own process, as ``datastore-bot
serve`` runs it (bot/sync/supervisor.py), and, for comparison, as a thread of the process that answers Slack.

The bot's HTTP server is wired exactly like ``serve``'s (``tests.harness.running_bot``); signed ``/datastore
help`` commands come from a separate process (:mod:`bench.slack_load`) at a fixed concurrency. First an idle
baseline, then during a full sync with the worker process, then during another with the worker thread.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import IO, Any, cast
from urllib.parse import urlencode

from bench import world
from bench.fakesite import CLIENT_ID, CLIENT_SECRET, FakeSite, _repo_root
from bench.stats import percentile
from bot.services import Services
from bot.sync.runtime import SyncRuntime
from bot.sync.supervisor import WorkerSupervisor
from demo.fakes.slack_api import FakeSlack
from tests.harness import SIGNING_SECRET, command_env, running_bot


def _bodies(slack: FakeSlack, count: int, text: str) -> list[str]:
    channel, user = slack.default_channel_id, slack.default_user_id
    bodies = []
    for _ in range(count):
        fields = {
            "token": "fake-verification-token",
            "team_id": slack.team_id,
            "team_domain": slack.team_domain,
            "channel_id": channel,
            "channel_name": "general",
            "user_id": user,
            "user_name": "tester",
            "command": "/datastore",
            "text": text,
            "api_app_id": slack.app_id,
            "is_enterprise_install": "false",
            "response_url": slack.new_response_url(channel, user),
            "trigger_id": slack.issue_trigger_id(user),
        }
        bodies.append(urlencode(fields))
    return bodies


class _Load:
    def __init__(self, url: str, bodies: list[str], concurrency: int, max_seconds: float) -> None:
        config = {
            "url": url,
            "secret": SIGNING_SECRET,
            "bodies": bodies,
            "concurrency": concurrency,
            "max_seconds": max_seconds,
        }
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.slack_load", json.dumps(config)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=_repo_root(),
        )
        cast(IO[str], self.proc.stdout).readline()  # ready

    def finish(self) -> dict[str, Any]:
        stdin = cast(IO[str], self.proc.stdin)
        try:
            stdin.write("stop\n")
            stdin.flush()
        except BrokenPipeError:
            pass
        out, _ = self.proc.communicate(timeout=60)
        return cast(dict[str, Any], json.loads(out.strip().splitlines()[-1]))


def _summary(result: dict[str, Any], seconds: float) -> dict[str, Any]:
    latencies = result["latencies_ms"]
    return {
        "requests": len(latencies),
        "seconds": seconds,
        "p50_ms": percentile(latencies, 50),
        "p99_ms": percentile(latencies, 99),
        "max_ms": max(latencies) if latencies else 0.0,
        "statuses": result["statuses"],
    }


def _worker_env(services: Services) -> dict[str, str]:
    """What a `datastore-bot worker` needs to share this bot's database and reach the fake Confluence."""
    settings = services.settings
    nice = os.environ.get("WORKER_NICE", str(settings.worker_nice))  # to try other priorities
    return command_env(settings, METRICS_PORT="0", WORKER_NICE=nice)


def _during_sync(
    services: Services, url: str, bodies: list[str], concurrency: int, datastore_id: int, timeout: float
) -> tuple[dict[str, Any], float, dict[str, Any]]:
    """The load's latencies during one full sync of the datastore; how long the sync took; its summary."""
    load = _Load(url, bodies, concurrency, timeout)
    started = time.perf_counter()
    run_id = world.queue(services, datastore_id, "full")
    # Polled gently: an ORM load every 100 ms took ~10% of the GIL in this process (py-spy --gil).
    while world.run_state(services, run_id) != "finished" and time.perf_counter() - started < timeout:
        time.sleep(0.5)
    seconds = time.perf_counter() - started
    return _summary(load.finish(), seconds), seconds, world.run_summary(services, run_id)


def run_slack_bench(
    fake: FakeSite, database_url: str, *, concurrency: int = 20, baseline_seconds: float = 3.0, timeout: float = 900
) -> dict[str, Any]:
    with (
        FakeSlack() as slack,
        running_bot(
            slack,
            database_url,
            atlassian_client_id=CLIENT_ID,
            atlassian_client_secret=CLIENT_SECRET,
            atlassian_auth_url=fake.info.auth_url,
            atlassian_api_url=fake.info.api_url,
        ) as bot,
    ):
        datastore_id = world.add_datastore(bot.services, fake.info, fake.fresh_token())
        url = f"{bot.url}/slack/events"
        bodies = _bodies(slack, 200, "help")
        load = _Load(url, bodies, concurrency, baseline_seconds + 30)
        time.sleep(baseline_seconds)
        idle = _summary(load.finish(), baseline_seconds)

        workers = WorkerSupervisor(1, env=_worker_env(bot.services))
        workers.start()
        try:
            during, sync_seconds, summary = _during_sync(bot.services, url, bodies, concurrency, datastore_id, timeout)
        finally:
            workers.stop()
        other = world.add_datastore(bot.services, fake.info, fake.fresh_token(), name="eng-wiki-2")
        runtime = SyncRuntime(bot.services)
        worker = runtime.worker(poll_seconds=0.1)
        worker.start()
        try:
            same, same_seconds, _ = _during_sync(bot.services, url, bodies, concurrency, other, timeout)
        finally:
            worker.stop()
            runtime.close()
        return {
            "concurrency": concurrency,
            "command": "/datastore help",
            "idle": idle,
            "during_sync": during,
            "during_sync_same_process": same,
            "sync_seconds": sync_seconds,
            "sync_seconds_same_process": same_seconds,
            "sync_processed": summary["processed"],
            "sync_outcome": summary["outcome"],
        }
