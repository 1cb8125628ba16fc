"""bot/logs.py: the redacting filter, the JSON lines with their ids, and what stays quiet at INFO."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from bot.errors import ConfigurationError
from bot.logs import (
    QUIET_LOGGERS,
    REDACTED,
    ContextThreadPoolExecutor,
    JsonFormatter,
    Redactor,
    bind_datastore,
    configure_logging,
    current_ids,
    log_context,
    redact,
)
from bot.settings import Settings, load_settings

SIGNING_SECRET = "8f14e45fceea167a5a36dedd4bea2543"
BOT_TOKEN = "xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx"
ACCESS = "Zk9xT2tZbWRhc2RmYXNkZmFzZGZhc2RmYXNk"
REFRESH = "cmVmcmVzaC10b2tlbi10aGF0LWlzLXNlY3JldC0xMjM0NTY3OA"
CODE = "c0de-5ecret-0f-the-consent"
STATE = "st4te-0f-the-wizard-xyz"


@pytest.fixture
def captured() -> Iterator[tuple[io.StringIO, logging.Logger]]:
    """The JSON handler configure_logging installs, on the root logger beside pytest's own."""
    root = logging.getLogger()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter(Redactor([SIGNING_SECRET, BOT_TOKEN])))
    root.addHandler(handler)
    level = root.level
    root.setLevel(logging.INFO)
    try:
        yield stream, logging.getLogger("tests.logs")
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


@contextmanager
def fresh_root() -> Iterator[logging.Logger]:
    """The root logger as a fresh `datastore-bot` process has it (no handler), restored afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    quiet = {name: logging.getLogger(name).level for name in QUIET_LOGGERS}
    for handler in handlers:
        root.removeHandler(handler)
    try:
        yield root
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in handlers:
            root.addHandler(handler)
        root.setLevel(level)
        for name, old in quiet.items():
            logging.getLogger(name).setLevel(old)
        logging.captureWarnings(False)


def _lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (f"POST chat.postMessage token={BOT_TOKEN}", BOT_TOKEN),
        ("app token xapp-1-A0123-4567-abcdef0123", "xapp-1-A0123-4567-abcdef0123"),
        ("user token xoxp-9-8-7-deadbeefcafe", "xoxp-9-8-7-deadbeefcafe"),
        (f"headers={{'Authorization': 'Bearer {ACCESS}'}}", ACCESS),
        ("Authorization: Basic dXNlcjpwYXNzd29yZA==", "dXNlcjpwYXNzd29yZA"),
        ('{"authorization": "Basic dXNlcjpwYXNzd29yZA=="}', "dXNlcjpwYXNzd29yZA"),
        (f"GET /oauth/confluence/callback?code={CODE}&state={STATE}", CODE),
        (f"GET /oauth/confluence/callback?code={CODE}&state={STATE}", STATE),
        (f"GET /slack/oauth_redirect?state={STATE}&code={CODE}", CODE),
        (f'{{"access_token": "{ACCESS}", "refresh_token": "{REFRESH}"}}', ACCESS),
        (f'{{"access_token": "{ACCESS}", "refresh_token": "{REFRESH}"}}', REFRESH),
        (f"grant_type=refresh_token&refresh_token={REFRESH}&client_secret=abc123secret", REFRESH),
        (f"grant_type=refresh_token&refresh_token={REFRESH}&client_secret=abc123secret", "abc123secret"),
        ("token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N", "eyJhbGciOiJIUzI1NiJ9"),
    ],
)
def test_redact_removes_every_secret_shape(text: str, secret: str) -> None:
    cleaned = redact(text)
    assert secret not in cleaned and REDACTED in cleaned


def test_redact_keeps_ordinary_text() -> None:
    text = "sync run 3 of datastore 7: synced — 120 processed, state running, code path ok, basic settings kept"
    assert redact(text) == text


def test_the_handler_redacts_messages_arguments_and_exceptions_of_every_logger(
    captured: tuple[io.StringIO, logging.Logger],
) -> None:
    stream, logger = captured
    logger.info("signing secret %s, token %s", SIGNING_SECRET, BOT_TOKEN)
    logging.getLogger("slack_sdk.web.base_client").warning(
        "Received headers: %r", {"Authorization": f"Bearer {ACCESS}"}
    )
    try:
        raise ValueError(f"refresh failed for {{'refresh_token': '{REFRESH}'}} at ?code={CODE}&state={STATE}")
    except ValueError:
        logger.exception("the callback %s failed", f"/oauth/confluence/callback?state={STATE}")
    output = stream.getvalue()
    assert len(_lines(stream)) == 3
    for secret in (SIGNING_SECRET, BOT_TOKEN, ACCESS, REFRESH, CODE, STATE):
        assert secret not in output
    assert "Traceback" in _lines(stream)[2]["exception"]  # type: ignore[operator]


def test_a_json_line_carries_time_level_logger_message_and_the_bound_ids(
    captured: tuple[io.StringIO, logging.Logger],
) -> None:
    stream, logger = captured
    logger.info("outside")
    with log_context(run_id=41):
        bind_datastore(7)
        with log_context(request_id="r-1"):
            logger.warning("inside %d", 1)
        with ContextThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(logger.info, "in a pool thread").result()
    logger.info("after")
    outside, inside, pooled, after = _lines(stream)
    assert set(outside) == {"time", "level", "logger", "message"}
    assert outside["logger"] == "tests.logs" and outside["level"] == "INFO" and outside["message"] == "outside"
    assert inside["message"] == "inside 1" and inside["level"] == "WARNING"
    assert (inside["run_id"], inside["datastore_id"], inside["request_id"]) == (41, 7, "r-1")
    assert (pooled["run_id"], pooled["datastore_id"]) == (41, 7) and "request_id" not in pooled
    assert "run_id" not in after and current_ids() == {}


def test_text_lines_show_the_ids_and_quiet_libraries_stay_at_warning() -> None:
    stream = io.StringIO()
    with fresh_root() as root:
        configure_logging(Settings(_env_file=None, log_level="INFO", slack_bot_token=BOT_TOKEN), io.StringIO())
        configure_logging(Settings(_env_file=None, log_level="INFO", slack_bot_token=BOT_TOKEN), stream)
        assert len(root.handlers) == 1  # the second call replaced the first handler
        with log_context(run_id=5):
            logging.getLogger("bot.sync.worker").info("sync run 5: started with %s", BOT_TOKEN)
        logging.getLogger("apscheduler.executors.default").info('Running job "tick"')
        logging.getLogger("httpx").info("HTTP Request: GET https://api.atlassian.com/ex/confluence")
    assert stream.getvalue().count("\n") == 1
    assert f"bot.sync.worker run_id=5: sync run 5: started with {REDACTED}" in stream.getvalue()


def test_log_format_is_text_or_json_else_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_FORMAT", "JSON")
    assert load_settings(env_file=None).log_format == "json"
    monkeypatch.setenv("LOG_FORMAT", "xml")
    with pytest.raises(ConfigurationError) as refused:
        load_settings(env_file=None)
    assert refused.value.variable == "LOG_FORMAT"
    assert "LOG_FORMAT" in refused.value.message and "\n" not in refused.value.message


def test_records_are_left_alone_for_other_handlers_and_a_set_up_root_is_kept(
    captured: tuple[io.StringIO, logging.Logger], caplog: pytest.LogCaptureFixture
) -> None:
    stream, logger = captured
    with caplog.at_level(logging.INFO, logger="tests.logs"):
        logger.info("token %s", BOT_TOKEN)
    assert BOT_TOKEN not in stream.getvalue()
    (record,) = [r for r in caplog.records if r.name == "tests.logs"]
    assert record.args == (BOT_TOKEN,)  # pytest's handler (and any other) sees the record as it was logged
    assert configure_logging(Settings(_env_file=None)) is None  # pytest's handlers are on the root: kept
