"""`/datastore access NAME each|everyone` over HTTP (issue #12 step 6): the creator and workspace admins change
it, others are told who can; "each" switches at once, "everyone" only through a confirmation naming the
account; every change is an audit row shown by `/datastore status`; bad input changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from handlers.ids import ActionId, BlockId
from storage.access_modes import DATA_CENTER_SOURCE, AccessMode
from storage.models import Connection, Datastore
from tests.handlers.access_world import ADMIN, CREATOR, OTHER, AccessWorld, access_world

SHOWN_ACCOUNT = "*Ada &lt;!channel&gt; Lovelace*"


@pytest.fixture
def world(database_url: str) -> Iterator[AccessWorld]:
    yield from access_world(database_url)


def _text(reply: dict[str, Any]) -> str:
    return str(reply.get("text", ""))


def _confirm_button(reply: dict[str, Any]) -> dict[str, Any]:
    (actions,) = [b for b in reply["blocks"] if b.get("block_id") == BlockId.ACCESS_CONFIRM_ACTIONS]
    (button,) = actions["elements"]
    assert button["action_id"] == ActionId.ACCESS_CONFIRM_EVERYONE
    return dict(button)


def _click_confirm(world: AccessWorld, button: dict[str, Any], user_id: str) -> dict[str, Any]:
    before = len(world.slack.calls("response_url"))
    channel = world.slack.default_channel_id
    clicked = world.bot.sender.click_in_ephemeral(
        ActionId.ACCESS_CONFIRM_EVERYONE, BlockId.ACCESS_CONFIRM_ACTIONS, button["value"], channel, user_id=user_id
    )
    assert clicked.status == 200
    return world.slack.wait_for_call("response_url", count=before + 1, timeout=5).args


def test_the_creator_switches_to_each_at_once_and_status_shows_the_change(world: AccessWorld) -> None:
    reply = world.reply("access eng-wiki each", user_id=CREATOR)
    assert "Done. *eng-wiki*: :lock: Each person sees only what they can see in Confluence" in _text(reply)
    assert world.datastore().access_mode == AccessMode.EACH
    assert world.audit() == [(CREATOR, "slack", "mode", "everyone", "each")]
    again = world.reply("access eng-wiki EACH", user_id=CREATOR)
    assert "already" in _text(again) and len(world.audit()) == 1  # no change, no row
    status = world.reply("status eng-wiki")
    (history,) = [b for b in status["blocks"] if b.get("block_id") == BlockId.ACCESS_HISTORY]
    lines = history["elements"][0]["text"].splitlines()
    assert lines[1].endswith(f"· everyone → each person · by <@{CREATOR}> · named {SHOWN_ACCOUNT}")


def test_everyone_needs_the_confirmation_naming_the_account(world: AccessWorld) -> None:
    world.reply("access eng-wiki each", user_id=CREATOR)
    reply = world.reply("access eng-wiki everyone", user_id=ADMIN)  # a workspace admin may too
    assert world.datastore().access_mode == AccessMode.EACH  # nothing changes before the confirmation
    (warning,) = [b for b in reply["blocks"] if b.get("block_id") == BlockId.ACCESS_CONFIRM]
    text = warning["text"]["text"]
    assert f"*Everyone in this Slack workspace* who searches *eng-wiki* will see what {SHOWN_ACCOUNT}" in text
    button = _confirm_button(reply)
    dialog = button["confirm"]["text"]["text"]
    assert dialog == "Everyone in this workspace will see what Ada <!channel> Lovelace can see in Confluence."

    refused = _click_confirm(world, button, OTHER)  # the message forwarded to someone who may not
    assert f"Only <@{CREATOR}> or a workspace admin can change who sees what in *eng-wiki*." in _text(refused)
    assert world.datastore().access_mode == AccessMode.EACH

    done = _click_confirm(world, button, ADMIN)
    assert f"Everyone in this workspace sees what {SHOWN_ACCOUNT} can see in Confluence" in _text(done)
    assert done["replace_original"] is True
    datastore = world.datastore()
    assert (datastore.access_mode, datastore.access_account_name) == (AccessMode.EVERYONE, "Ada <!channel> Lovelace")
    assert world.audit() == [
        (CREATOR, "slack", "mode", "everyone", "each"),
        (ADMIN, "slack", "mode", "each", "everyone"),
    ]


def test_someone_else_is_told_who_can_change_it(world: AccessWorld) -> None:
    reply = world.reply("access eng-wiki each", user_id=OTHER)
    assert _text(reply) == (
        f"Only <@{CREATOR}> or a workspace admin can change who sees what in *eng-wiki*. Nothing changed."
    )
    assert world.datastore().access_mode == AccessMode.EVERYONE and world.audit() == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("access", "Say which datastore and who sees what"),
        ("access eng-wiki", "Say which datastore and who sees what"),
        ("access eng-wiki sometimes", "I don't know the access mode `sometimes`"),
        ("access eng-wiki each extra", "Say which datastore and who sees what"),
        ("access eng-wiki <!channel>", "I don't know the access mode `&lt;!channel&gt;`"),
        ('access "<!here> wiki" each', "There is no datastore named *&lt;!here&gt; wiki* here"),
        ("access eng-wiki\u202e each", "U+202E RIGHT-TO-LEFT OVERRIDE"),
    ],
)
def test_bad_input_gets_a_usage_message_and_changes_nothing(world: AccessWorld, text: str, expected: str) -> None:
    reply = world.reply(text, user_id=CREATOR)
    assert expected in _text(reply)
    assert "<!channel>" not in str(reply) and "<!here>" not in str(reply)
    assert world.datastore().access_mode == AccessMode.EVERYONE and world.audit() == []


def test_help_lists_the_new_commands(world: AccessWorld) -> None:
    text = _text(world.reply("help"))
    assert "/datastore access NAME each|everyone" in text
    assert "/datastore limit NAME channels #a #b | group @handle | none" in text


def test_a_data_center_datastore_offers_everyone_only(world: AccessWorld) -> None:
    with world.bot.services.sessions.begin() as session:
        datastore = session.get(Datastore, world.sync.datastore_id)
        assert datastore is not None
        datastore.source = DATA_CENTER_SOURCE
    reply = world.reply("access eng-wiki each", user_id=CREATOR)
    assert "personal access token" in _text(reply) and _text(reply).endswith("Nothing changed.")
    assert world.datastore().access_mode == AccessMode.EVERYONE and world.audit() == []


def test_a_confirmation_naming_an_account_that_no_longer_connects_it_confirms_nothing(world: AccessWorld) -> None:
    world.reply("access eng-wiki each", user_id=CREATOR)
    button = _confirm_button(world.reply("access eng-wiki everyone", user_id=CREATOR))
    with world.bot.services.sessions.begin() as session:
        session.scalars(select(Connection)).one().account_name = "Someone Else"
    answer = _click_confirm(world, button, CREATOR)
    assert "changed since you were asked, so nothing changed" in _text(answer)
    assert world.datastore().access_mode == AccessMode.EACH and len(world.audit()) == 1
