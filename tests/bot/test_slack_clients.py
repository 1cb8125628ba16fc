"""One shared, counting Slack client per installation: the same object for the same token and workspace, another
for another, the least recently used dropped past the limit; a post is never retried after a connection error."""

from __future__ import annotations

from slack_sdk import WebClient

from bot.slack_clients import CountingWebClient, RepeatableCallRetryHandler, SlackClients
from demo.fakes.slack_api import FakeSlack


def test_each_installation_has_one_shared_client() -> None:
    clients = SlackClients("http://127.0.0.1:9/api/")
    first = clients.get("xoxb-1", "T1")
    assert clients.get("xoxb-1", "T1") is first
    assert clients.get("xoxb-1", "T2") is not first and clients.get("xoxb-2", "T1") is not first
    assert isinstance(first, CountingWebClient) and first.token == "xoxb-1"
    assert first.default_params.get("team_id") == "T1" and first.base_url == "http://127.0.0.1:9/api/"
    handlers = first.retry_handlers
    assert len(handlers) == 1 and isinstance(handlers[0], RepeatableCallRetryHandler)
    assert len(clients) == 3


def test_bolts_per_request_client_is_swapped_for_the_installations_one() -> None:
    clients = SlackClients("http://127.0.0.1:9/api/")
    per_request = [WebClient(token="xoxb-1", team_id="T1") for _ in range(3)]
    shared = {id(clients.like(client)) for client in per_request}
    assert len(shared) == 1 and clients.like(WebClient(token="xoxb-1")) is not clients.get("xoxb-1", "T1")


def test_the_least_recently_used_installation_ages_out() -> None:
    clients = SlackClients("http://127.0.0.1:9/api/", limit=2)
    old, kept = clients.get("xoxb-old"), clients.get("xoxb-kept")
    assert clients.get("xoxb-old") is old  # used again: now the most recent
    clients.get("xoxb-new")
    assert len(clients) == 2 and clients.get("xoxb-old") is old and clients.get("xoxb-kept") is not kept


def test_a_shared_client_talks_to_slack(fake_slack: FakeSlack) -> None:
    clients = SlackClients(fake_slack.api_url)
    token = sorted(fake_slack.bot_tokens)[0]
    assert clients.get(token).auth_test()["ok"] is True
