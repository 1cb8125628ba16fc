"""SlackRequestSender from another workspace and from an Enterprise Grid org: Bolt (and the bot's own reading,
handlers.actors) find the same team, enterprise and user in every kind of request."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any
from wsgiref.simple_server import WSGIServer, make_server

import pytest
from slack_bolt import Ack, App, BoltContext
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient

from bot.actors import Actor
from demo.fakes.slack_api import FakeSlack
from demo.fakes.slack_requests import SlackRequestSender
from handlers.actors import actor_of
from tests.demo.fakes.test_slack_requests import SECRET, STEP1, _QuietHandler

Seen = list[tuple[str, str | None, str | None, str | None, Actor | None]]


def _recorder(app: App, seen: Seen) -> None:
    def note(kind: str, context: BoltContext, body: dict[str, Any]) -> None:
        seen.append((kind, context.enterprise_id, context.team_id, context.user_id, actor_of(body)))

    @app.command("/datastore")
    def command(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        ack()
        note("command", context, body)
        client.views_open(trigger_id=body["trigger_id"], view=STEP1)

    @app.action("choice")
    def action(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        ack()
        note("block_actions", context, body)

    @app.options("picker")
    def options(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        note("block_suggestion", context, body)
        ack(options=[])

    @app.view("step1")
    def submitted(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        note("view_submission", context, body)
        ack()

    @app.view_closed("step1")
    def closed(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        note("view_closed", context, body)
        ack()


@pytest.fixture
def serve_recorder() -> Iterator[Callable[[FakeSlack, Seen], str]]:
    servers: list[tuple[WSGIServer, threading.Thread]] = []

    def start(slack: FakeSlack, seen: Seen) -> str:
        app = App(client=WebClient(token="xoxb-test-token", base_url=slack.api_url), signing_secret=SECRET)
        _recorder(app, seen)
        server = make_server("127.0.0.1", 0, SlackRequestHandler(app), handler_class=_QuietHandler)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        servers.append((server, thread))
        return f"http://127.0.0.1:{server.server_port}/slack/events"

    yield start
    for server, thread in servers:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()


def _every_kind(sender: SlackRequestSender, slack: FakeSlack) -> None:
    assert sender.slash_command("create").status == 200
    view_id = str(slack.wait_for_call("views.open").response["view"]["id"])
    assert sender.block_actions("choice", view_id=view_id, selected_option="all").status == 200
    assert sender.block_suggestion(view_id, "picker", "spaces", "") == []
    closed = sender.view_closed(view_id)
    assert closed is not None and closed.status == 200
    assert sender.slash_command("create").status == 200
    view_id = str(slack.wait_for_call("views.open", count=2).response["view"]["id"])
    values = {"name": {"value": "docs"}, "scope": {"choice": "all"}}
    assert sender.view_submission(view_id, values).status == 200


KINDS = ["command", "block_actions", "block_suggestion", "view_closed", "command", "view_submission"]


@pytest.mark.parametrize(
    ("team_id", "enterprise_id", "org_install"),
    [("T0OTHER", None, False), ("T0TEST", "E0GRID", False), ("T0GRIDTEAM", "E0GRID", True)],
    ids=["another-workspace", "grid-workspace", "grid-org-install"],
)
def test_every_request_kind_carries_the_senders_workspace_and_org(
    serve_recorder: Callable[[FakeSlack, Seen], str], team_id: str, enterprise_id: str | None, org_install: bool
) -> None:
    seen: Seen = []
    with FakeSlack() as slack:
        url = serve_recorder(slack, seen)
        sender = SlackRequestSender(
            url, SECRET, slack, team_id=team_id, enterprise_id=enterprise_id, org_install=org_install
        )
        with sender:
            _every_kind(sender, slack)
    assert [kind for kind, *_ in seen] == KINDS
    expected = Actor(team_id=team_id, user_id=slack.default_user_id, enterprise_id=enterprise_id)
    for kind, bolt_enterprise, _bolt_team, bolt_user, actor in seen:
        assert (kind, bolt_enterprise, bolt_user) == (kind, enterprise_id, slack.default_user_id)
        assert actor == expected, kind


def test_outside_grid_the_org_is_absent_and_an_org_install_needs_one() -> None:
    with FakeSlack() as slack:
        sender = SlackRequestSender("http://127.0.0.1:9/slack/events", SECRET, slack)
        payload = sender.base_payload("block_actions", slack.default_user_id)
        assert payload["enterprise"] is None and "enterprise_id" not in payload["team"]
        sender.close()
        with pytest.raises(ValueError, match="org-wide install"):
            SlackRequestSender("http://127.0.0.1:9/slack/events", SECRET, slack, org_install=True)
