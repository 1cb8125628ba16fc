"""The views of choosing who sees what and who may use a datastore: valid Block Kit, the account named and
escaped, Data Center offering "everyone" only (and saying why), limits failing closed."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.views import View

from bot.datastores.access import DATA_CENTER_EACH, UsageRule, limit_value, rule_of
from bot.wizard.steps import Step, WizardSnapshot
from demo.fakes.slack_blockkit import validate_blocks, validate_view
from handlers.ids import ActionId, BlockId
from handlers.views.access_choice import confirm_access_view, confirm_everyone_message, offer_message
from handlers.views.usage_limits import limit_value_words, rule_words
from handlers.views.wizard_finish import grant_access_view
from storage.access_modes import DATA_CENTER_SOURCE, AccessMode, LimitKind, offered_modes
from storage.usage_limits import UsageLimit

HOSTILE = "<!channel> *Mallory* " + "x" * 400


def _snap(**changes: Any) -> WizardSnapshot:
    base: dict[str, Any] = {
        "id": "w" * 24,
        "step": Step.GRANT_ACCESS,
        "user_id": "U1",
        "name": "eng-wiki",
        "connected_site": "acme.atlassian.net",
        "connected_account": HOSTILE,
    }
    base.update(changes)
    return WizardSnapshot(**base)


def _mrkdwn(node: Any) -> list[str]:
    """Every mrkdwn text in ``node`` (the only texts Slack parses for mentions)."""
    if isinstance(node, list):
        return [text for item in node for text in _mrkdwn(item)]
    if not isinstance(node, dict):
        return []
    own = [str(node["text"])] if node.get("type") == "mrkdwn" else []
    return own + [text for key, value in node.items() if key != "text" or own == [] for text in _mrkdwn(value)]


def _radio(view: dict[str, Any]) -> dict[str, Any]:
    (block,) = [b for b in view["blocks"] if b.get("block_id") == BlockId.ACCESS_MODE]
    return dict(block["element"])


def test_grant_access_offers_each_by_default_and_everyone_naming_the_account() -> None:
    view = grant_access_view(_snap())
    assert validate_view(view) == []
    View(**view).validate_json()  # raises if Slack's own model refuses it
    radio = _radio(view)
    assert radio["action_id"] == ActionId.ACCESS_MODE
    assert radio["initial_option"]["value"] == AccessMode.EACH
    label = radio["options"][1]["text"]["text"]
    assert label.startswith("Everyone in this workspace sees what <!channel> *Mallory*") and len(label) <= 75


def test_data_center_offers_everyone_only_and_says_why() -> None:
    assert offered_modes(DATA_CENTER_SOURCE) == (AccessMode.EVERYONE,)
    assert offered_modes("confluence") == (AccessMode.EACH, AccessMode.EVERYONE)
    view = grant_access_view(_snap(), modes=offered_modes(DATA_CENTER_SOURCE), why_only=DATA_CENTER_EACH)
    assert validate_view(view) == []
    radio = _radio(view)
    assert [o["value"] for o in radio["options"]] == [AccessMode.EVERYONE]
    assert radio["initial_option"]["value"] == AccessMode.EVERYONE
    assert "personal access token" in str(view["blocks"])


def test_confirmations_name_the_account_escaped_and_fit_slack() -> None:
    view = confirm_access_view(_snap(step=Step.CONFIRM_ACCESS))
    assert validate_view(view) == []
    assert "&lt;!channel&gt;" in " ".join(_mrkdwn(view["blocks"]))
    assert "<!channel>" not in " ".join(_mrkdwn(view["blocks"]))
    for message in (
        confirm_everyone_message(datastore_id=7, name="<!here>", account_name=HOSTILE, site="acme.atlassian.net"),
        offer_message(datastore_id=7, name="Eng Wiki", account_name=None, site="acme.atlassian.net"),
    ):
        assert validate_blocks(message["blocks"], surface="message") == []
        shown = " ".join([message["text"], *_mrkdwn(message["blocks"])])  # plain_text is never parsed
        assert "<!channel>" not in shown and "<!here>" not in shown
    confirm = confirm_everyone_message(datastore_id=7, name="x", account_name=HOSTILE, site="")
    assert "&lt;!channel&gt;" in confirm["text"] and "<!channel>" not in confirm["text"]
    offer = offer_message(datastore_id=7, name="Eng Wiki", account_name=None, site="acme.atlassian.net")
    assert "the account that connected *acme.atlassian.net*" in offer["text"]
    assert '`/datastore access "Eng Wiki" each`' in str(offer["blocks"])


def test_usage_limits_in_words_and_a_kind_the_bot_never_writes_limits_to_nobody() -> None:
    channels = UsageRule(LimitKind.CHANNELS, channel_ids=("C0AAAAAAA", "C0BBBBBBB"))
    assert rule_words(channels) == "only in <#C0AAAAAAA>, <#C0BBBBBBB>"
    assert limit_value_words(limit_value(channels)) == "channels <#C0AAAAAAA>, <#C0BBBBBBB>"
    group = UsageRule(LimitKind.GROUP, group_id="S0ENG", group_handle="<!channel>")
    assert limit_value_words(limit_value(group)) == "group *@&lt;!channel&gt;*"
    assert limit_value_words("none") == "no limit"
    odd = rule_of(UsageLimit(datastore_id=1, kind="everyone-please"))
    assert odd.kind is LimitKind.GROUP and odd.group_id is None  # nobody is a member of no group
