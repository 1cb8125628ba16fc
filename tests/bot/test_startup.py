"""Start-up (bot/startup.py): the newcomer's `.env.example` path, the paths rule, database retries, stored
tokens against ENCRYPTION_KEY, and Slack unreachable at start."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import socket
import subprocess
import sys
import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from bot.crypto import generate_key
from bot.errors import ConfigurationError
from bot.services import build_services
from bot.settings import Settings
from bot.startup import REJECTED_TOKEN_ERRORS, check_slack_token, check_stored_tokens, wait_for_database
from demo.fakes.slack_api import FakeSlack
from storage.migrate import upgrade_to_head
from tests.bot.test_cli_errors import store_a_connection
from tests.harness import SIGNING_SECRET, free_port, wait_until
from tests.served import serve

REPO = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "bot.cli"]


def _env(**values: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key in ("PATH", "HOME", "LANG", "SYSTEMROOT")}
    env["PYTHONPATH"] = str(REPO)
    env["METRICS_PORT"] = "0"  # many `serve` processes run at once: none may take the default metrics port
    env.update(values)
    return env


def _run(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], env=env or _env(), cwd=cwd, capture_output=True, text=True, timeout=90, check=False
    )


def _filled_env_example(slack: FakeSlack) -> str:
    """`.env.example` verbatim, with only the two Slack values filled in and Slack pointed at the fake."""
    text = (REPO / ".env.example").read_text()
    filled = {
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_BOT_TOKEN": sorted(slack.bot_tokens)[0],
        "SLACK_API_URL": slack.api_url,
    }
    for name, value in filled.items():
        text, count = re.subn(rf"^{name}=.*$", f"{name}={value}", text, flags=re.MULTILINE)
        assert count == 1, name
    return text


def test_the_env_example_copied_and_filled_in_runs_every_command(tmp_path: Path, fake_slack: FakeSlack) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / ".env").write_text(_filled_env_example(fake_slack))
    migrate = _run(["migrate"], project)
    assert migrate.returncode == 0, migrate.stderr
    assert f"({project / 'data' / 'datastore.db'})" in migrate.stdout
    listing = _run(["datastores"], project)
    assert listing.returncode == 0, listing.stderr
    assert "NAME" in listing.stdout
    port = free_port()
    with serve(_env(), port, project / "serve.log") as served:
        output = served.output()
    assert f"database: {project / 'data' / 'datastore.db'}" in output
    assert f"settings from {project / '.env'}" in output


@pytest.mark.parametrize(
    "setting", ["DATA_DIR=state", "DATABASE_URL=sqlite:///state/bot.db"], ids=["data-dir", "sqlite-url"]
)
def test_relative_paths_follow_the_env_file_from_any_working_directory(tmp_path: Path, setting: str) -> None:
    project = tmp_path / "project"
    deeper = project / "ops" / "scripts"
    deeper.mkdir(parents=True)
    (project / ".env").write_text(f"{setting}\n")
    expected = project / "state" / ("bot.db" if "sqlite" in setting else "datastore.db")
    seen = []
    for cwd in (project, deeper):
        result = _run(["migrate"], cwd)
        assert result.returncode == 0, result.stderr
        seen.append(result.stdout.strip().rsplit("(", 1)[1].rstrip(")"))
    assert seen == [str(expected), str(expected)]
    assert expected.exists() and not (deeper / "state").exists()


def test_without_env_file_relative_paths_follow_the_working_directory(tmp_path: Path) -> None:
    result = _run(["migrate"], tmp_path, _env(DATA_DIR="here"))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "here" / "datastore.db").exists()


def test_slack_unreachable_at_start_is_a_warning_and_serve_goes_on(tmp_path: Path) -> None:
    port = free_port()
    env = _env(
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_BOT_TOKEN="xoxb-test-token",
        SLACK_API_URL=f"http://127.0.0.1:{free_port()}/api/",
        PUBLIC_URL=f"http://127.0.0.1:{port}",
    )
    with serve(env, port, tmp_path / "serve.log") as served:
        output = served.output()
    assert "could not reach Slack at" in output and "serving anyway" in output
    assert "Traceback" not in output


class _FlakyEngine:
    """An engine whose first ``failures`` connections are refused."""

    def __init__(self, failures: int) -> None:
        self.failures, self.attempts = failures, 0
        self.dialect = SimpleNamespace(name="postgresql")

    def connect(self) -> Any:
        self.attempts += 1
        if self.attempts <= self.failures:
            raise OperationalError("SELECT 1", {}, Exception("connection refused"))
        return _Connection()


class _Connection:
    def __enter__(self) -> _Connection:
        return self

    def __exit__(self, *exc_info: object) -> None:
        pass

    def execute(self, _statement: object) -> None:
        pass


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def _settings(timeout: int) -> Settings:
    return Settings(_env_file=None, database_url="postgresql://bot@db/bot", database_connect_timeout=timeout)


def test_the_database_is_retried_with_backoff_until_it_answers(caplog: pytest.LogCaptureFixture) -> None:
    engine, clock = _FlakyEngine(failures=6), _Clock()
    with caplog.at_level(logging.WARNING, logger="bot.startup"):
        wait_for_database(engine, _settings(30), sleep=clock.sleep, clock=clock)  # type: ignore[arg-type]
    assert engine.attempts == 7
    assert clock.sleeps == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0]
    waiting = [record.getMessage() for record in caplog.records]
    assert len(waiting) == 3  # at most one line every 5 s: failures at 0, 7.5 and 12.5 s (not 0.5, 1.5, 3.5)
    assert all("not reachable yet" in line and "postgresql+psycopg://bot@db/bot" in line for line in waiting)


def test_the_database_retries_stop_at_the_timeout() -> None:
    engine, clock = _FlakyEngine(failures=1000), _Clock()
    with pytest.raises(ConfigurationError) as caught:
        wait_for_database(engine, _settings(10), sleep=clock.sleep, clock=clock)  # type: ignore[arg-type]
    assert caught.value.variable == "DATABASE_URL" and clock.now == 10
    assert "(tried 6 times in 10 s): connection refused" in caught.value.message


def test_a_rotated_key_reads_the_tokens_the_old_key_wrote(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    old, new = generate_key(), generate_key()
    store_a_connection(url, old)
    for key, readable in ((f"{new},{old}", True), (new, False), (f"{old}", True)):
        services = build_services(Settings(_env_file=None, database_url=url, encryption_key=key))
        try:
            upgrade_to_head(services.engine)
            if readable:
                check_stored_tokens(services)
            else:
                with pytest.raises(ConfigurationError, match="cannot read 2 of the 2 stored tokens"):
                    check_stored_tokens(services)
        finally:
            services.engine.dispose()


def _slack_settings(slack: FakeSlack) -> Settings:
    return Settings(
        _env_file=None,
        slack_bot_token=sorted(slack.bot_tokens)[0],
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=slack.api_url,
    )


@pytest.mark.parametrize("error", sorted(REJECTED_TOKEN_ERRORS))
def test_each_refusal_of_the_bot_token_names_it(fake_slack: FakeSlack, error: str) -> None:
    fake_slack.fail("auth.test", error)
    with pytest.raises(ConfigurationError) as caught:
        check_slack_token(_slack_settings(fake_slack))
    assert caught.value.variable == "SLACK_BOT_TOKEN"
    assert caught.value.message.startswith(f"Slack rejected SLACK_BOT_TOKEN ({error}) — install the app")


def test_slack_unwell_at_start_is_a_warning(fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture) -> None:
    fake_slack.fail("auth.test", "internal_error", status=500)
    with caplog.at_level(logging.WARNING, logger="bot.startup"):
        check_slack_token(_slack_settings(fake_slack))
    assert any("could not check SLACK_BOT_TOKEN" in record.getMessage() for record in caplog.records)
    check_slack_token(_slack_settings(fake_slack))  # the fault was used up: Slack accepts the token
    assert len(fake_slack.calls("auth.test")) == 2


class _LateForwarder:
    """A TCP port that forwards to the real database once ``open()`` is called: a database container that
    comes up after the bot's."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target, self.port = target, free_port()
        self._listener: socket.socket | None = None
        self._sockets: list[socket.socket] = []

    def open(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        assert self._listener is not None
        while True:
            try:
                client, _address = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self._sockets += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        if self._listener is not None:
            self._listener.close()
        for connection in self._sockets:
            connection.close()


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_serve_waits_for_a_database_that_comes_up_later(
    database_url: str, tmp_path: Path, fake_slack: FakeSlack
) -> None:
    real = make_url(database_url)
    late = _LateForwarder((real.host or "127.0.0.1", real.port or 5432))
    port = free_port()
    env = _env(
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_BOT_TOKEN=sorted(fake_slack.bot_tokens)[0],
        SLACK_API_URL=fake_slack.api_url,
        DATABASE_URL=real.set(host="127.0.0.1", port=late.port).render_as_string(hide_password=False),
        DATABASE_CONNECT_TIMEOUT="120",
        ENCRYPTION_KEY=generate_key(),
    )
    log = tmp_path / "serve.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [*CLI, "serve", "--host", "127.0.0.1", "--port", str(port)], env=env, cwd=tmp_path, stdout=sink, stderr=sink
        )
    try:
        wait_until(lambda: "not reachable yet" in log.read_text() or process.poll() is not None, timeout=60)
        assert process.poll() is None, log.read_text()
        late.open()
        wait_until(lambda: _healthy(port) or process.poll() is not None, timeout=60, interval=0.2)
        assert process.poll() is None, log.read_text()
    finally:
        process.terminate()
        process.wait(timeout=20)
        late.close()
    assert "Traceback" not in log.read_text()


def _healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False
