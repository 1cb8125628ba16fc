"""Class 2 of issue #11 inside the listeners: a well-formed, signed payload carrying a value or private_metadata
the bot never writes (a datastore id that is not one, JSON that is not an object, an id that is not an id).

Retry, Reconnect and the App Home menu ignore such a click (200, nothing happens), and so do Share in channel and
Change auto top-off when the click has no response_url (their buttons live only in ephemeral messages); the
deletion and auto top-off forms answer with a "could not be read" view; the wizard's steps, buttons, suggestions
and close without a wizard id end or do nothing. Nothing is written, nothing sent to Slack, no traceback.
"""

from __future__ import annotations

import json

import pytest

from bot.wizard.service import NOT_FOUND as WIZARD_NOT_FOUND
from demo.fakes import slack_bodies
from demo.fakes.slack_state import JsonDict
from handlers.credits import FOREIGN_TOP_OFF
from handlers.ids import ActionId, CallbackId
from handlers.views.delete import notice_view
from handlers.views.fallback import UNREADABLE_FORM_TEXT, ended_form_view
from handlers.views.wizard_finish import ended_view
from tests.corpus import Corpus
from tests.harness import SIGNING_SECRET

#: Every case on SQLite; every fourth also on PostgreSQL (the cases differ in the body sent, not in what they
#: ask of the database; tests/backends.py).
pytestmark = pytest.mark.postgresql_sample(every=4)

NOT_IDS = ["abc", "", "1.5", "-1", "0", "9" * 20, "2147483648", "1 ", " 1", "١", "1e3", "0x1", "+1", "01", "1\x00"]
MENU_CHOICES = ["sync", "sync:", "sync:abc", "delete:1.5", "other:1", "sync:99999999999", ":1", "thread:1"]
MENU_CHOICES += ["delete:-1", "sync:1:2", "SYNC:1", "sync: 1"]
BROKEN_METADATA = ["", "x", "[]", "null", '"text"', "7", "{", '{"d":"x"}', '{"d":1.5}', '{"d":-1}', '{"d":0}']
BROKEN_METADATA += ['{"d":99999999999}', '{"d":true}', '{"d":"1x"}', '{"d":[1]}', '{"d":1,"r":7}']
BROKEN_METADATA += ['{"d":1,"r":"javascript:alert(1)"}', '{"d":null}', "[" * 1400 + "]" * 1400]
NOT_OBJECTS = ["x", "[]", "null", "{" * 3, "[" * 1400 + "]" * 1400]
#: A team that is not the submitter's (or no team at all): the form is refused, the other workspace untouched.
OTHER_TEAMS = ['{"t":7}', '{"t":"t0lower"}', '{"t":"T\\u0000"}', '{"t":"' + "T" * 40 + '"}', '{"t":["T0TEST"]}']
OTHER_TEAM = {"response_action": "update", "view": notice_view(FOREIGN_TOP_OFF, title="Auto top-off")}
READ_FAILED = {"response_action": "update", "view": ended_form_view(UNREADABLE_FORM_TEXT)}
#: "Share in channel" values the bot never writes (it writes {"d": <datastore id>, "q": <query>}, compact JSON).
NOT_SHARE_VALUES = ["x", "", "[]", "null", '"q"', "{", '{"d":"x","q":"a"}', '{"q":"a"}', '{"d":1}', '{"d":1,"q":7}']
NOT_SHARE_VALUES += ['{"d":true,"q":"a"}', '{"d":-1,"q":"a"}', '{"d":1.5,"q":"a"}', '{"d":99999999999,"q":"a"}']
NOT_SHARE_VALUES += ['{"d":1,"q":"a","x":1}', '{"d":1,"q":["a"]}', "[" * 900 + "]" * 900, '{"d":1,"q":"a"}x']


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


@pytest.mark.parametrize("value", NOT_SHARE_VALUES, ids=[repr(value[:20]) for value in NOT_SHARE_VALUES])
def test_a_share_in_channel_value_the_bot_never_writes_is_ignored(
    corpus: Corpus, caplog: pytest.LogCaptureFixture, value: str
) -> None:
    data = slack_bodies.block_actions(corpus.bot.slack, ActionId.SHARE_RESULTS, value)
    assert _send(corpus, caplog, "block_actions", data) == b""
    assert any("ignored a button value" in record.getMessage() for record in caplog.records)


#: Buttons that live only in an ephemeral message (so Slack sends their clicks with a response_url), each with a
#: value the bot writes: a click from a modal or App Home, without a response_url, is one Slack never sends.
MESSAGE_BUTTONS = [(ActionId.SHARE_RESULTS, '{"d":1,"q":"a"}'), (ActionId.CREDITS_CHANGE, "T0TEST")]


@pytest.mark.parametrize(("action_id", "value"), MESSAGE_BUTTONS, ids=[action for action, _ in MESSAGE_BUTTONS])
def test_a_message_button_clicked_without_a_response_url_is_ignored(
    corpus: Corpus, caplog: pytest.LogCaptureFixture, action_id: str, value: str
) -> None:
    data = slack_bodies.block_actions(corpus.bot.slack, action_id, value, in_view=True)
    assert "response_url" not in data
    assert _send(corpus, caplog, "block_actions", data) == b""
    assert any("without a response_url" in record.getMessage() for record in caplog.records)


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


@pytest.mark.parametrize("metadata", NOT_OBJECTS, ids=[repr(m[:30]) for m in NOT_OBJECTS])
def test_an_auto_top_off_form_with_metadata_the_bot_never_writes_says_it_could_not_be_read(
    corpus: Corpus, caplog: pytest.LogCaptureFixture, metadata: str
) -> None:
    data = slack_bodies.view_submission(corpus.bot.slack, CallbackId.CREDITS_TOP_OFF, metadata)
    assert json.loads(_send(corpus, caplog, "view_submission", data)) == READ_FAILED


@pytest.mark.parametrize("metadata", OTHER_TEAMS, ids=[repr(m[:30]) for m in OTHER_TEAMS])
def test_an_auto_top_off_form_for_another_workspace_changes_nothing(
    corpus: Corpus, caplog: pytest.LogCaptureFixture, metadata: str
) -> None:
    data = slack_bodies.view_submission(corpus.bot.slack, CallbackId.CREDITS_TOP_OFF, metadata)
    assert json.loads(_send(corpus, caplog, "view_submission", data)) == json.loads(json.dumps(OTHER_TEAM))


# ---- the wizard's listeners (handlers/wizard_*.py) with private_metadata the bot never writes ------------------
WIZARD_FORMS = [
    CallbackId.WIZARD_NAME,
    CallbackId.WIZARD_CONNECTION_SETUP,
    CallbackId.WIZARD_REVIEW_ACCESS,
    CallbackId.WIZARD_SITE_URL,
    CallbackId.WIZARD_GRANT_ACCESS,
    CallbackId.WIZARD_SUMMARY,
]
NO_WIZARD_ID = ["", "x", "[]", "null", '{"w":7}', '{"w":""}', '{"w":null}', '{"x":"w1"}', "{", '"w1"']
NOT_FOUND = {"response_action": "update", "view": ended_view(WIZARD_NOT_FOUND)}


@pytest.mark.parametrize("metadata", NO_WIZARD_ID, ids=[repr(m[:20]) for m in NO_WIZARD_ID])
@pytest.mark.parametrize("callback_id", WIZARD_FORMS)
def test_a_wizard_step_without_a_wizard_id_says_the_setup_could_not_be_found(
    corpus: Corpus, caplog: pytest.LogCaptureFixture, callback_id: str, metadata: str
) -> None:
    data = slack_bodies.view_submission(corpus.bot.slack, callback_id, metadata)
    assert json.loads(_send(corpus, caplog, "view_submission", data)) == json.loads(json.dumps(NOT_FOUND))


@pytest.mark.parametrize(
    "action_id",
    [ActionId.TRY_AGAIN, ActionId.START_OVER, ActionId.TOPOFF_CHOICE, ActionId.SHARE_CHOICE, ActionId.CHANGE_SITE],
)
@pytest.mark.parametrize("metadata", ["x", "[]", '{"w":7}'])
def test_a_wizard_button_in_a_view_without_a_wizard_id_does_nothing(
    corpus: Corpus, caplog: pytest.LogCaptureFixture, action_id: str, metadata: str
) -> None:
    data = slack_bodies.block_actions(corpus.bot.slack, action_id, "x", in_view=True)
    data["view"]["private_metadata"] = metadata
    assert _send(corpus, caplog, "block_actions", data) == b""


@pytest.mark.parametrize("metadata", NO_WIZARD_ID[:8], ids=[repr(m[:20]) for m in NO_WIZARD_ID[:8]])
def test_space_suggestions_and_closing_without_a_wizard_id_do_nothing(
    corpus: Corpus, caplog: pytest.LogCaptureFixture, metadata: str
) -> None:
    data = slack_bodies.block_suggestion(corpus.bot.slack, ActionId.SPACES, "eng", metadata)
    assert json.loads(_send(corpus, caplog, "block_suggestion", data)) == {"options": []}
    closed = slack_bodies.view_closed(corpus.bot.slack, CallbackId.WIZARD_SITE_URL, metadata)
    assert _send(corpus, caplog, "view_closed", closed) == b""


@pytest.mark.parametrize(
    "text",
    ["search eng " + "a" * 1_000_000, "a" * 40_001, "search eng " + "a b " * 200_000, 'x "' * 150_000],
    ids=["one-long-word", "just-over", "many-words", "many-quotes"],
)
def test_a_command_longer_than_slack_allows_is_answered_in_time_with_a_message(
    corpus: Corpus, caplog: pytest.LogCaptureFixture, text: str
) -> None:
    data = slack_bodies.command(corpus.bot.slack, text)
    answer = json.loads(_send(corpus, caplog, "command", data))
    assert answer["response_type"] == "ephemeral"
    assert f"That is {len(text):,} characters" in answer["text"] and "Nothing changed" in answer["text"]
