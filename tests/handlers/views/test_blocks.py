"""The escaping helpers: mrkdwn escape, links with checked URLs and safe labels, mentions of real ids only."""

from __future__ import annotations

import pytest

from handlers.views.blocks import (
    button,
    channel_mention,
    escape_mrkdwn,
    link,
    mrkdwn,
    option,
    plain,
    safe_url,
    text_input,
    user_mention,
)
from tests.hostile import mrkdwn_strings

MRKDWN = list(mrkdwn_strings())


@pytest.mark.parametrize(("label", "text"), MRKDWN, ids=[label for label, _ in MRKDWN])
def test_escaped_text_has_no_token_and_decodes_back(label: str, text: str) -> None:
    escaped = escape_mrkdwn(text, newlines=True)
    assert "<" not in escaped and ">" not in escaped
    assert escaped.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&") == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a\nb", "a b"),
        ("a\u202eb", "ab"),
        ("a\x00b", "a b"),
        ("x\ud800", "x\ufffd"),
    ],
)
def test_escape_neutralises_layout_characters(text: str, expected: str) -> None:
    assert escape_mrkdwn(text) == expected


@pytest.mark.parametrize(
    "url",
    [
        "https://acme.atlassian.net/wiki/spaces/ENG/pages/1/Title",
        "http://example.test/a?b=1&c=2",
        "https://example.test/caf%C3%A9",
        "https://example.test/page/Bob's",
    ],
)
def test_linkable_urls(url: str) -> None:
    assert safe_url(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "mailto:x@evil.example",
        "https://evil.example|login",
        "https://evil.example>x",
        "https://a b.example",
        "https://a.example/\u202e",
        "https:///nohost",
        "//example.test/x",
        "https://example.test/" + "x" * 3000,
        "",
        None,
        "https://[bad",
    ],
)
def test_unlinkable_urls(url: str | None) -> None:
    assert safe_url(url) is None
    assert link(url, "Title") == "Title"


def test_link_labels_cannot_end_early() -> None:
    assert link("https://x.test/a?b=1&c=2", "A|B > C <!channel>") == (
        "<https://x.test/a?b=1&amp;c=2|A\u2223B &gt; C &lt;!channel&gt;>"
    )
    assert link("https://x.test", "  ") == "<https://x.test|untitled>"


def test_mentions_only_of_real_ids() -> None:
    assert user_mention("U0123ABCD") == "<@U0123ABCD>" and user_mention("W0123") == "<@W0123>"
    assert user_mention("U1><!channel") == "U1&gt;&lt;!channel" and user_mention("here") == "here"
    assert channel_mention("C0123") == "<#C0123>" and channel_mention("C1|x>") == "C1|x&gt;"


def test_text_objects_are_never_empty_and_mrkdwn_is_verbatim() -> None:
    assert plain("")["text"] == "–" and plain("\x00")["text"] == "–"
    assert mrkdwn("") == {"type": "mrkdwn", "text": "–", "verbatim": True}
    assert option("", "v")["text"]["text"] == "–"


def test_buttons_and_inputs_keep_to_their_limits() -> None:
    element = button("😀" * 100, "go", value="v" * 3000, url="javascript:alert(1)")
    assert len(element["text"]["text"].encode("utf-16-le")) // 2 <= 75
    assert len(element["value"]) == 2000 and "url" not in element
    block = text_input("b", "a", "L" * 3000, initial="😀" * 40, max_length=64, placeholder="p" * 200)
    assert block["element"]["initial_value"] == "😀" * 32 and block["element"]["max_length"] == 64
    assert len(block["label"]["text"]) == 2000 and len(block["element"]["placeholder"]["text"]) == 150
