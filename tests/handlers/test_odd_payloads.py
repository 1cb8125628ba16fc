"""Class 2 of issue #11 inside the listeners: a well-formed, signed payload carrying a value or private_metadata
the bot never writes (a datastore id that is not one, JSON that is not an object, an id that is not an id).

Retry, Reconnect and the App Home menu ignore such a click (200, nothing happens); the deletion and auto
top-off forms answer with a "could not be read" view. Nothing is written, nothing sent to Slack, no traceback.
"""

from __future__ import annotations

import json

import pytest

from handlers.ids import ActionId, CallbackId
from handlers.views.fallback import UNREADABLE_FORM_TEXT, ended_form_view
from tests.corpus import Corpus
from tests.fakes import slack_bodies
from tests.fakes.slack_state import JsonDict
from tests.harness import SIGNING_SECRET

NOT_IDS = ["abc", "", "1.5", "-1", "0", "9" * 20, "2147483648", "1 ", " 1", "١", "1e3", "0x1", "+1", "01", "1\x00"]
MENU_CHOICES = ["sync", "sync:", "sync:abc", "delete:1.5", "other:1", "sync:99999999999", ":1", "thread:1"]
MENU_CHOICES += ["delete:-1", "sync:1:2", "SYNC:1", "sync: 1"]
BROKEN_METADATA = ["", "x", "[]", "null", '"text"', "7", "{", '{"d":"x"}', '{"d":1.5}', '{"d":-1}', '{"d":0}']
BROKEN_METADATA += ['{"d":99999999999}', '{"d":true}', '{"d":"1x"}', '{"d":[1]}', '{"d":1,"r":7}']
BROKEN_METADATA += ['{"d":1,"r":"javascript:alert(1)"}', '{"d":null}', "[" * 1400 + "]" * 1400]
BROKEN_TEAM = ["x", "[]", "null", '{"t":7}', '{"t":"t0lower"}', '{"t":"T\\u0000"}', '{"t":"' + "T" * 40 + '"}']
BROKEN_TEAM += ['{"t":["T0TEST"]}', "{" * 3]
READ_FAILED = {"response_action": "update", "view": ended_form_view(UNREADABLE_FORM_TEXT)}


def _send(corpus: Corpus, caplog: pytest.LogCaptureFixture, kind: str, data: JsonDict) -> bytes:
    body, content_type = slack_bodies.encode(kind, data)
    headers = {"Content-Type": content_type, **slack_bodies.signed_headers(SIGNING_SECRET, body)}
    return corpus.run(caplog, body, headers, status=200).content


@pytest.mark.parametrize("action_id", [ActionId.RETRY_SYNC, ActionId.RECONNECT])
@pytest.mark.parametrize("value", NOT_IDS, ids=[repr(value) for value in NOT_IDS])
def test_a_button_value_that_is_not_a_datastore_id_is_ignored(
    corpus: Corpus, caplog: pytest.LogCaptureFixture, action_id: str, value: str
) -> None:
    data = slack_bodies.block_actions(corpus.bot.slack, action_id, value)
    assert _send(corpus, caplog, "block_actions", data) == b""
    assert any("ignored a button value" in record.getMessage() for record in caplog.records)


@pytest.mark.parametrize("choice", MENU_CHOICES, ids=[repr(choice) for choice in MENU_CHOICES])
def test_an_app_home_menu_choice_the_tab_does_not_offer_is_ignored(
    corpus: Corpus, caplog: pytest.LogCaptureFixture, choice: str
) -> None:
    data = slack_bodies.block_actions(corpus.bot.slack, ActionId.HOME_DATASTORE_MENU, in_view=True)
    data["view"]["type"] = "home"
    option = {"text": {"type": "plain_text", "text": "Sync now"}, "value": choice}
    data["actions"] = [{**data["actions"][0], "type": "overflow", "selected_option": option}]
    del data["actions"][0]["value"]
    assert _send(corpus, caplog, "block_actions", data) == b""


@pytest.mark.parametrize("metadata", BROKEN_METADATA, ids=[repr(m[:30]) for m in BROKEN_METADATA])
def test_a_deletion_form_with_metadata_the_bot_never_writes_says_it_could_not_be_read(
    corpus: Corpus, caplog: pytest.LogCaptureFixture, metadata: str
) -> None:
    values = {"delete-name": {"delete-name-input": {"type": "plain_text_input", "value": "eng-wiki"}}}
    data = slack_bodies.view_submission(corpus.bot.slack, CallbackId.DELETE_CONFIRM, metadata, values)
    assert json.loads(_send(corpus, caplog, "view_submission", data)) == READ_FAILED


def test_a_deletion_form_for_a_datastore_that_is_gone_says_so(corpus: Corpus, caplog: pytest.LogCaptureFixture) -> None:
    data = slack_bodies.view_submission(corpus.bot.slack, CallbackId.DELETE_CONFIRM, json.dumps({"d": 424242}))
    answer = json.loads(_send(corpus, caplog, "view_submission", data))
    assert answer["response_action"] == "update"
    assert "That datastore no longer exists" in json.dumps(answer["view"]["blocks"])


@pytest.mark.parametrize("metadata", BROKEN_TEAM, ids=[repr(m[:30]) for m in BROKEN_TEAM])
def test_an_auto_top_off_form_with_metadata_the_bot_never_writes_says_it_could_not_be_read(
    corpus: Corpus, caplog: pytest.LogCaptureFixture, metadata: str
) -> None:
    data = slack_bodies.view_submission(corpus.bot.slack, CallbackId.CREDITS_TOP_OFF, metadata)
    assert json.loads(_send(corpus, caplog, "view_submission", data)) == READ_FAILED
