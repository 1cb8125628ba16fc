"""Every bad setting or environment problem: one line on stderr naming the setting, exit code 2, no traceback.

Each case runs the real `datastore-bot` in a subprocess, configured through a crafted environment or `.env`.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from bot.crypto import generate_key
from bot.services import build_services
from bot.settings import Settings
from demo.fakes.slack_api import FakeSlack
from storage.migrate import upgrade_to_head
from tests.harness import SIGNING_SECRET, add_connected_datastore, free_port

CLI = [sys.executable, "-m", "bot.cli"]


def store_a_connection(database_url: str, key: str) -> None:
    """A migrated database holding one Confluence connection (two tokens) encrypted with ``key``."""
    services = build_services(Settings(_env_file=None, database_url=database_url, encryption_key=key))
    try:
        upgrade_to_head(services.engine)
        token = {"access_token": "a", "refresh_token": "r", "expires_in": 3600}
        add_connected_datastore(services, cloud_id="c1", token=token, team_id="T1", credits=5)
    finally:
        services.engine.dispose()


def _env(**values: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key in ("PATH", "HOME", "LANG", "SYSTEMROOT")}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    env["METRICS_PORT"] = "0"  # many `serve` processes run at once: none may take the default metrics port
    env.update(values)
    return env


def _serve_env(**values: str) -> dict[str, str]:
    """What `serve` needs to get past its required settings, Slack pointed nowhere unless overridden."""
    base = {
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "SLACK_API_URL": f"http://127.0.0.1:{free_port()}/api/",
        "ENCRYPTION_KEY": generate_key(),
    }
    return _env(**{**base, **values})


def _one_line_error(args: list[str], env: dict[str, str], cwd: Path) -> str:
    """Run the CLI; assert exit 2, nothing on stdout, exactly one line on stderr, no traceback; that line."""
    result = subprocess.run([*CLI, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=90, check=False)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 2, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("datastore-bot: ")
    return lines[0]


@pytest.mark.parametrize(
    ("variable", "value", "said"),
    [
        ("DATABASE_URL", "mysql://user:pw@db/bot", "mysql:// is not supported"),
        ("DATABASE_URL", "foo", "not a database URL"),
        ("DATABASE_URL", "postgresql://:bad@", "names no database"),
        ("DATABASE_URL", "postgresql://user@db:port/bot", "not a database URL"),
        ("DATABASE_URL", "sqlite:///", "names no database file"),
        ("DATABASE_URL", "sqlite://", "names no database file"),
        ("LOG_LEVEL", "LOUD", "DEBUG, INFO, WARNING, ERROR, CRITICAL"),
        ("SLACK_APP_TOKEN", "xoxb-not-an-app-token", "xapp-"),
        ("PORT", "abc", "valid integer"),
        ("PUBLIC_URL", "nonsense", "http:// or https://"),
        ("SLACK_API_URL", "slack.com/api", "http:// or https://"),
        ("SYNC_LEASE_SECONDS", "0", "greater than or equal to 1"),
        ("SERVE_WORKERS", "17", "less than or equal to 16"),
        ("SERVE_WORKERS", "two", "valid integer"),
        ("WORKER_NICE", "-5", "greater than or equal to 0"),
        ("DATABASE_CONNECT_TIMEOUT", "soon", "valid integer"),
        ("ENCRYPTION_KEY", "not-a-key", "keygen"),
    ],
)
def test_a_bad_setting_is_one_line_naming_it(tmp_path: Path, variable: str, value: str, said: str) -> None:
    line = _one_line_error(["serve"], _serve_env(**{variable: value}), tmp_path)
    assert variable in line and said in line


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["demo", "--pages", "abc"], "datastore-bot demo: argument --pages: invalid int value: 'abc'"),
        (["nosuch"], "datastore-bot: argument COMMAND: invalid choice: 'nosuch'"),
        (["credits", "add", "T012AB3CD"], "datastore-bot credits add: the following arguments are required: amount"),
    ],
)
def test_a_bad_command_line_is_one_line_too(tmp_path: Path, args: list[str], said: str) -> None:
    """argparse's usage block and error become one line pointing at --help."""
    result = subprocess.run([*CLI, *args], env=_env(), cwd=tmp_path, capture_output=True, text=True, timeout=90)
    assert result.returncode == 2 and not result.stdout and "Traceback" not in result.stderr
    [line] = result.stderr.splitlines()
    assert line.startswith(said) and line.endswith("--help`)")


def test_a_bad_setting_in_dotenv_is_one_line_too(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("LOG_LEVEL=verbose\n")
    line = _one_line_error(["datastores"], _env(), tmp_path)
    assert "LOG_LEVEL" in line and "'verbose'" in line


def test_an_unreachable_database_is_one_line(tmp_path: Path) -> None:
    url = f"postgresql://nobody:s3cret@127.0.0.1:{free_port()}/none"
    env = _env(DATABASE_URL=url, DATABASE_CONNECT_TIMEOUT="0", ENCRYPTION_KEY=generate_key())
    for command in ("migrate", "datastores"):
        line = _one_line_error([command], env, tmp_path)
        assert "DATABASE_URL: cannot connect to postgresql+psycopg://nobody:***@127.0.0.1" in line
        assert "DATABASE_CONNECT_TIMEOUT" in line and "s3cret" not in line


def test_an_unreachable_database_is_retried_then_one_error_line(tmp_path: Path) -> None:
    url = f"postgresql://nobody@127.0.0.1:{free_port()}/none"
    result = subprocess.run(
        [*CLI, "migrate"],
        env=_env(DATABASE_URL=url, DATABASE_CONNECT_TIMEOUT="2"),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    *retries, last = result.stderr.splitlines()
    assert retries and all("not reachable yet" in line for line in retries)
    assert last.startswith("datastore-bot: DATABASE_URL: cannot connect") and "tried" in last


def test_an_unwritable_data_dir_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    line = _one_line_error(["migrate"], _env(DATA_DIR=str(tmp_path / "a-file" / "data")), tmp_path)
    assert line.startswith("datastore-bot: DATA_DIR: the folder") and "not writable" in line


def test_an_unwritable_sqlite_folder_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    url = f"sqlite:///{tmp_path / 'a-file' / 'bot.db'}"
    line = _one_line_error(["migrate"], _env(DATABASE_URL=url), tmp_path)
    assert line.startswith("datastore-bot: DATABASE_URL: the folder") and "not writable" in line


def test_an_unreadable_key_file_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "data" / "encryption.key").mkdir(parents=True)  # a folder where the key file should be
    line = _one_line_error(["datastores"], _env(), tmp_path)
    assert "encryption.key cannot be read or created" in line and "ENCRYPTION_KEY" in line


def test_a_port_in_use_is_one_line(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        line = _one_line_error(["serve", "--host", "127.0.0.1", "--port", str(port)], _serve_env(), tmp_path)
    assert f"port {port} is already in use" in line and "PORT" in line


def test_a_bot_token_slack_rejects_is_one_line(tmp_path: Path, fake_slack: FakeSlack) -> None:
    env = _serve_env(SLACK_BOT_TOKEN="xoxb-revoked", SLACK_API_URL=fake_slack.api_url)
    line = _one_line_error(["serve", "--host", "127.0.0.1", "--port", str(free_port())], env, tmp_path)
    assert "Slack rejected SLACK_BOT_TOKEN (invalid_auth)" in line and "OAuth & Permissions" in line


def test_stored_tokens_another_key_wrote_are_one_line(tmp_path: Path, fake_slack: FakeSlack) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    store_a_connection(url, generate_key())
    env = _serve_env(DATABASE_URL=url, SLACK_API_URL=fake_slack.api_url)
    line = _one_line_error(["serve", "--host", "127.0.0.1", "--port", str(free_port())], env, tmp_path)
    assert "ENCRYPTION_KEY cannot read 2 of the 2 stored tokens" in line and "ENCRYPTION_KEY=new,old" in line


def test_socket_mode_slack_refuses_is_one_line(tmp_path: Path, fake_slack: FakeSlack) -> None:
    # WARNING: the INFO lines `serve` writes once its checks pass (database, listening) are not errors.
    env = _serve_env(SLACK_API_URL=fake_slack.api_url, SLACK_APP_TOKEN="xapp-1-A0TEST-1-x", LOG_LEVEL="WARNING")
    line = _one_line_error(["serve", "--host", "127.0.0.1", "--port", str(free_port())], env, tmp_path)
    assert "Slack refused to open Socket Mode with SLACK_APP_TOKEN" in line and "App-Level Tokens" in line


def test_a_port_out_of_range_is_one_line(tmp_path: Path) -> None:
    line = _one_line_error(["serve", "--port", "70000"], _serve_env(), tmp_path)
    assert "70000 is not a port" in line and "PORT" in line


def test_a_key_file_holding_no_key_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "encryption.key").write_text("not a key\n")
    line = _one_line_error(["datastores"], _env(), tmp_path)
    assert "encryption.key does not hold a valid key" in line


def test_a_lost_key_file_is_one_line_at_serve(tmp_path: Path, fake_slack: FakeSlack) -> None:
    store_a_connection(f"sqlite:///{tmp_path / 'data' / 'datastore.db'}", generate_key())
    env = _serve_env(SLACK_API_URL=fake_slack.api_url, ENCRYPTION_KEY="", LOG_LEVEL="ERROR")
    line = _one_line_error(["serve", "--host", "127.0.0.1", "--port", str(free_port())], env, tmp_path)
    assert f"the key in {tmp_path / 'data' / 'encryption.key'} cannot read 2 of the 2 stored tokens" in line
