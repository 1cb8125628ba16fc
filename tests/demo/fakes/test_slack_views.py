"""Tests of the fake's views.* methods, trigger_ids and response_urls, over real sockets."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from demo.fakes import slack_limits
from demo.fakes.slack_api import FakeSlack

TOKEN = "xoxb-test-token"
NAME_INPUT = {
    "type": "input",
    "block_id": "name",
    "label": {"type": "plain_text", "text": "Name"},
    "element": {"type": "plain_text_input", "action_id": "value"},
}


def modal(title: str = "Create", **extra: Any) -> dict[str, Any]:
    view: dict[str, Any] = {"type": "modal", "title": {"type": "plain_text", "text": title}}
    view.update(submit={"type": "plain_text", "text": "Next"}, blocks=[NAME_INPUT])
    view.update(extra)
    return view


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def client(slack: FakeSlack) -> WebClient:
    return WebClient(token=TOKEN, base_url=slack.api_url)


def error_of(call: Any) -> SlackApiError:
    with pytest.raises(SlackApiError) as info:
        call()
    return info.value


def test_views_open_shape(client: WebClient, slack: FakeSlack) -> None:
    view = client.views_open(
        trigger_id=slack.issue_trigger_id("U0TESTER"),
        view=modal(callback_id="step1", private_metadata='{"s":1}', external_id="ext-1", notify_on_close=True),
    )["view"]
    assert view["id"].startswith("V") and view["root_view_id"] == view["id"] and view["previous_view_id"] is None
    assert view["state"] == {"values": {}} and view["team_id"] == "T0TEST" and view["app_id"] == "A0TEST"
    assert view["callback_id"] == "step1" and view["private_metadata"] == '{"s":1}' and view["notify_on_close"]
    assert view["external_id"] == "ext-1" and view["hash"] and view["bot_id"] == "B0BOT"
    assert {"title", "submit", "close", "clear_on_close"} <= set(view)
    assert [v.id for v in slack.open_views("U0TESTER")] == [view["id"]]


def test_trigger_ids_are_single_use_and_expire(client: WebClient, slack: FakeSlack) -> None:
    used = slack.issue_trigger_id()
    client.views_open(trigger_id=used, view=modal())
    assert error_of(lambda: client.views_open(trigger_id=used, view=modal())).response["error"] == (
        "exchanged_trigger_id"
    )
    old = slack.issue_trigger_id()
    slack.advance_time(slack_limits.SLACK_SECONDS + 0.5)
    assert error_of(lambda: client.views_open(trigger_id=old, view=modal())).response["error"] == "expired_trigger_id"
    assert error_of(lambda: client.views_open(trigger_id="1.2.x", view=modal())).response["error"] == (
        "invalid_trigger_id"
    )


def test_invalid_views_are_rejected(client: WebClient, slack: FakeSlack) -> None:
    too_long = modal(title="A title that is far too long for Slack")
    exc = error_of(lambda: client.views_open(trigger_id=slack.issue_trigger_id(), view=too_long))
    assert exc.response["error"] == "invalid_arguments"
    assert "[json-pointer:/view/title/text]" in exc.response["response_metadata"]["messages"][0]
    no_submit = modal()
    del no_submit["submit"]
    exc = error_of(lambda: client.views_open(trigger_id=slack.issue_trigger_id(), view=no_submit))
    assert "submit" in exc.response["response_metadata"]["messages"][0]
    huge = modal(blocks=[NAME_INPUT] + [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 2990}}] * 90)
    exc = error_of(lambda: client.views_open(trigger_id=slack.issue_trigger_id(), view=huge))
    assert exc.response["error"] == "view_too_large"


def test_views_update_by_id_and_external_id(client: WebClient, slack: FakeSlack) -> None:
    opened = client.views_open(trigger_id=slack.issue_trigger_id(), view=modal(external_id="ext-9"))["view"]
    slack.set_view_state(opened["id"], {"name": {"value": {"type": "plain_text_input", "value": "Docs"}}})
    second = client.views_update(view_id=opened["id"], hash=opened["hash"], view=modal("Step 2", external_id="ext-9"))[
        "view"
    ]
    assert second["id"] == opened["id"] and second["hash"] != opened["hash"]
    assert second["state"]["values"]["name"]["value"]["value"] == "Docs"  # same block_id + action_id kept
    third = client.views_update(external_id="ext-9", view=modal("Step 3", external_id="ext-9"))["view"]
    assert third["title"]["text"] == "Step 3" and slack.view(opened["id"]).hash == third["hash"]
    stale = error_of(lambda: client.views_update(view_id=opened["id"], hash=opened["hash"], view=modal()))
    assert stale.response["error"] == "hash_conflict"
    assert error_of(lambda: client.views_update(view_id="V0NOPE", view=modal())).response["error"] == "not_found"
    assert error_of(lambda: client.views_update(external_id="nope", view=modal())).response["error"] == "not_found"


def test_views_push_limit(client: WebClient, slack: FakeSlack) -> None:
    root = client.views_open(trigger_id=slack.issue_trigger_id(), view=modal())["view"]
    second = client.views_push(trigger_id=slack.issue_trigger_id(), view=modal("Two"))["view"]
    client.views_push(trigger_id=slack.issue_trigger_id(), view=modal("Three"))
    assert second["root_view_id"] == root["id"] and second["previous_view_id"] == root["id"]
    assert len(slack.open_views("U0TESTER")) == 3
    exc = error_of(lambda: client.views_push(trigger_id=slack.issue_trigger_id(), view=modal("Four")))
    assert exc.response["error"] == "push_limit_reached"


def test_views_publish_home(client: WebClient, slack: FakeSlack) -> None:
    home = {"type": "home", "blocks": [{"type": "header", "text": {"type": "plain_text", "text": "Datastores"}}]}
    first = client.views_publish(user_id="U0TESTER", view=home)["view"]
    again = client.views_publish(user_id="U0TESTER", view=home, hash=first["hash"])["view"]
    assert first["type"] == "home" and again["id"] == first["id"] and again["hash"] != first["hash"]
    published = slack.home_view("U0TESTER")
    assert published is not None and published.blocks[0]["type"] == "header"
    assert error_of(lambda: client.views_publish(user_id="U0NOBODY", view=home)).response["error"] == ("user_not_found")
    too_many = {"type": "home", "blocks": [{"type": "divider"}] * 101}
    assert error_of(lambda: client.views_publish(user_id="U0TESTER", view=too_many)).response["error"] == (
        "invalid_arguments"
    )


# ---- response_url ---------------------------------------------------------------------------------


def post(url: str, body: dict[str, Any]) -> httpx.Response:
    with httpx.Client() as http:
        return http.post(url, json=body)


def test_response_url_ephemeral_in_channel_replace_delete(slack: FakeSlack) -> None:
    url = slack.new_response_url("C0GENERAL", "U0TESTER")
    assert url.startswith(slack.base_url + "/response/")
    assert post(url, {"text": "working…"}).status_code == 200
    assert post(url, {"text": "done", "replace_original": True}).status_code == 200
    assert [e.text for e in slack.ephemerals("C0GENERAL", "U0TESTER")] == ["done"]
    assert post(url, {"text": "Datastore ready", "response_type": "in_channel"}).status_code == 200
    assert [m.text for m in slack.messages("C0GENERAL")] == ["Datastore ready"]
    assert post(url, {"delete_original": True}).status_code == 200
    assert slack.ephemerals("C0GENERAL") == []
    calls = slack.calls("response_url")
    assert len(calls) == 4 and calls[0].args["text"] == "working…" and calls[0].status == 200


def test_response_url_for_message_replaces_it(client: WebClient, slack: FakeSlack) -> None:
    ts = client.chat_postMessage(channel="C0GENERAL", text="Pick one")["ts"]
    url = slack.new_response_url("C0GENERAL", "U0TESTER", message_ts=ts)
    post(url, {"text": "Picked", "replace_original": True})
    assert slack.message("C0GENERAL", ts).text == "Picked"
    bad = post(url, {"blocks": [{"type": "nope"}], "text": "x"})
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_blocks"


def test_response_url_use_limit_and_expiry(slack: FakeSlack) -> None:
    url = slack.new_response_url()
    assert [post(url, {"text": str(i)}).status_code for i in range(5)] == [200] * 5
    used = post(url, {"text": "sixth"})
    assert used.status_code == 404 and used.json()["error"] == "used_url"
    fresh = slack.new_response_url()
    slack.advance_time(31 * 60)
    expired = post(fresh, {"text": "late"})
    assert expired.status_code == 404 and expired.json()["error"] == "expired_url"
    assert slack.calls("response_url")[-1].status == 404
