"""Clipping to Slack's limits: UTF-16 units, character boundaries, whole entities and links, an ellipsis."""

from __future__ import annotations

import pytest

from handlers.views.blocks import escape_mrkdwn
from handlers.views.limits import clip_mrkdwn, clip_plain, clip_value, json_size, utf16_length
from tests.hostile import oversized_strings
from tests.hostile import utf16_length as hostile_utf16_length

OVERSIZED = list(oversized_strings())
LIMITS = [1, 2, 24, 75, 150, 2000, 3000]


@pytest.mark.parametrize(("label", "text"), OVERSIZED, ids=[label for label, _ in OVERSIZED])
def test_clipped_text_fits_and_keeps_its_start(label: str, text: str) -> None:
    assert utf16_length(text) == hostile_utf16_length(text)
    for limit in LIMITS:
        plain = clip_plain(text, limit)
        assert utf16_length(plain) <= limit and plain.endswith("…") == (utf16_length(text) > limit)
        assert text.startswith(plain.removesuffix("…"))
        value = clip_value(text, limit)
        assert utf16_length(value) <= limit and text.startswith(value)
        escaped = escape_mrkdwn(text)
        clipped = clip_mrkdwn(escaped, limit)
        assert utf16_length(clipped) <= limit and escaped.startswith(clipped[:-1].rstrip())


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("short", 10, "short"),
        ("abcdefghij", 5, "abcd…"),
        ("😀😀😀😀", 5, "😀😀…"),  # 2 units each: never half an emoji
        ("ab😀", 3, "ab…"),
        ("cafe\u0301s and more", 5, "caf…"),  # the accent is not left without its e
        ("a &amp; b", 7, "a…"),  # not "a &am…"
        ("a &lt;b&gt; c", 8, "a &lt;b…"),
        ("see <https://x.test/a|label> and", 20, "see…"),  # the link goes whole
        ("<@U123> hi there", 6, "…"),
        ("*bold* &amp;&amp;&amp;", 14, "*bold* &amp;…"),
    ],
)
def test_mrkdwn_cuts(text: str, limit: int, expected: str) -> None:
    assert clip_mrkdwn(text, limit) == expected


def test_plain_cut_and_value_cut() -> None:
    assert clip_plain("a &amp; b", 5) == "a &a…"  # plain text has no entities: a cut is just a cut
    assert clip_value("x" * 200, 150) == "x" * 150
    assert clip_value("😀" * 100, 150) == "😀" * 75


def test_json_size_is_what_slack_sdk_sends() -> None:
    assert json_size({"a": "é"}) == len('{"a":"\\u00e9"}')
