"""The bot's Web API client retries connection errors, but never re-sends a post: after a dropped connection
Slack may have applied it, and a blind retry would post it twice (the caller looks for it instead)."""

from __future__ import annotations

import http.client

import pytest
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler

from bot.app import RepeatableCallRetryHandler
from demo.fakes.slack_api import FakeSlack
from demo.fakes.slack_faults import FaultMode


def _client(slack: FakeSlack, handler: ConnectionErrorRetryHandler) -> WebClient:
    return WebClient(token=sorted(slack.bot_tokens)[0], base_url=slack.api_url, retry_handlers=[handler])


def test_slack_sdks_own_connection_retries_would_post_twice(fake_slack: FakeSlack) -> None:
    fake_slack.fail("chat.postMessage", mode=FaultMode.APPLY_THEN_DROP)
    client = _client(fake_slack, ConnectionErrorRetryHandler(max_retry_count=2))
    client.chat_postMessage(channel=fake_slack.default_channel_id, text="once")
    assert [m.text for m in fake_slack.messages(fake_slack.default_channel_id)] == ["once", "once"]


def test_the_bots_client_never_resends_a_post_but_retries_the_rest(fake_slack: FakeSlack) -> None:
    channel = fake_slack.default_channel_id
    client = _client(fake_slack, RepeatableCallRetryHandler(max_retry_count=2))
    fake_slack.fail("chat.postMessage", mode=FaultMode.APPLY_THEN_DROP)
    with pytest.raises(http.client.RemoteDisconnected):
        client.chat_postMessage(channel=channel, text="once")
    assert [m.text for m in fake_slack.messages(channel)] == ["once"]
    ts = fake_slack.messages(channel)[0].ts
    fake_slack.fail("chat.update", mode=FaultMode.APPLY_THEN_DROP)
    assert client.chat_update(channel=channel, ts=ts, text="updated")["ok"]  # idempotent: retried
    assert [c.fault for c in fake_slack.calls("chat.update")] == ["apply_then_drop", None]
