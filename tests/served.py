"""Real `datastore-bot serve` processes for end-to-end tests: started on a port against the fakes, healthy
before they are yielded, always killed (with their conversion workers) afterwards."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.fakes.atlassian import FakeAtlassian
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_requests import SlackRequestSender
from tests.harness import SIGNING_SECRET

__all__ = ["CLIENT_ID", "CLIENT_SECRET", "Endpoint", "Served", "ServedWorld", "serve", "serve_environment"]

CLIENT_ID, CLIENT_SECRET = "datastore-bot-client", "datastore-bot-secret"
REPO = Path(__file__).resolve().parents[1]


@dataclass
class Served:
    """One `serve` process; its log (stdout and stderr) goes to a file so a full pipe never blocks it."""

    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def crash(self) -> None:
        """SIGKILL `serve` itself, as `kill -9` or the OOM killer would: its conversion workers must then exit."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def kill(self) -> None:
        """SIGKILL whatever is left of the process and its conversion workers (its own process group)."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=10)

    def living_group_members(self) -> list[int]:
        """Processes of its group (itself and its conversion workers; zombies aside), from /proc."""
        members = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                state, _ppid, group = stat.read_text().rpartition(")")[2].split()[:3]
            except (OSError, ValueError):
                continue  # the process went away while we looked
            if int(group) == self.process.pid and state != "Z":
                members.append(int(stat.parent.name))
        return members


@dataclass
class Endpoint:
    sender: SlackRequestSender


@dataclass
class ServedWorld:
    """What WizardDriver needs: the fake Slack and a sender signed for the bot's /slack/events."""

    slack: FakeSlack
    bot: Endpoint


def serve_environment(
    slack: FakeSlack, atlassian: FakeAtlassian, database_url: str, port: int, key: str, **extra: str
) -> dict[str, str]:
    """The environment of a `serve` wired to the fakes; ``extra`` adds or overrides variables."""
    env = {name: value for name, value in os.environ.items() if name in ("PATH", "HOME", "LANG", "SYSTEMROOT")}
    env.update(
        PYTHONPATH=str(REPO),
        SLACK_BOT_TOKEN=sorted(slack.bot_tokens)[0],
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=slack.api_url,
        DATABASE_URL=database_url,
        ENCRYPTION_KEY=key,
        PUBLIC_URL=f"http://127.0.0.1:{port}",
        ATLASSIAN_CLIENT_ID=CLIENT_ID,
        ATLASSIAN_CLIENT_SECRET=CLIENT_SECRET,
        ATLASSIAN_AUTH_URL=atlassian.auth_url,
        ATLASSIAN_API_URL=atlassian.api_url,
        SYNC_LEASE_SECONDS="2",
        LOG_LEVEL="INFO",
    )
    env.update(extra)
    return env


@contextmanager
def serve(env: dict[str, str], port: int, log: Path) -> Iterator[Served]:
    """`python -m bot.cli serve` on ``port``, healthy before it is yielded, always killed afterwards."""
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=log.parent,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    served = Served(process, log)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"serve did not come up:\n{served.output()}")
            time.sleep(0.1)
        yield served
    finally:
        served.kill()
