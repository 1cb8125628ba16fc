"""Class 1 of issue #11: a request to /slack/events that does not verify gets 401 and does nothing at all.

The corpus crosses every way a timestamp or a signature can be wrong with the kinds of body Slack sends (three
of five per forgery, rotating), each body one that WOULD make the bot act if it got through (a command answered
through its response_url, a Retry click, App Home opened, a deletion form, the URL check);
``test_the_same_bodies_signed_do_act`` shows that. Each case: 401 with a fixed JSON body, no table changed,
no call to the fake Slack (Web API or response_url), one log line without traceback, body or secret.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from bot.slack_body import SlackBody
from bot.slack_envelopes import SlackKind
from bot.slack_gate import GATE_BODY, GATE_VERIFIED_AT, SlackGate
from demo.fakes import slack_bodies
from demo.fakes.slack_api import FakeSlack
from demo.fakes.slack_state import JsonDict
from handlers.ids import ActionId, CallbackId
from tests.corpus import Corpus, drain_listeners, log_lines
from tests.harness import SIGNING_SECRET, RunningBot

#: Every case on SQLite; every fourth also on PostgreSQL (the gate and these listeners answer before any
#: query, so the backend changes nothing they decide; tests/backends.py).
pytestmark = pytest.mark.postgresql_sample(every=4)

REFUSED = {"ok": False, "error": "invalid_signature"}
GATE_LOGGER = "bot.slack_gate"


def _kinds() -> dict[str, Callable[[FakeSlack], tuple[str, JsonDict]]]:
    return {
        "command": lambda slack: ("command", slack_bodies.command(slack, "list")),
        "block_actions": lambda slack: ("block_actions", slack_bodies.block_actions(slack, ActionId.RETRY_SYNC, "1")),
        "view_submission": lambda slack: (
            "view_submission",
            slack_bodies.view_submission(slack, CallbackId.DELETE_CONFIRM, json.dumps({"d": 1})),
        ),
        "event": lambda slack: ("event_callback", slack_bodies.event_callback(slack)),
        "url_verification": lambda slack: ("url_verification", slack_bodies.url_verification()),
    }


KINDS = _kinds()


@dataclass(frozen=True)
class Forgery:
    """How the two headers are wrong: ``headers(body, now)`` gives them for the exact body bytes."""

    label: str
    headers: Callable[[bytes, int], dict[str, str | bytes]]


def _shifted(shift: int) -> Callable[[bytes, int], dict[str, str | bytes]]:
    """Signed correctly with the real secret over a timestamp ``shift`` seconds from now."""
    return lambda body, now: _signed_as(str(now + shift))(body, now)


def _signed_as(timestamp: str) -> Callable[[bytes, int], dict[str, str | bytes]]:
    """Signed correctly with the real secret over this (bad) timestamp text: only the timestamp is wrong."""
    return lambda body, _now: dict(slack_bodies.signed_headers(SIGNING_SECRET, body, timestamp=timestamp))


def _bad_timestamps() -> Iterator[Forgery]:
    yield Forgery("ts-abc", _signed_as("abc"))
    yield Forgery("ts-empty", _signed_as(""))
    yield Forgery("ts-1.5", _signed_as("1.5"))
    yield Forgery("ts-minus-1", _signed_as("-1"))
    yield Forgery("ts-1e9", _signed_as("1e9"))
    yield Forgery("ts-leading-space-123", _signed_as(" 123"))
    yield Forgery("ts-20-digits", _signed_as("9" * 20))
    yield Forgery("ts-zero", _signed_as("0"))
    yield Forgery("ts-hex", _signed_as("0x6553f100"))
    for label, shift in (("stale-6min", -360), ("stale-1h", -3600), ("future-6min", 360), ("future-1d", 86400)):
        yield Forgery(f"ts-{label}", _shifted(shift))
    yield Forgery("ts-now-decimal", lambda body, now: _signed_as(f"{now}.0")(body, now))
    yield Forgery("ts-now-plus-sign", lambda body, now: _signed_as(f"+{now}")(body, now))
    yield Forgery("ts-now-trailing-text", lambda body, now: _signed_as(f"{now}abc")(body, now))

    def arabic_indic(body: bytes, now: int) -> dict[str, str | bytes]:
        digits = "".join(chr(0x0660 + int(d)) for d in str(now))  # ١٧٠٠… : int() reads it, Slack never sends it
        headers = slack_bodies.signed_headers(SIGNING_SECRET, body, timestamp=digits)
        return {**headers, "X-Slack-Request-Timestamp": digits.encode()}

    yield Forgery("ts-arabic-indic-now", arabic_indic)

    def fullwidth(body: bytes, now: int) -> dict[str, str | bytes]:
        digits = "".join(chr(0xFF10 + int(d)) for d in str(now))
        headers = slack_bodies.signed_headers(SIGNING_SECRET, body, timestamp=digits)
        return {**headers, "X-Slack-Request-Timestamp": digits.encode()}

    yield Forgery("ts-fullwidth-now", fullwidth)
    yield Forgery("ts-missing", lambda body, now: {"X-Slack-Signature": _valid(body, now)["X-Slack-Signature"]})


def _valid(body: bytes, now: int) -> dict[str, str]:
    return slack_bodies.signed_headers(SIGNING_SECRET, body, timestamp=str(now))


def _with_signature(signature: Callable[[bytes, int], str]) -> Callable[[bytes, int], dict[str, str | bytes]]:
    return lambda body, now: {"X-Slack-Request-Timestamp": str(now), "X-Slack-Signature": signature(body, now)}


def _hex(body: bytes, now: int) -> str:
    return _valid(body, now)["X-Slack-Signature"].removeprefix("v0=")


def _bad_signatures() -> Iterator[Forgery]:
    yield Forgery("sig-missing", lambda body, now: {"X-Slack-Request-Timestamp": str(now)})
    yield Forgery("sig-both-missing", lambda _body, _now: {})
    yield Forgery("sig-empty", _with_signature(lambda _b, _n: ""))
    yield Forgery("sig-prefix-only", _with_signature(lambda _b, _n: "v0="))
    yield Forgery("sig-scheme-v1", _with_signature(lambda b, n: "v1=" + _hex(b, n)))
    yield Forgery("sig-scheme-sha256", _with_signature(lambda b, n: "sha256=" + _hex(b, n)))
    yield Forgery("sig-no-scheme", _with_signature(_hex))
    yield Forgery("sig-63-hex", _with_signature(lambda b, n: "v0=" + _hex(b, n)[:63]))
    yield Forgery("sig-65-hex", _with_signature(lambda b, n: "v0=" + _hex(b, n) + "0"))
    yield Forgery("sig-non-hex", _with_signature(lambda _b, _n: "v0=" + "g" * 64))
    yield Forgery("sig-uppercase-hex", _with_signature(lambda b, n: "v0=" + _hex(b, n).upper()))
    yield Forgery("sig-uppercase-scheme", _with_signature(lambda b, n: "V0=" + _hex(b, n)))
    yield Forgery("sig-inner-space", _with_signature(lambda b, n: "v0= " + _hex(b, n)))
    yield Forgery("sig-twice", _with_signature(lambda b, n: f"v0={_hex(b, n)},v0={_hex(b, n)}"))
    other = slack_bodies.signed_headers
    yield Forgery("sig-other-secret", lambda b, n: dict(other(SIGNING_SECRET + "-other", b, timestamp=str(n))))
    yield Forgery("sig-of-other-body", lambda b, n: {**_valid(b + b"&x=1", n)})
    yield Forgery("sig-of-other-timestamp", _with_signature(lambda b, n: _valid(b, n - 1)["X-Slack-Signature"]))
    yield Forgery("sig-of-empty-body", lambda _b, n: {**_valid(b"", n)})


FORGERIES = [*_bad_timestamps(), *_bad_signatures()]
#: Each forgery with three of the five kinds, rotating, so every kind meets most forgery families.
CASES = [
    (forgery, kind)
    for index, forgery in enumerate(FORGERIES)
    for offset, kind in enumerate(KINDS)
    if (offset - index) % len(KINDS) < 3
]


@pytest.mark.parametrize(("forgery", "kind"), CASES, ids=[f"{f.label}-{k}" for f, k in CASES])
def test_an_unverified_request_gets_401_and_does_nothing(
    corpus: Corpus, caplog: pytest.LogCaptureFixture, forgery: Forgery, kind: str
) -> None:
    wire_kind, data = KINDS[kind](corpus.bot.slack)
    body, content_type = slack_bodies.encode(wire_kind, data)
    headers = {"Content-Type": content_type, **forgery.headers(body, int(time.time()))}
    response = corpus.run(caplog, body, headers, status=401)
    assert response.json() == REFUSED
    lines = log_lines(caplog, GATE_LOGGER)
    assert len(lines) == 1 and "401" in lines[0], lines
    response_url = str(data.get("response_url") or "")
    assert all(response_url not in record.getMessage() for record in caplog.records if response_url)
    assert all(body.decode()[:40] not in record.getMessage() for record in caplog.records)


def test_the_corpus_is_large_enough() -> None:
    assert len(CASES) >= 100 and len({f.label for f in FORGERIES}) >= 30
    for kind in KINDS:
        assert sum(1 for _forgery, case_kind in CASES if case_kind == kind) >= 20


@pytest.mark.parametrize("kind", list(KINDS))
def test_the_same_bodies_signed_do_act(corpus: Corpus, kind: str) -> None:
    """The corpus would catch a bypass: signed, each body gets past the gate (and most make the bot act)."""
    corpus.bot.slack.reset_calls()
    wire_kind, data = KINDS[kind](corpus.bot.slack)
    body, content_type = slack_bodies.encode(wire_kind, data)
    response = corpus.post(body, {"Content-Type": content_type, **_valid(body, int(time.time()))})
    drain_listeners(corpus.bot)
    assert response.status_code == 200, response.text
    if kind == "url_verification":
        assert response.json() == {"challenge": data["challenge"]}
    if kind in ("command", "block_actions", "event"):
        assert corpus.bot.slack.calls() != []


# ---- the gate on its own, and what it hands Bolt -------------------------------------------------------------
class _Recorder:
    def __init__(self) -> None:
        self.environ: dict[str, object] | None = None
        self.body = b""

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        self.environ = environ
        self.body = environ["wsgi.input"].read(int(environ["CONTENT_LENGTH"]))
        start_response("200 OK", [])
        return [b""]


def _environ(body: bytes, headers: dict[str, str]) -> dict[str, Any]:
    environ: dict[str, Any] = {"wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body))}
    environ["CONTENT_TYPE"] = slack_bodies.FORM
    environ.update({"HTTP_" + name.upper().replace("-", "_"): value for name, value in headers.items()})
    return environ


def test_the_gate_hands_on_the_same_bytes_with_the_parsed_body(fake_slack: FakeSlack) -> None:
    inner = _Recorder()
    gate = SlackGate(inner, SIGNING_SECRET, clock=lambda: 1_700_000_000.5)
    body, _ = slack_bodies.encode("command", slack_bodies.command(fake_slack, "help"))
    headers = slack_bodies.signed_headers(SIGNING_SECRET, body, timestamp="1700000000")
    gate(_environ(body, headers), lambda *_args: None)
    assert inner.environ is not None and inner.body == body
    parsed = inner.environ[GATE_BODY]
    assert isinstance(parsed, SlackBody) and parsed.kind == SlackKind.COMMAND and parsed.fields["text"] == "help"
    assert inner.environ[GATE_VERIFIED_AT] == 1_700_000_000.5


def test_the_gate_never_calls_bolt_for_a_refused_request(fake_slack: FakeSlack) -> None:
    inner = _Recorder()
    gate = SlackGate(inner, SIGNING_SECRET, clock=lambda: 1_700_000_000.0)
    body, _ = slack_bodies.encode("command", slack_bodies.command(fake_slack, "help"))
    statuses: list[str] = []
    for headers in ({}, slack_bodies.signed_headers(SIGNING_SECRET, body, timestamp="1600000000")):
        gate(_environ(body, headers), lambda status, _headers: statuses.append(status))
    assert statuses == ["401 Unauthorized", "401 Unauthorized"] and inner.environ is None


def test_the_gate_needs_a_secret() -> None:
    with pytest.raises(ValueError, match="signing secret"):
        SlackGate(_Recorder(), "")


def test_a_command_mentioning_payload_reaches_its_listener(bot: RunningBot) -> None:
    """Bolt alone reads a form containing the word "payload" as interactivity, finds no payload and drops the
    command (404); the gate's reading of the body is what Bolt's listeners get."""
    response = bot.sender.slash_command("status payload-team")
    assert response.status == 200
    call = bot.slack.wait_for_call("response_url")
    assert "payload-team" in call.args["text"]
