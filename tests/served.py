"""Real `datastore-bot serve` processes for end-to-end tests: started on a port against the fakes, healthy
before they are yielded, always killed (with their conversion workers) afterwards."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from demo.fakes.atlassian import FakeAtlassian
from demo.fakes.slack_api import FakeSlack
from demo.fakes.slack_requests import SlackRequestSender
from demo.serve import Served, ServeError
from demo.serve import serve as demo_serve
from tests.harness import SIGNING_SECRET

__all__ = ["CLIENT_ID", "CLIENT_SECRET", "Endpoint", "Served", "ServedWorld", "serve", "serve_environment"]

CLIENT_ID, CLIENT_SECRET = "datastore-bot-client", "datastore-bot-secret"
REPO = Path(__file__).resolve().parents[1]


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
        METRICS_PORT="0",  # many `serve` processes run at once: a test that scrapes /metrics gives a free port
    )
    env.update(extra)
    return env


@contextmanager
def serve(env: dict[str, str], port: int, log: Path) -> Iterator[Served]:
    """`python -m bot.cli serve` on ``port`` (demo.serve.serve), healthy before it is yielded, always killed
    afterwards; AssertionError with its log when it does not come up."""
    try:
        with demo_serve(env, port, log) as served:
            yield served
    except ServeError as exc:
        raise AssertionError(f"{exc}:\n{log.read_text(errors='replace')}") from exc
