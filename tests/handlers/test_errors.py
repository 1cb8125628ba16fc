"""The one @app.error (handlers/errors.py): nothing for an unverified request, never a 5xx for a verified one.

The first half drives a real Bolt app directly (no gate in front), with listeners that raise, to show the
handler's own rules; the second sends requests no listener takes through real HTTP (class 2: an unknown
callback_id, action_id, command or event gets the answer Slack expects, not Bolt's 404).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
from slack_bolt import Ack, App, BoltRequest, BoltResponse
from slack_sdk import WebClient

from bot.errors import UserFacingError
from demo.fakes import slack_bodies
from demo.fakes.slack_api import FakeSlack
from demo.fakes.slack_state import JsonDict
from handlers import errors
from handlers.errors import KeptAck
from handlers.views.fallback import TOO_SLOW_TEXT, UNKNOWN_COMMAND_TEXT, UNKNOWN_FORM_TEXT, ended_form_view
from tests.corpus import Corpus, log_lines, tracebacks
from tests.harness import SIGNING_SECRET


@pytest.fixture
def bolt(fake_slack: FakeSlack) -> Iterator[App]:
    """A Bolt app as bot/app.py builds it (unhandled requests raise), with only the error handler wired."""
    client = WebClient(token="xoxb-test-token", base_url=fake_slack.api_url)
    app = App(signing_secret=SIGNING_SECRET, client=client, raise_error_for_unhandled_request=True)
    errors.register(app, SIGNING_SECRET)
    yield app


def _request(kind: str, data: JsonDict, headers: dict[str, str] | None = None) -> BoltRequest:
    body, content_type = slack_bodies.encode(kind, data)
    signed = slack_bodies.signed_headers(SIGNING_SECRET, body)
    return BoltRequest(body=body.decode(), headers={"content-type": content_type, **(headers or signed)})


def _sent(slack: FakeSlack) -> list[str]:
    return [call.method for call in slack.calls() if call.method != "auth.test"]


def _kinds(slack: FakeSlack) -> dict[str, tuple[str, JsonDict]]:
    return {
        "command": ("command", slack_bodies.command(slack, "x")),
        "block_actions": ("block_actions", slack_bodies.block_actions(slack, "boom")),
        "view_submission": ("view_submission", slack_bodies.view_submission(slack, "boom")),
        "block_suggestion": ("block_suggestion", slack_bodies.block_suggestion(slack, "boom")),
    }


def _raise_on_everything(app: App, error: Exception, *, ack_first: bool = False) -> None:
    def listener(ack: Ack) -> None:
        if ack_first:
            ack()
        raise error

    app.command("/datastore")(listener)
    app.action("boom")(listener)
    app.view("boom")(listener)
    app.options("boom")(listener)


@pytest.mark.parametrize("timestamp", ["abc", "", "1.5", "1e9", "12 34"])
@pytest.mark.parametrize("kind", ["command", "block_actions", "view_submission"])
def test_an_unverified_request_that_breaks_bolts_own_check_gets_401_and_nobody_is_told(
    bolt: App, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture, kind: str, timestamp: str
) -> None:
    """Issue #11's hole, without the gate: Bolt's signature check raises on the timestamp, which used to post
    "Something went wrong" to the body's response_url (or as the bot to the body's user)."""
    caplog.set_level(logging.INFO)
    wire_kind, data = _kinds(fake_slack)[kind]
    forged = {"x-slack-request-timestamp": timestamp, "x-slack-signature": "v0=" + "0" * 64}
    fake_slack.reset_calls()
    response = bolt.dispatch(_request(wire_kind, data, forged))
    assert response.status == 401
    assert _sent(fake_slack) == []
    assert tracebacks(caplog) == []
    assert any("does not verify" in line for line in log_lines(caplog, "handlers.errors"))


@pytest.mark.parametrize("kind", ["command", "block_actions", "view_submission", "block_suggestion"])
def test_an_unexpected_error_before_the_ack_is_answered_in_the_response(
    bolt: App, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture, kind: str
) -> None:
    caplog.set_level(logging.INFO)
    _raise_on_everything(bolt, RuntimeError("database on fire"))
    wire_kind, data = _kinds(fake_slack)[kind]
    fake_slack.reset_calls()
    response = bolt.dispatch(_request(wire_kind, data))
    assert response.status == 200
    logged = [r for r in caplog.records if r.name == "handlers.errors"]
    assert len(logged) == 1 and logged[0].exc_info is not None  # unexpected: the traceback is kept
    error_id = logged[0].getMessage().split()[2]
    text = f"Something went wrong on my side (error id `{error_id}`)"
    answer = json.loads(response.body) if response.body else None
    if kind == "command":
        assert answer is not None and answer["response_type"] == "ephemeral" and text in answer["text"]
    elif kind == "view_submission":
        assert answer is not None and answer["response_action"] == "update" and text in json.dumps(answer["view"])
    elif kind == "block_suggestion":
        assert answer == {"options": []}
    else:
        assert answer is None
    assert _sent(fake_slack) == []


@pytest.mark.parametrize("kind", ["command", "view_submission"])
def test_a_user_facing_error_before_the_ack_shows_its_message_without_a_traceback(
    bolt: App, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture, kind: str
) -> None:
    caplog.set_level(logging.INFO)
    _raise_on_everything(bolt, UserFacingError("That datastore no longer exists."))
    wire_kind, data = _kinds(fake_slack)[kind]
    response = bolt.dispatch(_request(wire_kind, data))
    assert response.status == 200 and "That datastore no longer exists." in response.body
    assert tracebacks(caplog) == []


def test_an_error_after_the_ack_keeps_the_ack_and_tells_the_user_through_the_response_url(
    bolt: App, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    def acks_then_raises(ack: Ack) -> None:
        ack(text="Working on it…")
        raise UserFacingError("That datastore no longer exists.")

    bolt.command("/datastore")(acks_then_raises)
    request = _request("command", slack_bodies.command(fake_slack, "x"))
    response = bolt.dispatch(request)
    assert response.status == 200 and "Working on it" in response.body
    call = fake_slack.wait_for_call("response_url")
    assert call.args["text"] == "That datastore no longer exists."
    # Bolt sets ack.response back to None after the error handler when a listener raised after acking, and the
    # request thread, polling it every 10 ms, may then miss the ack and answer after Slack's 3 s: every
    # request's ack is a KeptAck, whose response stays once given.
    assert isinstance(request.context.ack, KeptAck)
    assert tracebacks(caplog) == []


def test_a_command_whose_listener_misses_slacks_3_seconds_says_so(
    bolt: App, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    """Bolt gives up on a listener that has not acked after 3 s and looks for another: none, so it is unhandled.
    For /datastore that means "too slow", not "unknown command"."""
    release = threading.Event()

    def slow(ack: Ack) -> None:
        release.wait(30)
        ack()

    bolt.command("/datastore")(slow)
    try:
        response = bolt.dispatch(_request("command", slack_bodies.command(fake_slack, "x")))
    finally:
        release.set()
    assert response.status == 200
    assert json.loads(response.body) == {"response_type": "ephemeral", "text": TOO_SLOW_TEXT}
    assert tracebacks(caplog) == []


def test_a_socket_mode_request_counts_as_verified(bolt: App, fake_slack: FakeSlack) -> None:
    _raise_on_everything(bolt, UserFacingError("No datastore named x here."))
    request = BoltRequest(body=slack_bodies.command(fake_slack, "x"), mode="socket_mode")
    response = bolt.dispatch(request)
    assert response.status == 200 and "No datastore named x here." in response.body


def test_a_kept_ack_keeps_its_first_response() -> None:
    ack = KeptAck()
    assert ack.response is None
    ack(text="hi")
    first = ack.response
    ack.response = None
    assert ack.response is first and isinstance(first, BoltResponse)


# ---- requests no listener takes, through real HTTP ------------------------------------------------------------
ENDED = {"response_action": "update", "view": ended_form_view(UNKNOWN_FORM_TEXT)}
UNKNOWN_COMMAND = {"response_type": "ephemeral", "text": UNKNOWN_COMMAND_TEXT}


def _unhandled() -> Iterator[tuple[str, str, object]]:
    """(label, what to send, the answer): ``what`` is ``kind:name`` for the slack_bodies builders."""
    for callback_id in ("unknown", "", "notice", "wizard-ended", "WIZARD-NAME", "wizard-name ", "c" * 255):
        yield f"view_submission-{callback_id[:20] or 'empty'}", f"view_submission:{callback_id}", ENDED
    for action_id in ("unknown", "sync-retry-2", "HOME-CREATE", "a" * 255, "wizard-use-site-x"):
        yield f"block_actions-{action_id[:20]}", f"block_actions:{action_id}", ""
    for action_id in ("unknown", "wizard-spaces-2"):
        yield f"block_suggestion-{action_id}", f"block_suggestion:{action_id}", {"options": []}
    for callback_id in ("unknown", "delete-confirm", "notice"):
        yield f"view_closed-{callback_id}", f"view_closed:{callback_id}", ""
    for command in ("/other", "/datastore2", "/DATASTORE", "/datastore-dev"):
        yield f"command-{command}", f"command:{command}", UNKNOWN_COMMAND
    for event in ("message", "reaction_added", "member_joined_channel", "channel_created", "team_join"):
        yield f"event-{event}", f"event:{event}", ""
    yield "event-app-home-messages-tab", "event:app_home_opened:messages", ""
    yield "app_rate_limited", "app_rate_limited:", ""
    yield "ssl_check", "ssl_check:", ""


UNHANDLED = list(_unhandled())


def _body(slack: FakeSlack, what: str) -> tuple[bytes, str]:
    kind, _, name = what.partition(":")
    if kind == "view_submission":
        return slack_bodies.encode(kind, slack_bodies.view_submission(slack, name))
    if kind == "view_closed":
        return slack_bodies.encode(kind, slack_bodies.view_closed(slack, name))
    if kind == "block_actions":
        return slack_bodies.encode(kind, slack_bodies.block_actions(slack, name))
    if kind == "block_suggestion":
        return slack_bodies.encode(kind, slack_bodies.block_suggestion(slack, name))
    if kind == "command":
        return slack_bodies.encode(kind, slack_bodies.command(slack, "help", name=name))
    if kind == "event":
        event_type, _, tab = name.partition(":")
        event: JsonDict = {"type": event_type, "user": slack.default_user_id, "tab": tab or "home"}
        return slack_bodies.encode("event_callback", slack_bodies.event_callback(slack, event))
    if kind == "app_rate_limited":
        limited = {"token": "x", "type": "app_rate_limited", "team_id": slack.team_id, "minute_rate_limited": 1}
        return json.dumps(limited).encode(), slack_bodies.JSON
    return urlencode({"ssl_check": "1", "token": "x"}).encode(), slack_bodies.FORM


@pytest.mark.parametrize(("label", "what", "answer"), UNHANDLED, ids=[case[0] for case in UNHANDLED])
def test_a_request_no_listener_takes_gets_the_answer_slack_expects(
    corpus: Corpus, caplog: pytest.LogCaptureFixture, label: str, what: str, answer: object
) -> None:
    body, content_type = _body(corpus.bot.slack, what)
    headers = {"Content-Type": content_type, **slack_bodies.signed_headers(SIGNING_SECRET, body)}
    response = corpus.run(caplog, body, headers, status=200)
    if answer == "":
        assert response.content == b"", response.text
    else:
        assert response.json() == answer
