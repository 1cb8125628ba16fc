"""The text policy over every hidden character family (tests/hostile.control_strings): refused by name in
what identifies or configures something, cleaned out of search queries, dropped where text is shown."""

from __future__ import annotations

import unicodedata

import pytest

from bot.text_policy import (
    MAX_QUERY_CHARS,
    clean_query,
    describe_character,
    displayable,
    hidden_characters,
    is_hidden,
    refusal,
)
from tests.hostile import BIDI, CONTROL_CHARACTERS, ZERO_WIDTH, control_strings, mrkdwn_strings

CONTROL = list(control_strings())
QUERY_SPACES = "\t\n\v\f\r\x85\u2028\u2029"


@pytest.mark.parametrize(("label", "text"), CONTROL, ids=[label for label, _ in CONTROL])
def test_every_hidden_character_is_refused_by_name(label: str, text: str) -> None:
    hidden = hidden_characters(text)
    assert hidden, text.encode("unicode_escape")
    message = refusal(text, "datastore name")
    assert message is not None
    assert message.startswith(f"The datastore name contains {describe_character(hidden[0])}")
    assert "Retype the datastore name without" in message
    assert not hidden_characters(message)  # the message itself is safe to show


@pytest.mark.parametrize(("label", "text"), CONTROL, ids=[label for label, _ in CONTROL])
def test_queries_keep_the_words_around_hidden_characters(label: str, text: str) -> None:
    cleaned = clean_query(text).text
    assert not hidden_characters(cleaned)
    expected = "".join(
        " " if char in QUERY_SPACES else char for char in text if char in QUERY_SPACES or not is_hidden(char)
    )
    assert cleaned == " ".join(expected.split())


@pytest.mark.parametrize(("label", "text"), CONTROL, ids=[label for label, _ in CONTROL])
def test_displayable_text_has_no_control_or_reordering_character(label: str, text: str) -> None:
    shown = displayable(text, newlines=False)
    assert not any(unicodedata.category(char) in ("Cc", "Cs", "Zl", "Zp") for char in shown)
    assert not set(shown) & set(BIDI[:9])  # embeddings, overrides, isolates
    shown.encode("utf-8")  # a lone surrogate became U+FFFD


def test_the_families_are_all_hidden() -> None:
    assert all(is_hidden(char) for char in [*CONTROL_CHARACTERS, "\ud800", "\udfff"])
    assert all(is_hidden(char) for char in ["\u3164", "\u115f", "\ufe0f", "\U000e0041", "\ufffe", "\U0010ffff"])


@pytest.mark.parametrize(
    "text", ["eng-wiki", "Équipe Wiki", "カフェ 2026", "naïve café", "a\u00a0b", "😀 emoji", "Q3 plan"]
)
def test_visible_text_is_accepted(text: str) -> None:
    assert refusal(text, "name") is None
    assert clean_query(text).text == " ".join(text.split())


@pytest.mark.parametrize(
    ("label", "text"), list(mrkdwn_strings())[:20], ids=[label for label, _ in list(mrkdwn_strings())[:20]]
)
def test_mrkdwn_is_not_this_policys_business(label: str, text: str) -> None:
    """``<!channel>`` is visible text: refused nowhere here, escaped where it is shown (handlers/views). (A
    line feed is a control character: the quote attack is refused for it, not for its ``>``.)"""
    assert refusal(text.replace("\n", " "), "name") is None
    assert displayable(text) == text


@pytest.mark.parametrize(
    ("char", "described"),
    [
        ("\x00", "U+0000 NULL"),
        ("\x1f", "U+001F INFORMATION SEPARATOR ONE"),
        ("\x7f", "U+007F DELETE"),
        ("\x85", "U+0085 NEXT LINE"),
        ("\x9f", "U+009F APPLICATION PROGRAM COMMAND"),
        ("\u202e", "U+202E RIGHT-TO-LEFT OVERRIDE"),
        ("\u200b", "U+200B ZERO WIDTH SPACE"),
        ("\u2028", "U+2028 LINE SEPARATOR"),
        ("\ud800", "U+D800 (half of a character: a lone surrogate)"),
        ("\ufdd0", "U+FDD0 (a noncharacter)"),
    ],
)
def test_characters_are_described_by_code_point_and_name(char: str, described: str) -> None:
    assert describe_character(char) == described


def test_refusal_counts_the_other_hidden_characters() -> None:
    assert refusal("a\u202eb\x00c\u200b", "interval") == (
        "The interval contains U+202E RIGHT-TO-LEFT OVERRIDE (and 2 other hidden characters) — an invisible "
        "character that changes the direction of text. Retype the interval without them."
    )


def test_long_queries_are_cut_at_a_word_and_say_so() -> None:
    words = " ".join(f"word{i}" for i in range(200))
    cleaned = clean_query(words)
    assert cleaned.shortened and len(cleaned.text) <= MAX_QUERY_CHARS
    assert words.startswith(cleaned.text) and words[len(cleaned.text)] == " "
    one_word = clean_query("x" * 10_000)
    assert one_word.shortened and one_word.text == "x" * MAX_QUERY_CHARS
    assert clean_query("x" * MAX_QUERY_CHARS) == clean_query("x" * MAX_QUERY_CHARS)
    assert not clean_query("x" * MAX_QUERY_CHARS).shortened


def test_zero_width_joiner_survives_display_but_not_a_name() -> None:
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    assert displayable(family) == family
    assert refusal(family, "name") is not None and ZERO_WIDTH[2] == "\u200d"
