"""The fake Socket Mode endpoint and apps.connections.open behave as Slack documents them."""

from __future__ import annotations

import json

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from websockets.sync.client import connect

from demo.fakes.slack_api import FakeSlack
from demo.fakes.slack_socket import FakeSocketMode


def _client(slack: FakeSlack, token: str) -> WebClient:
    return WebClient(token=token, base_url=slack.api_url)


def test_connections_open_takes_the_app_token_only(fake_slack: FakeSlack) -> None:
    app_token, bot_token = sorted(fake_slack.app_tokens)[0], sorted(fake_slack.bot_tokens)[0]
    with pytest.raises(SlackApiError) as refused:
        _client(fake_slack, app_token).apps_connections_open(app_token=app_token)
    assert refused.value.response["error"] == "socket_mode_not_enabled"
    with FakeSocketMode(fake_slack) as socket:
        opened = _client(fake_slack, app_token).apps_connections_open(app_token=app_token)
        assert str(opened["url"]).startswith(socket.url.partition("?")[0])
        with pytest.raises(SlackApiError) as wrong:
            _client(fake_slack, bot_token).apps_connections_open(app_token=bot_token)
        assert wrong.value.response["error"] == "not_allowed_token_type"
        with pytest.raises(SlackApiError) as not_a_bot:
            _client(fake_slack, app_token).chat_postMessage(channel=fake_slack.default_channel_id, text="hi")
        assert not_a_bot.value.response["error"] == "not_allowed_token_type"


def test_hello_then_envelopes_and_acks_on_time_or_late(fake_slack: FakeSlack) -> None:
    with FakeSocketMode(fake_slack) as socket, connect(socket.url) as bot:
        assert json.loads(bot.recv(timeout=10))["type"] == "hello"
        socket.wait_for_connection()
        first = socket.slash_command("help")
        envelope = json.loads(bot.recv(timeout=10))
        assert envelope["envelope_id"] == first and envelope["type"] == "slash_commands"
        assert envelope["payload"]["command"] == "/datastore" and envelope["payload"]["text"] == "help"
        bot.send(json.dumps({"envelope_id": first, "payload": {"text": "the answer"}}))
        assert socket.wait_for_ack(first).late is False
        assert [e.text for e in fake_slack.ephemerals()] == ["the answer"]

        second = socket.slash_command("help")
        bot.recv(timeout=10)
        fake_slack.advance_time(socket.ack_timeout + 1)
        bot.send(json.dumps({"envelope_id": second, "payload": {"text": "too late"}}))
        assert socket.wait_for_ack(second).late is True
        assert [e.text for e in fake_slack.ephemerals()] == ["the answer"]  # Slack no longer shows it

        third = socket.slash_command("help")
        bot.recv(timeout=10)
        bot.send(json.dumps({"envelope_id": "never-sent"}))
        bot.send("not json")
        bot.send(json.dumps({"envelope_id": third}))  # read after the two before it, on the same connection
        assert socket.wait_for_ack(third).payload is None
        assert socket.unreadable() == [json.dumps({"envelope_id": "never-sent"}), "not json"]
        assert len(socket.acks()) == 3
