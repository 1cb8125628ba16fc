"""Generated request corpora against the real bot over HTTP: send a case, then prove what it did and did not do.

One bot per test module and backend (the ``corpus`` fixture in tests/conftest.py) serves every case of a
module; cases cannot disturb each other because each one proves it changed nothing::

    def test_case(corpus: Corpus, caplog, case) -> None:
        response = corpus.run(caplog, case.body, case.headers, status=401)
        assert response.json() == {...}

``run`` resets the fake Slack's call log, snapshots every table, sends the bytes as they are, waits until
every listener the request started has finished (so nothing can still be on its way out), then asserts the
status (never a 5xx), no change in any table, no call to the fake Slack (Web API or response_url), and that
no log record carries a traceback.
"""

from __future__ import annotations

import http.client
import json
import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest

from bot.app import LISTENER_THREADS
from tests.db_snapshot import TableSnapshots, changed_tables
from tests.harness import SIGNING_SECRET, RunningBot

__all__ = ["Answer", "Corpus", "drain_listeners", "log_lines", "raw_request", "tracebacks"]


@dataclass(frozen=True)
class Answer:
    status_code: int
    headers: dict[str, str]
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.content)


def raw_request(
    url: str,
    method: str,
    body: bytes = b"",
    headers: Mapping[str, str | bytes] | None = None,
    *,
    chunked: bool = False,
) -> Answer:
    """Send exactly these header values and body bytes (httpx refuses some a hostile client sends, such as a
    leading space or non-ASCII bytes); ``chunked`` sends the body without a Content-Length."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=10)
    try:
        connection.putrequest(
            method, parts.path + (f"?{parts.query}" if parts.query else ""), skip_accept_encoding=True
        )
        names = {name.lower() for name in (headers or {})}
        for name, value in (headers or {}).items():
            connection.putheader(name, value)
        if chunked:
            connection.putheader("Transfer-Encoding", "chunked")
        elif "content-length" not in names:
            connection.putheader("Content-Length", str(len(body)))
        try:
            connection.endheaders(body or None, encode_chunked=chunked)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server refused the body before reading it all; its answer is already on the way
        response = connection.getresponse()
        return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
    finally:
        connection.close()


def drain_listeners(bot: RunningBot) -> None:
    """Return once every listener task submitted so far has finished: occupy all the executor's threads at
    once with a barrier, which is only possible when none of them is still running an earlier task."""
    barrier = threading.Barrier(LISTENER_THREADS + 1, timeout=60)
    waits = [bot.app.listeners.submit(barrier.wait) for _ in range(LISTENER_THREADS)]
    barrier.wait()
    for wait in waits:
        wait.result()


def tracebacks(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        f"{record.name}: {record.getMessage()}"
        for record in caplog.records
        if record.exc_info or record.exc_text or record.stack_info or "Traceback" in record.getMessage()
    ]


def log_lines(caplog: pytest.LogCaptureFixture, logger: str) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.name == logger]


@dataclass
class Corpus:
    bot: RunningBot
    tables: TableSnapshots

    def post(self, body: bytes, headers: Mapping[str, str | bytes], *, chunked: bool = False) -> Answer:
        return raw_request(f"{self.bot.url}/slack/events", "POST", body, headers, chunked=chunked)

    def request(
        self,
        method: str,
        target: str,
        body: bytes = b"",
        headers: Mapping[str, str | bytes] | None = None,
        *,
        chunked: bool = False,
    ) -> Answer:
        """Any method to any path (``target`` may carry a query string)."""
        return raw_request(f"{self.bot.url}{target}", method, body, headers, chunked=chunked)

    def run(
        self,
        caplog: pytest.LogCaptureFixture,
        body: bytes,
        headers: Mapping[str, str | bytes],
        *,
        status: int,
        ignore_tables: tuple[str, ...] = (),
        chunked: bool = False,
        method: str = "POST",
        target: str = "/slack/events",
    ) -> Answer:
        """Send one case and assert everything it must not have done (see the module docstring)."""
        caplog.set_level(logging.INFO)
        self.bot.slack.reset_calls()
        caplog.clear()
        before = self.tables.take()
        response = self.request(method, target, body, headers, chunked=chunked)
        drain_listeners(self.bot)
        assert response.status_code < 500, response.text
        assert response.status_code == status, response.text
        after = self.tables.take()
        changed = [name for name in changed_tables(before, after) if name not in ignore_tables]
        assert changed == [], f"tables changed: {changed}"
        sent = [call.method for call in self.bot.slack.calls()]
        assert sent == [], f"calls to the fake Slack: {sent}"
        logged = tracebacks(caplog)
        assert logged == [], f"tracebacks logged: {logged}"
        assert all(SIGNING_SECRET not in record.getMessage() for record in caplog.records), "secret logged"
        return response
