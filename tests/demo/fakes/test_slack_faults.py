"""The fake Slack's fault modes and read-back methods: what the bot's Slack fault handling is tested against."""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from demo.fakes.slack_api import FakeSlack
from demo.fakes.slack_faults import FaultMode

TOKEN = "xoxb-test-token"
META = {"event_type": "datastore_bot_post", "event_payload": {"key": "k1"}}


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def client(slack: FakeSlack) -> WebClient:
    return WebClient(token=TOKEN, base_url=slack.api_url, timeout=1, retry_handlers=[])


def api_error(call: Any) -> str:
    with pytest.raises(SlackApiError) as info:
        call()
    return str(info.value.response["error"])


def test_refuse_applies_nothing_and_is_recorded(client: WebClient, slack: FakeSlack) -> None:
    slack.fail("chat.postMessage", error="ratelimited", retry_after=3)
    with pytest.raises(SlackApiError) as info:
        client.chat_postMessage(channel="C0GENERAL", text="x")
    assert info.value.response.status_code == 429 and info.value.response.headers["Retry-After"] == "3"
    assert slack.messages("C0GENERAL") == [] and slack.pending_faults() == 0
    call = slack.calls("chat.postMessage")[0]
    assert call.fault == "refuse" and call.applied is None and call.status == 429


def test_apply_then_error_posts_and_answers_500(client: WebClient, slack: FakeSlack) -> None:
    slack.fail("chat.postMessage", error="internal_error", mode=FaultMode.APPLY_THEN_ERROR)
    with pytest.raises(SlackApiError) as info:
        client.chat_postMessage(channel="C0GENERAL", text="applied")
    assert info.value.response.status_code == 500
    assert [m.text for m in slack.messages("C0GENERAL")] == ["applied"]
    call = slack.calls("chat.postMessage")[0]
    assert call.fault == "apply_then_error" and call.applied is not None
    assert call.applied["ts"] == slack.messages("C0GENERAL")[0].ts
    with pytest.raises(ValueError, match="5xx"):
        slack.fail("chat.postMessage", mode=FaultMode.APPLY_THEN_ERROR, status=200)


def test_apply_then_drop_posts_and_hangs_up(client: WebClient, slack: FakeSlack) -> None:
    slack.fail("chat.postMessage", mode=FaultMode.APPLY_THEN_DROP)
    with pytest.raises(http.client.RemoteDisconnected):
        client.chat_postMessage(channel="C0GENERAL", text="applied")
    assert [m.text for m in slack.messages("C0GENERAL")] == ["applied"]
    assert slack.calls("chat.postMessage")[0].fault == "apply_then_drop"
    assert client.chat_postMessage(channel="C0GENERAL", text="next")["ok"]  # one fault, then normal again


def test_apply_then_stall_posts_past_the_client_timeout(client: WebClient, slack: FakeSlack) -> None:
    slack.fail("chat.postMessage", mode=FaultMode.APPLY_THEN_STALL, stall=1.5)
    with pytest.raises(TimeoutError):
        client.chat_postMessage(channel="C0GENERAL", text="applied")
    assert [m.text for m in slack.messages("C0GENERAL")] == ["applied"]
    with pytest.raises(ValueError, match="stall"):
        slack.fail("chat.postMessage", mode=FaultMode.APPLY_THEN_STALL)


def test_when_picks_the_calls_a_fault_hits(client: WebClient, slack: FakeSlack) -> None:
    parent = client.chat_postMessage(channel="C0GENERAL", text="parent")["ts"]
    slack.fail("chat.postMessage", error="internal_error", status=503, when=lambda a: a.get("thread_ts") == parent)
    assert client.chat_postMessage(channel="C0GENERAL", text="top")["ok"]
    assert slack.pending_faults("chat.postMessage") == 1
    with pytest.raises(SlackApiError) as info:
        client.chat_postMessage(channel="C0GENERAL", text="reply", thread_ts=parent)
    assert info.value.response.status_code == 503 and slack.pending_faults() == 0


def test_metadata_is_checked_stored_and_read_back_only_on_request(client: WebClient, slack: FakeSlack) -> None:
    posted = client.chat_postMessage(channel="C0GENERAL", text="x", metadata=META)
    assert posted["message"]["metadata"] == META
    plain = client.conversations_history(channel="C0GENERAL")["messages"][0]
    assert "metadata" not in plain
    full = client.conversations_history(channel="C0GENERAL", include_all_metadata=True)["messages"][0]
    assert full["metadata"] == META
    bad: list[Any] = [{"event_type": "x"}, {"event_payload": {}}, "nope", {"event_type": "", "event_payload": {}}]
    for metadata in bad:
        assert api_error(lambda m=metadata: client.chat_postMessage(channel="C0GENERAL", text="x", metadata=m)) == (
            "invalid_metadata_format"
        )
    wrong = {"event_type": "Has Spaces", "event_payload": {}}
    assert api_error(lambda: client.chat_postMessage(channel="C0GENERAL", text="x", metadata=wrong)) == (
        "invalid_metadata_schema"
    )


def test_history_newest_first_with_paging_and_window(client: WebClient, slack: FakeSlack) -> None:
    stamps = [client.chat_postMessage(channel="C0GENERAL", text=f"m{i}")["ts"] for i in range(5)]
    client.chat_postMessage(channel="C0GENERAL", text="hidden reply", thread_ts=stamps[0])
    first = client.conversations_history(channel="C0GENERAL", limit=2)
    assert [m["text"] for m in first["messages"]] == ["m4", "m3"] and first["has_more"]
    rest = client.conversations_history(channel="C0GENERAL", cursor=first["response_metadata"]["next_cursor"])
    assert [m["text"] for m in rest["messages"]] == ["m2", "m1", "m0"] and not rest["has_more"]
    window = client.conversations_history(channel="C0GENERAL", oldest=stamps[1], latest=stamps[3])
    assert [m["text"] for m in window["messages"]] == ["m2"]
    inclusive = client.conversations_history(channel="C0GENERAL", oldest=stamps[3], inclusive=True)
    assert [m["text"] for m in inclusive["messages"]] == ["m4", "m3"]
    assert api_error(lambda: client.conversations_history(channel="C0GENERAL", cursor="bad")) == "invalid_cursor"


def test_replies_list_a_thread_and_survive_a_deleted_parent(client: WebClient, slack: FakeSlack) -> None:
    parent = client.chat_postMessage(channel="C0GENERAL", text="parent")["ts"]
    replies = [client.chat_postMessage(channel="C0GENERAL", text=f"r{i}", thread_ts=parent)["ts"] for i in range(3)]
    thread = client.conversations_replies(channel="C0GENERAL", ts=replies[1])["messages"]
    assert [m["text"] for m in thread] == ["parent", "r0", "r1", "r2"]
    paged = client.conversations_replies(channel="C0GENERAL", ts=parent, limit=3)
    assert len(paged["messages"]) == 3 and paged["has_more"]
    slack.delete_message("C0GENERAL", parent)
    after = client.conversations_replies(channel="C0GENERAL", ts=parent)["messages"]
    assert after[0]["subtype"] == "tombstone" and [m["text"] for m in after[1:]] == ["r0", "r1", "r2"]
    lone = client.chat_postMessage(channel="C0GENERAL", text="lone")["ts"]
    slack.delete_message("C0GENERAL", lone)
    assert api_error(lambda: client.conversations_replies(channel="C0GENERAL", ts=lone)) == "thread_not_found"
    assert api_error(lambda: client.conversations_replies(channel="C0GENERAL", ts="1.000001")) == "thread_not_found"


def test_reading_and_editing_needs_access_to_the_channel(client: WebClient, slack: FakeSlack) -> None:
    slack.add_channel("C0PUB", "pub", bot_is_member=False)
    slack.add_channel("C0PRIV", "priv", is_private=True)
    ts = client.chat_postMessage(channel="C0PRIV", text="mine")["ts"]
    assert api_error(lambda: client.conversations_history(channel="C0PUB")) == "not_in_channel"
    assert api_error(lambda: client.conversations_history(channel="C0NOPE")) == "channel_not_found"
    slack.remove_bot_from_channel("C0PRIV")
    assert api_error(lambda: client.conversations_replies(channel="C0PRIV", ts=ts)) == "channel_not_found"
    assert api_error(lambda: client.chat_update(channel="C0PRIV", ts=ts, text="x")) == "channel_not_found"
    assert api_error(lambda: client.reactions_add(channel="C0PRIV", timestamp=ts, name="x")) == "channel_not_found"
    assert api_error(lambda: client.chat_postMessage(channel="C0PRIV", text="x")) == "not_in_channel"
    dm = client.conversations_open(users="U0TESTER")["channel"]["id"]
    client.chat_postMessage(channel=dm, text="hello")
    assert [m["text"] for m in client.conversations_history(channel=dm)["messages"]] == ["hello"]


def test_all_messages_counts_every_channel_thread_and_dm(client: WebClient, slack: FakeSlack) -> None:
    parent = client.chat_postMessage(channel="C0GENERAL", text="✅ one")["ts"]
    client.chat_postMessage(channel="C0GENERAL", text="✅ two", thread_ts=parent)
    client.chat_postMessage(channel="U0TESTER", text="✅ three")
    deleted = client.chat_postMessage(channel="C0GENERAL", text="✅ gone")["ts"]
    slack.delete_message("C0GENERAL", deleted)
    assert sorted(m.text for m in slack.all_messages(text_prefix="✅")) == ["✅ one", "✅ three", "✅ two"]
