"""Round trips through a tiny real Bolt app served over HTTP: SlackRequestSender → Bolt → FakeSlack."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from slack_bolt import Ack, App, Respond
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient

from demo.fakes.slack_api import FakeSlack
from demo.fakes.slack_payloads import state_values
from demo.fakes.slack_requests import SlackRequestSender
from demo.fakes.slack_state import View

SECRET = "test-signing-secret"
Payload = dict[str, Any]


def plain(text: str) -> dict[str, str]:
    return {"type": "plain_text", "text": text}


def text_input(block_id: str, optional: bool = False) -> Payload:
    element = {"type": "plain_text_input", "action_id": "value"}
    return {"type": "input", "block_id": block_id, "label": plain(block_id), "element": element, "optional": optional}


CHOICES = [{"text": plain(n), "value": n} for n in ("all", "some")]
STEP1: Payload = {
    "type": "modal",
    "callback_id": "step1",
    "title": plain("New datastore"),
    "submit": plain("Next"),
    "notify_on_close": True,
    "blocks": [
        text_input("name"),
        {
            "type": "input",
            "block_id": "scope",
            "dispatch_action": True,
            "label": plain("Spaces"),
            "element": {"type": "radio_buttons", "action_id": "choice", "options": CHOICES},
        },
        {
            "type": "input",
            "block_id": "spaces",
            "optional": True,
            "label": plain("Pick"),
            "element": {"type": "multi_external_select", "action_id": "picker", "min_query_length": 0},
        },
    ],
}
STEP2: Payload = {
    "type": "modal",
    "callback_id": "step2",
    "title": plain("Confirm"),
    "submit": plain("Create"),
    "blocks": [text_input("name"), text_input("next", optional=True)],
}
HOME: Payload = {"type": "home", "blocks": [{"type": "section", "text": plain("Your datastores")}]}


def build_app(client: WebClient, seen: list[Payload]) -> App:
    app = App(client=client, signing_secret=SECRET)
    add_command_and_views(app, seen)
    add_interactivity(app, seen)
    return app


def add_command_and_views(app: App, seen: list[Payload]) -> None:
    @app.command("/datastore")
    def command(ack: Ack, body: Payload, respond: Respond, client: WebClient) -> None:
        seen.append(body)
        if body["text"] == "help":
            ack("Usage: /datastore create")
        elif body["text"] == "slow":
            time.sleep(1.0)
            ack()
        elif body["text"] == "announce":
            ack()
            respond(text="Datastore ready", response_type="in_channel")
        else:
            ack()
            client.views_open(trigger_id=body["trigger_id"], view=STEP1)

    @app.view("step1")
    def step1(ack: Ack, view: Payload) -> None:
        seen.append(view)
        if view["state"]["values"]["name"]["value"]["value"] == "bad":
            ack(response_action="errors", errors={"name": "Name taken"})
        else:
            ack(response_action="update", view=STEP2)

    @app.view("step2")
    def step2(ack: Ack, view: Payload) -> None:
        seen.append(view)
        action = (view["state"]["values"]["next"]["value"]["value"] or "").strip()
        if action == "push":
            ack(response_action="push", view={**STEP2, "callback_id": "step3"})
        elif action == "clear":
            ack(response_action="clear")
        else:
            ack()

    @app.view("step3")
    def step3(ack: Ack) -> None:
        ack(response_action="clear")


def add_interactivity(app: App, seen: list[Payload]) -> None:
    @app.view_closed("step1")
    def closed(ack: Ack, body: Payload) -> None:
        seen.append(body)
        ack()

    @app.action("choice")
    def choice(ack: Ack, body: Payload, client: WebClient) -> None:
        ack()
        seen.append(body)
        new_view = {**STEP1, "title": plain(body["actions"][0]["selected_option"]["value"])}
        client.views_update(view_id=body["view"]["id"], hash=body["view"]["hash"], view=new_view)

    @app.action("approve")
    def approve(ack: Ack, body: Payload, respond: Respond) -> None:
        ack()
        seen.append(body)
        respond(text="Approved", replace_original=True)

    @app.options("picker")
    def picker(ack: Ack, payload: Payload) -> None:
        count = 101 if payload["value"] == "many" else 2
        ack(options=[{"text": plain(f"{payload['value']}{i}"), "value": f"v{i}"} for i in range(count)])

    @app.event("app_home_opened")
    def home(event: Payload, client: WebClient) -> None:
        client.views_publish(user_id=event["user"], view=HOME)


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """No access log in test output."""


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def seen() -> list[Payload]:
    return []


@pytest.fixture
def sender(slack: FakeSlack, seen: list[Payload]) -> Iterator[SlackRequestSender]:
    app = build_app(WebClient(token="xoxb-test-token", base_url=slack.api_url), seen)
    server: WSGIServer = make_server("127.0.0.1", 0, SlackRequestHandler(app), handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}/slack/events"
    with SlackRequestSender(url, SECRET, slack) as request_sender:
        yield request_sender
    server.shutdown()
    thread.join(timeout=5)
    server.server_close()


def open_wizard(sender: SlackRequestSender, slack: FakeSlack) -> str:
    assert sender.slash_command("create").status == 200
    return str(slack.wait_for_call("views.open").response["view"]["id"])


def test_url_verification_and_signature_checks(sender: SlackRequestSender) -> None:
    answer = sender.url_verification("chal-123")
    assert answer.status == 200 and answer.json == {"challenge": "chal-123"}
    for mode in ("unsigned", "bad_signature", "stale"):
        assert sender.url_verification("x", sign=mode).status == 401, mode
        assert sender.slash_command("help", sign=mode).status == 401, mode


def test_slash_command_fields_and_ack_reply(sender: SlackRequestSender, slack: FakeSlack, seen: list[Payload]) -> None:
    result = sender.slash_command("help")
    assert result.status == 200
    expected = {"token", "team_id", "team_domain", "channel_id", "channel_name", "user_id", "user_name", "command"}
    expected |= {"text", "api_app_id", "response_url", "trigger_id"}
    assert expected <= set(result.sent) and seen[0]["command"] == "/datastore"
    assert seen[0]["response_url"].startswith(slack.base_url + "/response/")
    assert [e.text for e in slack.ephemerals(user="U0TESTER")] == ["Usage: /datastore create"]


def test_respond_in_channel_through_response_url(sender: SlackRequestSender, slack: FakeSlack) -> None:
    sender.slash_command("announce")
    slack.wait_for_call("response_url")
    assert [m.text for m in slack.messages("C0GENERAL")] == ["Datastore ready"]


def test_slow_ack_fails_loudly(slack: FakeSlack, sender: SlackRequestSender) -> None:
    with SlackRequestSender(sender.events_url, SECRET, slack, ack_timeout=0.3) as impatient:
        with pytest.raises(AssertionError, match="did not answer within"):
            impatient.slash_command("slow")


def test_wizard_errors_update_push_clear(sender: SlackRequestSender, slack: FakeSlack, seen: list[Payload]) -> None:
    view_id = open_wizard(sender, slack)
    first_hash = slack.view(view_id).hash
    rejected = sender.view_submission(view_id, {"name": {"value": "bad"}, "scope": {"choice": "all"}})
    assert rejected.errors == {"name": "Name taken"} and slack.view(view_id).hash == first_hash
    state = seen[-1]["state"]["values"]
    assert state["name"]["value"] == {"type": "plain_text_input", "value": "bad"}
    assert state["scope"]["choice"]["selected_option"]["value"] == "all"
    assert state["spaces"]["picker"] == {"type": "multi_external_select", "selected_options": []}
    accepted = sender.view_submission(view_id, {"name": {"value": "Docs"}})
    assert accepted.errors is None and slack.view(view_id).callback_id == "step2"
    assert slack.view(view_id).hash != first_hash
    sender.view_submission(view_id, {"next": {"value": "push"}})
    stack = slack.open_views("U0TESTER")
    assert [v.callback_id for v in stack] == ["step2", "step3"]
    assert seen[-1]["state"]["values"]["name"]["value"]["value"] == "Docs"  # kept across the update
    sender.view_submission(stack[-1].id, {"name": {"value": "x"}})
    assert slack.open_views("U0TESTER") == [] and slack.view(view_id).closed


def test_submission_close_and_client_side_checks(sender: SlackRequestSender, slack: FakeSlack) -> None:
    view_id = open_wizard(sender, slack)
    with pytest.raises(AssertionError, match="required input 'name' is empty"):
        sender.view_submission(view_id, {"scope": {"choice": "all"}})
    with pytest.raises(AssertionError, match="not an option"):
        sender.view_submission(view_id, {"name": {"value": "n"}, "scope": {"choice": "nope"}})
    sender.view_submission(view_id, {"name": {"value": "Docs"}, "scope": {"choice": "some"}})
    sender.view_submission(view_id, {})
    assert slack.view(view_id).closed and slack.open_views("U0TESTER") == []


def test_view_closed_notifies_bot(sender: SlackRequestSender, slack: FakeSlack, seen: list[Payload]) -> None:
    view_id = open_wizard(sender, slack)
    result = sender.view_closed(view_id)
    assert result is not None and result.status == 200
    assert seen[-1]["type"] == "view_closed" and seen[-1]["is_cleared"] is False
    assert slack.view(view_id).closed
    with pytest.raises(AssertionError, match="closed"):
        sender.view_submission(view_id, {"name": {"value": "late"}})


def test_view_closed_without_notify_on_close_is_silent(sender: SlackRequestSender, slack: FakeSlack) -> None:
    client = WebClient(token="xoxb-test-token", base_url=slack.api_url)
    view_id = client.views_open(trigger_id=slack.issue_trigger_id(), view=STEP2)["view"]["id"]
    assert sender.view_closed(view_id, is_cleared=True) is None
    assert slack.view(view_id).closed and slack.calls("views.open")[0].ok


def test_block_actions_in_view_update_it(sender: SlackRequestSender, slack: FakeSlack, seen: list[Payload]) -> None:
    view_id = open_wizard(sender, slack)
    result = sender.block_actions("choice", block_id="scope", selected_option="some", view_id=view_id)
    assert result.status == 200
    slack.wait_for_call("views.update")
    assert slack.view(view_id).title == plain("some")
    body = seen[-1]
    assert body["container"] == {"type": "view", "view_id": view_id} and body["trigger_id"]
    assert body["actions"][0]["type"] == "radio_buttons" and body["actions"][0]["block_id"] == "scope"
    with pytest.raises(AssertionError, match="dispatch_action"):
        sender.block_actions("value", block_id="name", value="x", view_id=view_id)


def test_block_actions_on_message_use_response_url(
    sender: SlackRequestSender, slack: FakeSlack, seen: list[Payload]
) -> None:
    client = WebClient(token="xoxb-test-token", base_url=slack.api_url)
    approve = {"type": "button", "text": plain("Approve"), "action_id": "approve", "value": "ds-1"}
    blocks = [{"type": "actions", "block_id": "act", "elements": [approve]}]
    ts = client.chat_postMessage(channel="C0GENERAL", text="Approve?", blocks=blocks)["ts"]
    assert sender.block_actions("approve", message=("C0GENERAL", ts)).status == 200
    slack.wait_for_call("response_url")
    assert slack.message("C0GENERAL", ts).text == "Approved"
    body = seen[-1]
    assert body["container"]["message_ts"] == ts and body["channel"]["id"] == "C0GENERAL"
    assert body["actions"][0]["value"] == "ds-1" and body["message"]["ts"] == ts
    with pytest.raises(AssertionError, match="no element with action_id='missing'"):
        sender.block_actions("missing", message=("C0GENERAL", ts))


def test_block_suggestion_options(sender: SlackRequestSender, slack: FakeSlack) -> None:
    view_id = open_wizard(sender, slack)
    options = sender.block_suggestion(view_id, "picker", "spaces", "eng")
    assert [o["value"] for o in options] == ["v0", "v1"] and options[0]["text"]["text"] == "eng0"
    with pytest.raises(AssertionError, match="at most 100 options"):
        sender.block_suggestion(view_id, "picker", "spaces", "many")


def test_events_app_home_opened(sender: SlackRequestSender, slack: FakeSlack) -> None:
    result = sender.app_home_opened("U0TESTER")
    assert result.status == 200 and result.sent["type"] == "event_callback"
    assert result.sent["event"]["channel"].startswith("D") and result.sent["event_id"].startswith("Ev")
    slack.wait_for_call("views.publish")
    home = slack.home_view("U0TESTER")
    assert home is not None and home.type == "home"
    assert sender.event({"type": "app_home_opened", "user": "U0TESTER"}, sign="stale").status == 401


def test_state_values_for_each_element_type() -> None:
    options = [{"text": plain("A"), "value": "a"}, {"text": plain("B"), "value": "b"}]
    elements: list[Payload] = [
        {"type": "static_select", "action_id": "s", "options": options},
        {"type": "checkboxes", "action_id": "c", "options": options},
        {"type": "number_input", "action_id": "n", "is_decimal_allowed": False},
        {"type": "datepicker", "action_id": "d", "initial_date": "2025-01-31"},
        {"type": "users_select", "action_id": "u"},
        {"type": "email_text_input", "action_id": "e"},
    ]
    blocks = [{"type": "input", "block_id": e["action_id"], "label": plain("L"), "element": e} for e in elements]
    view = View("V1", "T0TEST", "U0TESTER", "modal", "h", "A0TEST", "B0BOT", blocks=blocks)
    values: dict[str, dict[str, Any]] = {"s": {"s": "b"}, "c": {"c": ["a", "b"]}, "n": {"n": "42"}}
    values["u"] = {"u": "U0TESTER"}
    state = state_values(view, values | {"e": {"e": "a@b.c"}})
    assert state["s"]["s"] == {"type": "static_select", "selected_option": options[1]}
    assert [o["value"] for o in state["c"]["c"]["selected_options"]] == ["a", "b"]
    assert state["n"]["n"] == {"type": "number_input", "value": "42"}
    assert state["d"]["d"] == {"type": "datepicker", "selected_date": "2025-01-31"}
    assert state["u"]["u"]["selected_user"] == "U0TESTER" and state["e"]["e"]["value"] == "a@b.c"
    with pytest.raises(AssertionError, match="not in view"):
        state_values(view, values | {"e": {"e": "x"}, "zzz": {"q": 1}})
