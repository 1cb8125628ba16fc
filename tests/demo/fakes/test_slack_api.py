"""Tests of the fake Slack Web API over real sockets (slack_sdk WebClient, raw httpx for edge cases)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from demo.fakes.slack_api import FakeSlack

TOKEN = "xoxb-test-token"
SECTION = {"type": "section", "text": {"type": "mrkdwn", "text": "hello"}}
MODAL: dict[str, Any] = {"type": "modal", "title": {"type": "plain_text", "text": "Create"}, "blocks": [SECTION]}


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        fake.add_channel("C0PRIV", "secret", is_private=True, bot_is_member=False)
        yield fake


@pytest.fixture
def client(slack: FakeSlack) -> WebClient:
    return WebClient(token=TOKEN, base_url=slack.api_url)


def api_error(call: Any) -> str:
    with pytest.raises(SlackApiError) as info:
        call()
    return str(info.value.response["error"])


def raw(slack: FakeSlack, method: str, **kwargs: Any) -> httpx.Response:
    with httpx.Client() as http:
        return http.post(slack.api_url + method, **kwargs)


# ---- transport, auth, recording ------------------------------------------------------------------


def test_auth_test_shape(client: WebClient, slack: FakeSlack) -> None:
    data = client.auth_test().data
    assert isinstance(data, dict)
    assert data["ok"] and data["team_id"] == "T0TEST" and data["user_id"] == slack.bot_user_id
    assert {"url", "team", "user", "bot_id", "is_enterprise_install"} <= set(data)
    assert slack.api_url.startswith("http://127.0.0.1:") and slack.api_url.endswith("/api/")


def test_missing_and_unknown_tokens_are_rejected_and_recorded(slack: FakeSlack) -> None:
    assert raw(slack, "auth.test").json() == {"ok": False, "error": "not_authed"}
    bad = raw(slack, "auth.test", headers={"Authorization": "Bearer xoxb-nope"})
    assert bad.status_code == 200 and bad.json()["error"] == "invalid_auth"
    assert raw(slack, "auth.test", data={"token": TOKEN}).json()["ok"] is True
    assert [c.error for c in slack.calls("auth.test")] == ["not_authed", "invalid_auth", None]


def test_unknown_method_is_http_200(slack: FakeSlack) -> None:
    response = raw(slack, "chat.nope", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200 and response.json()["error"] == "unknown_method"


def test_form_body_json_strings_and_get_query(slack: FakeSlack) -> None:
    form = {"token": TOKEN, "channel": "C0GENERAL", "text": "hi", "blocks": json.dumps([SECTION])}
    posted = raw(slack, "chat.postMessage", data=form).json()
    assert posted["ok"] and slack.messages("C0GENERAL")[0].blocks[0]["text"]["text"] == "hello"
    assert slack.calls("chat.postMessage")[0].args["blocks"][0]["type"] == "section"
    with httpx.Client() as http:
        got = http.get(slack.api_url + "users.info", params={"user": "U0TESTER", "token": TOKEN}).json()
    assert got["user"]["name"] == "tester" and slack.calls("users.info")[0].http_method == "GET"


def test_wait_for_call_waits_for_other_threads_and_reset(client: WebClient, slack: FakeSlack) -> None:
    timer = threading.Timer(0.2, lambda: client.chat_postMessage(channel="C0GENERAL", text="later"))
    timer.start()
    call = slack.wait_for_call("chat.postMessage", lambda c: c.args["text"] == "later", timeout=5)
    timer.join()
    assert call.ok and call.status == 200 and call.response["ts"] and call.time > 0
    slack.reset_calls()
    assert slack.calls() == []
    with pytest.raises(AssertionError, match=r"no 1× matching chat\.update"):
        slack.wait_for_call("chat.update", timeout=0.1)


# ---- chat.* ---------------------------------------------------------------------------------------


def test_post_message_and_thread_replies(client: WebClient, slack: FakeSlack) -> None:
    parent = client.chat_postMessage(channel="C0GENERAL", text="Syncing")
    assert set(parent.data) >= {"ok", "channel", "ts", "message"}
    reply = client.chat_postMessage(channel="C0GENERAL", text="10%", thread_ts=parent["ts"])
    shout = client.chat_postMessage(channel="C0GENERAL", text="done", thread_ts=parent["ts"], reply_broadcast=True)
    assert reply["message"]["thread_ts"] == parent["ts"] and float(shout["ts"]) > float(reply["ts"])
    assert [m.text for m in slack.thread_replies("C0GENERAL", parent["ts"])] == ["10%", "done"]
    assert [m.text for m in slack.messages("C0GENERAL")] == ["Syncing", "done"]
    assert len(slack.messages("C0GENERAL", thread_ts=parent["ts"])) == 3
    client.chat_postMessage(channel="U0TESTER", text="psst")
    assert [m.text for m in slack.dms("U0TESTER")] == ["psst"]


def test_post_message_errors(client: WebClient, slack: FakeSlack) -> None:
    slack.add_channel("C0OLD", "old", is_archived=True)
    post = client.chat_postMessage
    assert api_error(lambda: post(channel="C0MISSING", text="x")) == "channel_not_found"
    assert api_error(lambda: post(channel="C0PRIV", text="x")) == "not_in_channel"
    assert api_error(lambda: post(channel="C0OLD", text="x")) == "is_archived"
    auth = {"Authorization": f"Bearer {TOKEN}"}
    assert raw(slack, "chat.postMessage", headers=auth, json={"channel": "C0GENERAL"}).json()["error"] == "no_text"
    assert api_error(lambda: post(channel="C0GENERAL", text="x" * 40_001)) == "msg_too_long"
    with pytest.raises(SlackApiError) as info:
        post(
            channel="C0GENERAL",
            text="x",
            blocks=[{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}],
        )
    assert info.value.response["error"] == "invalid_blocks"
    assert "must be less than 151 characters" in info.value.response["errors"][0]


def test_public_channel_needs_membership_without_chat_write_public() -> None:
    with FakeSlack(chat_write_public=False) as strict:
        strict.add_channel("C0PUB", "pub", bot_is_member=False)
        client = WebClient(token=TOKEN, base_url=strict.api_url)
        assert api_error(lambda: client.chat_postMessage(channel="C0PUB", text="x")) == "not_in_channel"
    with FakeSlack() as relaxed:
        relaxed.add_channel("C0PUB", "pub", bot_is_member=False)
        assert WebClient(token=TOKEN, base_url=relaxed.api_url).chat_postMessage(channel="C0PUB", text="x")["ok"]


def test_chat_update(client: WebClient, slack: FakeSlack) -> None:
    parent = client.chat_postMessage(channel="C0GENERAL", text="parent")
    reply = client.chat_postMessage(channel="C0GENERAL", text="0%", thread_ts=parent["ts"])
    updated = client.chat_update(channel="C0GENERAL", ts=reply["ts"], text="50%", blocks=[SECTION])
    assert updated["message"]["thread_ts"] == parent["ts"] and updated["text"] == "50%"
    stored = slack.message("C0GENERAL", reply["ts"])
    assert stored.blocks[0]["type"] == "section" and stored.edited is None and stored.thread_ts == parent["ts"]
    client.chat_update(channel="C0GENERAL", ts=reply["ts"], text="60%")
    assert slack.message("C0GENERAL", reply["ts"]).edited is not None
    update = client.chat_update
    bad_blocks = [{"type": "bogus"}]
    assert api_error(lambda: update(channel="C0GENERAL", ts=reply["ts"], text="x", blocks=bad_blocks)) == (
        "invalid_blocks"
    )
    human_ts = slack.add_message("C0GENERAL", "I wrote this")
    assert api_error(lambda: update(channel="C0GENERAL", ts=human_ts, text="x")) == "cant_update_message"
    slack.delete_message("C0GENERAL", reply["ts"])
    assert api_error(lambda: update(channel="C0GENERAL", ts=reply["ts"], text="x")) == "message_not_found"


def test_post_ephemeral(client: WebClient, slack: FakeSlack) -> None:
    assert client.chat_postEphemeral(channel="C0GENERAL", user="U0TESTER", text="only you")["message_ts"]
    assert [e.text for e in slack.ephemerals(user="U0TESTER")] == ["only you"]
    slack.add_user("U0OUT", "outsider")
    eph = client.chat_postEphemeral
    assert api_error(lambda: eph(channel="C0GENERAL", user="U0OUT", text="x")) == "user_not_in_channel"
    assert api_error(lambda: eph(channel="C0NOPE", user="U0TESTER", text="x")) == "channel_not_found"


def test_get_permalink(client: WebClient, slack: FakeSlack) -> None:
    parent = client.chat_postMessage(channel="C0GENERAL", text="p")
    reply = client.chat_postMessage(channel="C0GENERAL", text="r", thread_ts=parent["ts"])
    link = client.chat_getPermalink(channel="C0GENERAL", message_ts=parent["ts"])["permalink"]
    assert link == f"https://fake.slack.com/archives/C0GENERAL/p{parent['ts'].replace('.', '')}"
    reply_link = client.chat_getPermalink(channel="C0GENERAL", message_ts=reply["ts"])["permalink"]
    assert f"?thread_ts={parent['ts']}" in reply_link
    assert api_error(lambda: client.chat_getPermalink(channel="C0GENERAL", message_ts="1.000001")) == (
        "message_not_found"
    )


def test_reactions_add(client: WebClient) -> None:
    ts = client.chat_postMessage(channel="C0GENERAL", text="done")["ts"]
    assert client.reactions_add(channel="C0GENERAL", timestamp=ts, name="white_check_mark")["ok"]
    add = client.reactions_add
    assert api_error(lambda: add(channel="C0GENERAL", timestamp=ts, name="white_check_mark")) == "already_reacted"
    assert api_error(lambda: add(channel="C0GENERAL", timestamp="1.000001", name="x")) == "message_not_found"
    assert api_error(lambda: add(channel="C0GENERAL", timestamp=ts, name="")) == "invalid_name"


# ---- users / conversations -----------------------------------------------------------------------


def test_users_info(client: WebClient, slack: FakeSlack) -> None:
    slack.add_user("U0ADMIN", "alice", real_name="Alice A", is_admin=True, tz="America/New_York", tz_offset=-18000)
    user = client.users_info(user="U0ADMIN")["user"]
    assert user["is_admin"] and not user["is_owner"] and not user["is_bot"] and user["tz_offset"] == -18000
    assert user["profile"]["real_name"] == "Alice A" and "display_name" in user["profile"]
    assert api_error(lambda: client.users_info(user="U0NOBODY")) == "user_not_found"


def test_conversations_info_and_open(client: WebClient, slack: FakeSlack) -> None:
    info = client.conversations_info(channel="C0GENERAL")["channel"]
    assert info["is_channel"] and info["is_member"] and not info["is_private"] and not info["is_im"]
    assert api_error(lambda: client.conversations_info(channel="C0PRIV")) == "channel_not_found"
    assert api_error(lambda: client.conversations_info(channel="C0NOPE")) == "channel_not_found"
    first = client.conversations_open(users="U0TESTER")["channel"]["id"]
    again = client.conversations_open(users="U0TESTER")
    assert first.startswith("D") and again["channel"]["id"] == first and again["already_open"]
    assert api_error(lambda: client.conversations_open(users="U0NOBODY")) == "user_not_found"


def test_archive_and_remove_bot(client: WebClient, slack: FakeSlack) -> None:
    slack.add_channel("C0TMP", "tmp")
    slack.remove_bot_from_channel("C0TMP")
    assert client.conversations_info(channel="C0TMP")["channel"]["is_member"] is False
    slack.archive_channel("C0TMP")
    assert api_error(lambda: client.chat_postMessage(channel="C0TMP", text="x")) == "is_archived"


# ---- fault injection -----------------------------------------------------------------------------


def test_fail_ratelimited_then_recovers(client: WebClient, slack: FakeSlack) -> None:
    slack.fail("chat.postMessage", retry_after=7, times=2)
    first = raw(slack, "chat.postMessage", headers={"Authorization": f"Bearer {TOKEN}"}, data={"channel": "C0GENERAL"})
    assert first.status_code == 429 and first.headers["Retry-After"] == "7"
    assert first.json() == {"ok": False, "error": "ratelimited"}
    with pytest.raises(SlackApiError) as info:
        client.chat_postMessage(channel="C0GENERAL", text="x")
    assert info.value.response.status_code == 429
    assert client.chat_postMessage(channel="C0GENERAL", text="x")["ok"]
    slack.fail("chat.update", error="internal_error")
    response = raw(slack, "chat.update", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200 and response.json()["error"] == "internal_error"
