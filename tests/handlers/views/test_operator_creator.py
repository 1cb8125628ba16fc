"""A datastore made with `datastore-bot create` has the operator as its creator: not a Slack user, so Slack shows
"an operator" (never a mention) and no message promises it a DM."""

from __future__ import annotations

from bot.actors import OPERATOR
from demo.fakes.slack_blockkit import validate_blocks
from handlers.views.blocks import user_mention
from handlers.views.progress import completion_message, parent_message
from tests.handlers.views.test_access_views import _snapshot


def test_the_operator_is_shown_as_an_operator() -> None:
    assert user_mention(OPERATOR) == "an operator"
    assert user_mention("U0123ABCD") == "<@U0123ABCD>"


def test_messages_of_an_operators_datastore_name_no_one_to_dm() -> None:
    snapshot = _snapshot(creator_id=OPERATOR)
    parent = parent_message(snapshot, status="Synced")
    assert validate_blocks(parent["blocks"], "message") == []
    assert "created by an operator" in str(parent) and "<@operator>" not in str(parent)
    done = completion_message(snapshot)
    assert validate_blocks(done["blocks"], "message") == []
    assert "an operator gets the list" not in str(done)
    assert "Created by an operator: nobody gets the list of failed pages by DM." in str(done)
