"""Class 7: untrusted text never becomes live mrkdwn. Every view builder gets a hostile string in every string
field of its inputs (tests/handlers/views/hostile_builders.py); in every mrkdwn text and fallback ``text`` no
``<!…>``, ``<@…>``, ``<#…>`` or ``<url|…>`` survives except the bot's own (a mention of a user id it was
given, a link to a URL it was given), every ``&`` starts an entity, and the reader still sees the hostile
characters (escaped, not deleted)."""

from __future__ import annotations

import json

import pytest

from handlers.views.usage import _settled_snippet
from tests.handlers.views.hostile_builders import (
    EXEMPT,
    TRUSTED_URL,
    TRUSTED_USER,
    VIEW_MODULES,
    build_all,
    covered_builders,
)
from tests.handlers.views.slack_text import LOOSE_AMPERSAND, as_typed, live_tokens, mrkdwn_texts, plain_texts, shown
from tests.hostile import hostile_strings, mrkdwn_strings

MRKDWN = list(mrkdwn_strings())
MIXED = list(hostile_strings())
#: The links the builders were given as URLs (a hit's URL, the terms, a thread): the only ones allowed.
ALLOWED_LINKS = {TRUSTED_URL, "https://acme.atlassian.net/wiki/x?a=1&amp;b=2"}
#: Builders that show no string field of their input (only numbers, or nothing but the bot's own text).
SHOWS_NOTHING = {"top_off_fields", "top_off_modal", "share_value", "connection_setup_view", "review_access_view"}
#: Builders given only the bot's own mrkdwn (the fallback answers of the error handler).
SHOWS_NOTHING |= {"ended_form_view", "command_reply"}


def _allowed(token: str) -> bool:
    if token == f"@{TRUSTED_USER}":
        return True
    url, bar, _label = token.partition("|")
    return bool(bar) and url in ALLOWED_LINKS


def _problems(text: str) -> list[str]:
    problems = [f"live token <{token}>" for token in live_tokens(text) if not _allowed(token)]
    if LOOSE_AMPERSAND.search(text):
        problems.append("a bare & (Slack would read an entity)")
    return problems


def test_every_public_view_builder_is_swept() -> None:
    public = {f"{name}.{item}" for name, module in VIEW_MODULES.items() for item in module.__all__}
    missing = public - covered_builders() - set(EXEMPT)
    assert not missing, f"add these builders to tests/handlers/views/hostile_builders.py: {sorted(missing)}"


@pytest.mark.parametrize(("label", "text"), MRKDWN, ids=[label for label, _ in MRKDWN])
def test_mrkdwn_attacks_are_shown_not_parsed(label: str, text: str) -> None:
    for name, surface, payload in build_all(text):
        for mrkdwn in mrkdwn_texts(surface, payload):
            assert not _problems(mrkdwn), (name, mrkdwn)
        if name.split("-")[0] in SHOWS_NOTHING:
            continue
        literal = [" ".join(text.split()) for text in plain_texts(surface, payload)]
        seen = " ".join([*map(shown, mrkdwn_texts(surface, payload)), *literal])
        expected = as_typed(text)
        assert expected in seen or (name == "notice_view" and expected[:20] in seen), (name, expected, seen[:400])


@pytest.mark.parametrize(("label", "text"), MIXED, ids=[label for label, _ in MIXED])
def test_mixed_hostile_text_never_becomes_a_token(label: str, text: str) -> None:
    """Control characters, attacks and long tails together: still no live token, still every & an entity."""
    for name, surface, payload in build_all(text):
        for mrkdwn in mrkdwn_texts(surface, payload):
            assert not _problems(mrkdwn), (name, mrkdwn[:300])
            assert "\u202e" not in mrkdwn and "\x00" not in mrkdwn, name


@pytest.mark.parametrize(("label", "text"), MRKDWN[:20], ids=[label for label, _ in MRKDWN[:20]])
def test_share_value_carries_the_query_as_typed(label: str, text: str) -> None:
    for name, surface, payload in build_all(text):
        if surface == "value":
            assert json.loads(payload) == {"d": 3, "q": " ".join(text.split())}, name


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        ("plain &amp; *bold* &lt;x&gt;", "plain &amp; *bold* &lt;x&gt;"),  # storage's escaped mrkdwn stays as it is
        ("<!channel> & <https://evil|x>", "&lt;!channel&gt; &amp; &lt;https://evil|x&gt;"),  # anything else is escaped
        ("a\u202eb\x00c", "ab c"),
    ],
)
def test_search_snippets_are_settled(snippet: str, expected: str) -> None:
    assert _settled_snippet(snippet) == expected
