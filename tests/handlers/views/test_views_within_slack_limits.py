"""Class 8: every view builder stays within Slack's limits for any input, counted as Slack counts (UTF-16).

Oversized strings (5,000 ASCII, 3,500 CJK, 2,100 emoji, 1,500 ``&<>`` that grow fivefold when escaped,
combining marks, one 10,000-character word, 600 ``<!channel>``) and the seeded hostile mix go into every
string field of every builder (tests/handlers/views/hostile_builders.py), and also into the parameters the
handlers pass as ready-made mrkdwn. Each result must pass the fake Slack's Block Kit checker and
slack_sdk's own model validation, and clipped text must not end inside an entity or a link.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from demo.fakes.slack_blockkit import MAX_MESSAGE_TEXT, slack_length, validate_blocks, validate_view
from handlers.views.limits import BUTTON_VALUE, FALLBACK_TEXT
from tests.handlers.views.hostile_builders import Surface, build_all
from tests.handlers.views.slack_text import mrkdwn_texts
from tests.hostile import hostile_strings, oversized_strings

OVERSIZED = list(oversized_strings())
MIXED = list(hostile_strings(seed=8, count=16))
HALF_ENTITY = re.compile(r"&(?:a|am|amp|l|lt|g|gt)?$")
UNCLOSED_LINK = re.compile(r"<[^>]*$")


def _check(name: str, surface: Surface, payload: Any) -> None:
    if surface in ("modal", "home"):
        assert validate_view(payload) == [], name
        View(**payload).validate_json()
    elif surface == "message":
        assert validate_blocks(payload["blocks"], "message") == [], name
        for block in Block.parse_all(payload["blocks"]):
            block.validate_json()
        assert 0 < slack_length(payload["text"]) <= FALLBACK_TEXT, name
    elif surface == "blocks":
        assert validate_blocks(payload, "modal") == [], name
    elif surface == "text":
        assert slack_length(payload) <= MAX_MESSAGE_TEXT, name
    else:
        assert slack_length(payload) <= BUTTON_VALUE, name
    for text in mrkdwn_texts(surface, payload):
        assert not HALF_ENTITY.search(text.removesuffix("…")), (name, text[-20:])
        assert not UNCLOSED_LINK.search(text), (name, "a link or mention cut in half", text[-80:])


@pytest.mark.parametrize(("label", "text"), OVERSIZED, ids=[label for label, _ in OVERSIZED])
def test_oversized_text_in_every_field(label: str, text: str) -> None:
    for name, surface, payload in build_all(text):
        _check(name, surface, payload)


@pytest.mark.parametrize(("label", "text"), OVERSIZED, ids=[label for label, _ in OVERSIZED])
def test_oversized_text_in_the_handlers_mrkdwn_too(label: str, text: str) -> None:
    """A notice, a refusal or a status label the handlers compose is clipped as well."""
    for name, surface, payload in build_all("eng-wiki", mrkdwn_params=text):
        _check(name, surface, payload)


@pytest.mark.parametrize(("label", "text"), MIXED, ids=[label for label, _ in MIXED])
def test_hostile_mix_in_every_field(label: str, text: str) -> None:
    for name, surface, payload in build_all(text):
        _check(name, surface, payload)
