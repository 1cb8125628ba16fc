"""bot/metrics.py: the /metrics listener, its gauges read from the database, and the counting Slack client."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from slack_sdk.errors import SlackApiError

from bot.app import CountingWebClient
from bot.errors import ConfigurationError
from bot.metrics import http_outcome, slack_method_label, start_metrics_server
from bot.services import Services, build_services
from bot.settings import Settings
from demo.fakes.slack_api import FakeSlack
from tests.harness import free_port, migrate


@pytest.fixture
def services(database_url: str) -> Iterator[Services]:
    built = build_services(Settings(_env_file=None, database_url=database_url, encryption_key="x" * 43 + "="))
    migrate(built.engine)
    yield built
    built.engine.dispose()


def _calls(method: str, outcome: str) -> float:
    value = REGISTRY.get_sample_value("datastore_bot_slack_api_calls_total", {"method": method, "outcome": outcome})
    return value or 0.0


def test_metrics_port_0_is_off(services: Services) -> None:
    assert start_metrics_server(services.settings, services.sessions, services.budget, port=0) is None


def test_metrics_are_served_with_the_runs_read_from_the_database(services: Services) -> None:
    server = start_metrics_server(services.settings, services.sessions, services.budget, port=free_port())
    assert server is not None
    try:
        text = httpx.get(f"http://127.0.0.1:{server.port}/metrics", timeout=10).text
    finally:
        server.close()
    families = {family.name: family for family in text_string_to_metric_families(text)}
    runs = {sample.labels["state"]: sample.value for sample in families["datastore_bot_sync_runs_unfinished"].samples}
    assert runs == {"queued": 0, "running": 0, "paused": 0}
    (points,) = families["datastore_bot_atlassian_points_available"].samples
    assert points.value == pytest.approx(services.settings.atlassian_points_per_hour, rel=0.01)
    assert "datastore_bot_pages_processed" in families and "datastore_bot_slack_handler_seconds" in families
    # closed: its gauges are off the registry, so another server in this process can register them again
    assert REGISTRY.get_sample_value("datastore_bot_atlassian_points_available") is None


def test_a_host_that_cannot_be_listened_on_is_a_configuration_error(services: Services) -> None:
    settings = services.settings.model_copy(update={"metrics_host": "192.0.2.1"})  # TEST-NET: not this host's
    with pytest.raises(ConfigurationError) as refused:
        start_metrics_server(settings, services.sessions, services.budget, port=free_port())
    assert refused.value.variable == "METRICS_HOST" and "\n" not in refused.value.message


def test_method_labels_are_bounded() -> None:
    assert slack_method_label("chat.postMessage") == "chat.postMessage"
    assert slack_method_label("admin.users.session.reset") == "admin.users.session.reset"
    assert slack_method_label("../../etc/passwd") == "other" and slack_method_label("x" * 100 + ".y") == "other"


def test_http_outcomes() -> None:
    assert [http_outcome(s) for s in (None, 200, 204, 401, 404, 429, 500, 503)] == [
        "unreachable",
        "ok",
        "ok",
        "refused",
        "refused",
        "rate_limited",
        "server_error",
        "server_error",
    ]


def test_the_counting_client_counts_each_call_by_method_and_outcome(fake_slack: FakeSlack) -> None:
    client = CountingWebClient(token=sorted(fake_slack.bot_tokens)[0], base_url=fake_slack.api_url)
    ok, failed = _calls("auth.test", "ok"), _calls("chat.postMessage", "error")
    client.auth_test()
    fake_slack.fail("chat.postMessage", error="channel_not_found", status=200)
    with pytest.raises(SlackApiError):
        client.chat_postMessage(channel="C0NOPE", text="hello")
    assert _calls("auth.test", "ok") == ok + 1
    assert _calls("chat.postMessage", "error") == failed + 1
