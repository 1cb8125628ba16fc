"""`datastore-bot` as an operator runs it: a real subprocess, configured only through the environment."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from demo.fakes.slack_api import FakeSlack
from demo.fakes.slack_requests import SlackRequestSender
from tests.harness import SIGNING_SECRET, free_port

CLI = [sys.executable, "-m", "bot.cli"]


def _env(**values: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key in ("PATH", "HOME", "LANG", "SYSTEMROOT")}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    env["METRICS_PORT"] = "0"  # tests run many `serve` at once: none may take the default metrics port
    env.update(values)
    return env


def _run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=60, check=False)


def test_help_lists_the_commands(tmp_path: Path) -> None:
    result = _run(["--help"], _env(), tmp_path)
    assert result.returncode == 0
    for command in ("serve", "worker", "migrate", "keygen"):
        assert command in result.stdout
    serve = _run(["serve", "--help"], _env(), tmp_path)
    assert serve.returncode == 0 and "--port" in serve.stdout and "Socket Mode" in serve.stdout


def test_missing_signing_secret_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = _run(["serve"], _env(SLACK_BOT_TOKEN="xoxb-test-token"), tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "SLACK_SIGNING_SECRET" in lines[0] and "Signing Secret" in lines[0]
    assert "Traceback" not in result.stderr


def test_migrate_creates_the_embedded_database(tmp_path: Path) -> None:
    result = _run(["migrate"], _env(), tmp_path)
    assert result.returncode == 0, result.stderr
    assert "database is at revision" in result.stdout
    assert (tmp_path / "data" / "datastore.db").exists()


def test_keygen_prints_a_usable_key(tmp_path: Path) -> None:
    first, second = _run(["keygen"], _env(), tmp_path), _run(["keygen"], _env(), tmp_path)
    from bot.crypto import SecretCipher

    assert first.returncode == 0 and first.stderr == "" and len(first.stdout.splitlines()) == 1
    key = first.stdout.strip()
    assert key != second.stdout.strip()  # a fresh key each time
    cipher = SecretCipher([key])
    sealed = cipher.encrypt("refresh-token-value")
    assert "refresh-token-value" not in sealed and cipher.decrypt(sealed) == "refresh-token-value"
    assert not (tmp_path / "data").exists()  # printing a key writes nothing


@pytest.fixture
def served(fake_slack: FakeSlack, tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    port = free_port()
    env = _env(
        SLACK_BOT_TOKEN="xoxb-test-token",
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=fake_slack.api_url,
        PORT=str(port),
        PUBLIC_URL=f"http://127.0.0.1:{port}",
    )
    process = subprocess.Popen(
        [*CLI, "serve", "--host", "127.0.0.1"],
        env=env,
        cwd=tmp_path,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                output = process.stdout.read() if process.stdout else ""
                raise AssertionError(f"serve did not come up: {output}")
            time.sleep(0.1)
        yield url, process
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout:
            process.stdout.close()


def test_serve_answers_as_the_contract_says(
    served: tuple[str, subprocess.Popen[str]], fake_slack: FakeSlack, tmp_path: Path
) -> None:
    url, _process = served
    assert (tmp_path / "data" / "datastore.db").exists()
    assert (tmp_path / "data" / "encryption.key").exists()
    with SlackRequestSender(f"{url}/slack/events", SIGNING_SECRET, fake_slack) as sender:
        assert sender.slash_command("help", sign="unsigned").status == 401
        assert sender.slash_command("help", sign="stale").status == 401
        help_reply = sender.slash_command("help")
        assert help_reply.status == 200 and help_reply.json is not None
        assert help_reply.json["response_type"] == "ephemeral"
        assert sender.slash_command("create eng-wiki").status == 200
        opened = fake_slack.wait_for_call("views.open", timeout=20)
        assert opened.ok, opened.response  # the fake Slack refuses a trigger_id used after its 3 s
        assert fake_slack.open_views(fake_slack.default_user_id)
