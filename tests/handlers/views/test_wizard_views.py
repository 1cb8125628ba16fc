"""Every wizard view is a pure function of the snapshot and passes Block Kit validation."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from slack_sdk.models.views import View

from bot.wizard.steps import SpaceChoice, Step, TopOffView, WizardSnapshot
from demo.fakes.slack_blockkit import validate_blocks, validate_view
from handlers.ids import ActionId, BlockId, CallbackId
from handlers.views.wizard import connect_view, parse_wizard_metadata, wizard_metadata
from handlers.views.wizard_finish import (
    continue_setup_message,
    ended_view,
    grant_access_view,
    resume_view,
    summary_view,
)
from handlers.wizard_render import render_step

TERMS = "https://example.com/terms"


def snap(step: Step, **changes: Any) -> WizardSnapshot:
    base: dict[str, Any] = {
        "id": "w" * 24,
        "step": step,
        "user_id": "U1",
        "name": "eng-wiki",
        "credit_balance": 100_000,
        "site_url": "https://acme.atlassian.net",
        "authorize_url": "https://auth.atlassian.com/authorize?state=x",
        "connected_site": "acme.atlassian.net",
        "connected_account": "Jane Doe",
    }
    base.update(changes)
    return WizardSnapshot(**base)


def assert_valid(view: dict[str, Any]) -> None:
    assert validate_view(view) == []
    View(**view).validate_json()  # slack_sdk's own model checks


@pytest.mark.parametrize("step", list(Step))
def test_every_step_renders_a_valid_modal(step: Step) -> None:
    view = render_step(snap(step), terms_url=TERMS)
    assert_valid(view)
    assert parse_wizard_metadata(view["private_metadata"]) == "w" * 24
    assert view["notify_on_close"] is True


def test_metadata_carries_only_the_wizard_id() -> None:
    assert wizard_metadata("abc") == '{"w":"abc"}'
    assert parse_wizard_metadata("not json") is None
    assert parse_wizard_metadata('{"w": 5}') is None


def test_name_step_prefills_and_shows_the_single_method() -> None:
    view = render_step(snap(Step.NAME, name="Eng Wiki"), terms_url=TERMS)
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    assert blocks[BlockId.NAME]["element"]["initial_value"] == "Eng Wiki"
    method = blocks[BlockId.METHOD]["element"]
    assert [o["text"]["text"] for o in method["options"]] == ["Third-Party Connection"]
    assert method["initial_option"]["value"] == method["options"][0]["value"]
    assert view["submit"]["text"] == "Next"
    assert view["callback_id"] == CallbackId.WIZARD_NAME


def test_connection_setup_shows_balance_and_fields_only_when_configuring() -> None:
    skipped = render_step(snap(Step.CONNECTION_SETUP, top_off_choice="skipped"), terms_url=TERMS)
    ids = [b.get("block_id") for b in skipped["blocks"]]
    assert BlockId.TOPOFF_THRESHOLD not in ids
    assert "100,000 available" in skipped["blocks"][1]["text"]["text"]
    assert "does not stop halfway" in skipped["blocks"][1]["text"]["text"]
    configured = render_step(
        snap(Step.CONNECTION_SETUP, top_off_choice="configured", top_off=TopOffView(1000, 5000, None)),
        terms_url=TERMS,
    )
    blocks = {b.get("block_id"): b for b in configured["blocks"]}
    assert blocks[BlockId.TOPOFF_THRESHOLD]["element"]["initial_value"] == "1000"
    assert blocks[BlockId.TOPOFF_CAP]["optional"] is True
    assert blocks[BlockId.TOPOFF_CHOICE]["dispatch_action"] is True


def test_review_access_lists_read_only_access_and_terms() -> None:
    view = render_step(snap(Step.REVIEW_ACCESS), terms_url=TERMS)
    text = " ".join(b["text"]["text"] for b in view["blocks"] if b["type"] == "section")
    assert "Read-only" in text and "cannot create, change or delete" in text
    assert "Read the pages and blog posts" in text
    assert f"<{TERMS}|end-user terms>" in text


def test_connect_view_has_open_window_url_button_and_waits() -> None:
    view = connect_view(snap(Step.CONNECT))
    actions = next(b for b in view["blocks"] if b.get("block_id") == BlockId.CONNECT_ACTIONS)
    open_window = actions["elements"][0]
    assert open_window["text"]["text"] == "Open window"
    assert open_window["url"].startswith("https://auth.atlassian.com/authorize")
    assert "submit" not in view
    assert any("Waiting for you" in str(b) for b in view["blocks"])


def test_connect_view_after_an_error_offers_retry_and_granted_sites() -> None:
    view = connect_view(
        snap(
            Step.CONNECT,
            authorize_url=None,
            oauth_error="Your consent covered other.atlassian.net, not acme.",
            offered_sites=("https://other.atlassian.net",),
        )
    )
    assert_valid(view)
    texts = str(view["blocks"])
    assert "Try again" in texts and "Use other.atlassian.net instead" in texts
    buttons = [e for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert not any("url" in button for button in buttons)


def test_grant_access_picker_is_type_ahead_and_keeps_choices() -> None:
    chosen = (SpaceChoice("1", "ENG", "Engineering"),)
    view = grant_access_view(snap(Step.GRANT_ACCESS, share_all=False, spaces=chosen))
    assert_valid(view)
    picker = next(b for b in view["blocks"] if b.get("block_id") == BlockId.SPACES)["element"]
    assert picker["type"] == "multi_external_select" and picker["min_query_length"] == 0
    assert picker["action_id"] == ActionId.SPACES
    assert picker["initial_options"][0]["value"] == "1"
    assert "Jane Doe" in str(view["blocks"][1])
    everything = grant_access_view(snap(Step.GRANT_ACCESS, share_all=True))
    assert BlockId.SPACES not in [b.get("block_id") for b in everything["blocks"]]


def test_summary_lists_every_choice() -> None:
    spaces = tuple(SpaceChoice(str(i), f"K{i}", f"Space {i}") for i in range(12))
    view = summary_view(
        snap(
            Step.SUMMARY,
            share_all=False,
            spaces=spaces,
            top_off_choice="configured",
            top_off=TopOffView(1000, 10_000, 50_000),
        )
    )
    assert_valid(view)
    fields = " ".join(f["text"] for f in view["blocks"][2]["fields"])
    for expected in (
        "eng-wiki",
        "acme.atlassian.net",
        "Jane Doe",
        "12 spaces",
        "and 2 more",
        "Add 10,000 credits when below 1,000, up to 50,000 a month",
    ):
        assert expected in fields
    assert view["submit"]["text"] == "Create"


def test_resume_ended_and_continue_views_are_valid() -> None:
    resume = resume_view(
        new_wizard_id="n" * 24, existing=snap(Step.CONNECT), started=datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
    )
    assert_valid(resume)
    assert "step 3 of 5" in str(resume["blocks"]) and "02 Nov" in str(resume["blocks"])
    assert_valid(ended_view("This setup expired."))
    message = continue_setup_message(snap(Step.GRANT_ACCESS))
    assert validate_blocks(message["blocks"], "message") == []
    assert message["blocks"][1]["elements"][0]["action_id"] == ActionId.CONTINUE_SETUP


def test_names_with_slack_control_characters_are_escaped() -> None:
    view = summary_view(snap(Step.SUMMARY, name="a<b>&c", share_all=True))
    assert "a&lt;b&gt;&amp;c" in str(view["blocks"])
