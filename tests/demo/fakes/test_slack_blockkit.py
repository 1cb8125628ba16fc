"""Unit tests of the pure Block Kit limit validator (no sockets)."""

from __future__ import annotations

from typing import Any

import pytest

from demo.fakes.slack_blockkit import slack_length, validate_blocks, validate_view


def plain(text: str) -> dict[str, str]:
    return {"type": "plain_text", "text": text}


def option(text: str = "a", value: str = "a") -> dict[str, Any]:
    return {"text": plain(text), "value": value}


def section(text: str = "hi", **extra: Any) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}, **extra}


def button(**extra: Any) -> dict[str, Any]:
    return {"type": "button", "text": plain("Go"), "action_id": "go", **extra}


def actions(*elements: dict[str, Any]) -> dict[str, Any]:
    return {"type": "actions", "elements": list(elements)}


def select(options: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"type": "static_select", "action_id": "pick", "options": options, **extra}


def input_block(element: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "input", "block_id": "in", "label": plain("Label"), "element": element, **extra}


TEXT_INPUT = {"type": "plain_text_input", "action_id": "t"}

VALID: list[dict[str, Any]] = [
    {"type": "header", "text": plain("Datastores")},
    section("hello", accessory=button(value="v")),
    {"type": "divider"},
    {"type": "context", "elements": [{"type": "mrkdwn", "text": "ctx"}]},
    actions(button(action_id="a", style="primary"), select([option()], initial_option=option())),
    input_block(TEXT_INPUT, hint=plain("hint")),
]

BAD_BLOCKS: list[tuple[str, list[dict[str, Any]], str]] = [
    ("too many message blocks", [{"type": "divider"}] * 51, "no more than 50 items"),
    ("section text", [section("x" * 3001)], "less than 3001"),
    ("field count", [{"type": "section", "fields": [plain("f")] * 11}], "no more than 10"),
    ("field length", [{"type": "section", "fields": [plain("f" * 2001)]}], "less than 2001"),
    ("header", [{"type": "header", "text": plain("h" * 151)}], "less than 151"),
    ("actions count", [actions(*[button(action_id=str(i)) for i in range(26)])], "no more than 25"),
    ("context count", [{"type": "context", "elements": [plain("c")] * 11}], "no more than 10"),
    ("button text", [actions(button(text=plain("b" * 76)))], "less than 76"),
    ("button value", [actions(button(value="v" * 2001))], "less than 2001"),
    ("button url", [actions(button(url="u" * 3001))], "less than 3001"),
    ("action_id", [actions(button(action_id="a" * 256))], "less than 256"),
    ("block_id", [section(block_id="b" * 256)], "less than 256"),
    ("duplicate block_id", [section(block_id="x"), section(block_id="x")], "duplicate block_id"),
    ("input label", [input_block(TEXT_INPUT, label=plain("l" * 2001))], "less than 2001"),
    ("input hint", [input_block(TEXT_INPUT, hint=plain("h" * 2001))], "less than 2001"),
    ("placeholder", [input_block({**TEXT_INPUT, "placeholder": plain("p" * 151)})], "less than 151"),
    ("options count", [actions(select([option(value=str(i)) for i in range(101)]))], "1 to 100"),
    ("options and groups", [actions(select([option()], option_groups=[]))], "exactly one"),
    ("option text", [actions(select([option(text="o" * 76)]))], "less than 76"),
    ("option value", [actions(select([option(value="v" * 151)]))], "less than 151"),
    ("unknown block", [{"type": "carousel"}], "unsupported type: carousel"),
    ("empty text", [section("")], "more than 0"),
]


def test_valid_blocks_pass() -> None:
    assert validate_blocks(VALID, "message") == []
    assert validate_blocks([{"type": "divider"}] * 100, "modal") == []


@pytest.mark.parametrize(("blocks", "expected"), [(b, e) for _, b, e in BAD_BLOCKS], ids=[n for n, _, _ in BAD_BLOCKS])
def test_block_limits(blocks: list[dict[str, Any]], expected: str) -> None:
    errors = validate_blocks(blocks, "message")
    assert errors and any(expected in error for error in errors), errors
    assert all("[json-pointer:/blocks" in error for error in errors)


def test_option_groups_limit() -> None:
    groups = [{"label": plain("g"), "options": [option()]}] * 101
    errors = validate_blocks([actions({"type": "static_select", "action_id": "p", "option_groups": groups})], "home")
    assert any("1 to 100" in e for e in errors)
    assert validate_blocks([{"type": "divider"}] * 101, "home") == [
        "no more than 100 items allowed [json-pointer:/blocks]"
    ]


def modal(**extra: Any) -> dict[str, Any]:
    return {"type": "modal", "title": plain("Create"), "submit": plain("Next"), "blocks": VALID, **extra}


@pytest.mark.parametrize(
    ("view", "expected"),
    [
        (modal(title=plain("t" * 25)), "/view/title/text"),
        (modal(submit=plain("s" * 25)), "/view/submit/text"),
        (modal(close=plain("c" * 25)), "/view/close/text"),
        (modal(submit=None), "/view/submit"),
        (modal(private_metadata="m" * 3001), "/view/private_metadata"),
        (modal(callback_id="c" * 256), "/view/callback_id"),
        (modal(external_id="e" * 256), "/view/external_id"),
        (modal(blocks=[{"type": "divider"}] * 101), "/view/blocks"),
        ({"type": "dialog"}, "/view/type"),
    ],
)
def test_view_limits(view: dict[str, Any], expected: str) -> None:
    errors = validate_view(view)
    assert any(expected in error for error in errors), errors


def test_submit_required_with_inputs_and_size_limit() -> None:
    no_submit = {"type": "modal", "title": plain("T"), "blocks": [input_block(TEXT_INPUT)]}
    assert any("submit" in e for e in validate_view(no_submit))
    assert validate_view({"type": "modal", "title": plain("T"), "blocks": [section()]}) == []
    big = modal(blocks=[section("x" * 2900, block_id=str(i)) for i in range(100)])
    assert any("bytes" in e for e in validate_view(big))


EMOJI = "\U0001f600"  # one code point, two UTF-16 units: Slack counts 2


@pytest.mark.parametrize(
    ("name", "blocks", "pointer"),
    [
        ("section text", [section(EMOJI * 1501)], "/blocks/0/text/text"),
        ("field", [{"type": "section", "fields": [plain(EMOJI * 1001)]}], "/blocks/0/fields/0/text"),
        ("header", [{"type": "header", "text": plain(EMOJI * 76)}], "/blocks/0/text/text"),
        ("button text", [actions(button(text=plain(EMOJI * 38)))], "/blocks/0/elements/0/text/text"),
        ("button value", [actions(button(value=EMOJI * 1001))], "/blocks/0/elements/0/value"),
        ("option text", [actions(select([option(text=EMOJI * 38)]))], "/blocks/0/elements/0/options/0/text/text"),
        ("option value", [actions(select([option(value=EMOJI * 76)]))], "/blocks/0/elements/0/options/0/value"),
        (
            "initial value over max_length",
            [input_block({**TEXT_INPUT, "max_length": 10, "initial_value": EMOJI * 6})],
            "/blocks/0/element/initial_value",
        ),
    ],
)
def test_lengths_are_counted_in_utf16_units(name: str, blocks: list[dict[str, Any]], pointer: str) -> None:
    """Each case is within the limit in code points and over it in UTF-16 units, as Slack counts."""
    errors = validate_blocks(blocks, "message")
    assert any(pointer in error for error in errors), (name, errors)
    assert slack_length(EMOJI) == 2


def test_modal_title_and_metadata_in_utf16_units() -> None:
    assert any("/view/title/text" in e for e in validate_view(modal(title=plain(EMOJI * 13))))
    assert any("/view/private_metadata" in e for e in validate_view(modal(private_metadata=EMOJI * 1501)))
    assert validate_view(modal(title=plain(EMOJI * 12), private_metadata=EMOJI * 1500)) == []
