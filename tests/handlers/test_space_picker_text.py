"""The space picker's type-ahead is free text like a search query: hidden characters are cleaned out, so a
NUL (which PostgreSQL refuses) or a bidi override answers like the clean words, never with HTTP 500."""

from __future__ import annotations

import logging

import pytest

from handlers.ids import ActionId, BlockId
from tests.handlers.conftest import World
from tests.handlers.wizard_driver import WizardDriver
from tests.hostile import BIDI, ZERO_WIDTH

HIDDEN = ["\x00", "\x1f", "\x7f", "\x85", "\t", "\n", "\u2028", BIDI[4], BIDI[7], ZERO_WIDTH[0], ZERO_WIDTH[4]]


def test_hidden_characters_in_the_space_type_ahead(world: World, caplog: pytest.LogCaptureFixture) -> None:
    driver = WizardDriver(world)
    driver.connect()
    clean = driver.share_spaces("eng")
    assert [option["text"]["text"] for option in clean] == ["Engineering (ENG)"]
    for char in HIDDEN:  # line breaks and tabs become spaces (around the word); the others go (also inside it)
        typed = f"{char}eng{char}" if char in "\t\n\x85\u2028" else f"{char}en{char}g"
        answer = driver.sender.block_suggestion(driver.view_id, ActionId.SPACES, BlockId.SPACES, typed)
        assert answer == clean, f"U+{ord(char):04X}"
    everything = driver.sender.block_suggestion(driver.view_id, ActionId.SPACES, BlockId.SPACES, "\x00")
    assert len(everything) == 4  # nothing left to filter by: every space
    assert not [record for record in caplog.records if record.levelno >= logging.WARNING or record.exc_info]
