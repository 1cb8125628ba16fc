"""Slack's size limits, counted the way Slack counts (UTF-16 code units, as JavaScript strings do), and
clipping that keeps the text valid: cut on a character boundary, never inside an escape entity (``&amp;``)
or a ``<link|label>``, with an ellipsis.

The limits are Slack's documented ones (docs.slack.dev Block Kit reference; /work/shared/reference/
slack-platform.md §2). Every builder in :mod:`handlers.views.blocks` applies them, so a view stays valid for
any input: a 5,000-character Atlassian error, a CJK query, a title made of ``&``.
"""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Any

__all__ = [
    "BUTTON_TEXT",
    "BUTTON_VALUE",
    "CONTEXT_ELEMENTS",
    "FALLBACK_TEXT",
    "FIELD_TEXT",
    "HEADER_TEXT",
    "HINT_TEXT",
    "INPUT_LABEL",
    "INPUT_VALUE",
    "MAX_FIELDS",
    "MESSAGE_BLOCKS",
    "MODAL_TEXT",
    "OPTION_TEXT",
    "OPTION_VALUE",
    "PLACEHOLDER_TEXT",
    "PRIVATE_METADATA",
    "SECTION_TEXT",
    "SURFACE_BLOCKS",
    "URL_LENGTH",
    "VIEW_BYTES",
    "clip_mrkdwn",
    "clip_plain",
    "clip_value",
    "json_size",
    "utf16_length",
]

SECTION_TEXT = 3000  # a section's text, a context element's text: any text object
FIELD_TEXT = 2000
MAX_FIELDS = 10
HEADER_TEXT = 150
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
URL_LENGTH = 3000
OPTION_TEXT = 75
OPTION_VALUE = 150
CONTEXT_ELEMENTS = 10
INPUT_LABEL = 2000
HINT_TEXT = 2000
PLACEHOLDER_TEXT = 150
INPUT_VALUE = 3000  # plain_text_input initial_value and max_length
MODAL_TEXT = 24  # modal title, submit and close
PRIVATE_METADATA = 3000
MESSAGE_BLOCKS = 50
SURFACE_BLOCKS = 100  # a modal or the Home tab
VIEW_BYTES = 250_000
#: A message's fallback ``text`` (shown in notifications): Slack truncates at 40,000; we stay far below.
FALLBACK_TEXT = 3000

ELLIPSIS = "…"
#: How far back a cut may move to avoid splitting a character from its combining marks.
_GRAPHEME_BACKTRACK = 16
_ENTITY = re.compile(r"&(?:amp|lt|gt);")


def utf16_length(text: str) -> int:
    """Slack's length of ``text``: UTF-16 code units (an emoji outside the BMP counts 2)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def json_size(value: Any) -> int:
    """Bytes of ``value`` as sent to Slack (compact JSON, non-ASCII escaped, as slack_sdk sends it)."""
    return len(json.dumps(value, separators=(",", ":")).encode("utf-8"))


def _joins_previous(char: str) -> bool:
    """A character that belongs to the one before it (a combining mark, a joiner, a variation selector)."""
    return unicodedata.category(char) in ("Mn", "Me", "Mc") or char in "\u200d\ufe0e\ufe0f"


def _fitting_prefix(text: str, budget: int) -> int:
    """How many code points of ``text`` fit in ``budget`` UTF-16 units, moved back to a character boundary."""
    used = 0
    end = 0
    for char in text:
        width = 2 if ord(char) > 0xFFFF else 1
        if used + width > budget:
            break
        used += width
        end += 1
    if end < len(text) and _joins_previous(text[end]):
        base = end - 1
        while base > 0 and end - base < _GRAPHEME_BACKTRACK and _joins_previous(text[base]):
            base -= 1
        if base > 0 and not _joins_previous(text[base]):
            end = base  # leave the whole character out, rather than a letter without its accent
    return end


def clip_value(text: str, limit: int) -> str:
    """At most ``limit`` UTF-16 units, cut on a code point boundary, no ellipsis (for ids and values)."""
    if utf16_length(text) <= limit:
        return text
    return text[: _fitting_prefix(text, limit)]


def clip_plain(text: str, limit: int) -> str:
    """Plain text of at most ``limit`` UTF-16 units, ending in "…" when it had to be cut."""
    if utf16_length(text) <= limit:
        return text
    return text[: _fitting_prefix(text, limit - len(ELLIPSIS))].rstrip() + ELLIPSIS


def _safe_mrkdwn_cut(text: str, end: int) -> int:
    """Move ``end`` back so it splits neither an escape entity nor a ``<…>`` link, mention or date."""
    head = text[:end]
    amp = head.rfind("&")
    if amp != -1 and ";" not in head[amp:]:
        entity = _ENTITY.match(text, amp)
        if entity is not None and entity.end() > end:
            end = amp
            head = text[:end]
    opening = head.rfind("<")
    if opening != -1 and ">" not in head[opening:]:
        end = opening
    return end


def clip_mrkdwn(text: str, limit: int) -> str:
    """mrkdwn of at most ``limit`` UTF-16 units, ending in "…" when cut; the cut never leaves half an entity
    or half a link (a link that does not fit is left out whole)."""
    if utf16_length(text) <= limit:
        return text
    end = _safe_mrkdwn_cut(text, _fitting_prefix(text, limit - len(ELLIPSIS)))
    return text[:end].rstrip() + ELLIPSIS
