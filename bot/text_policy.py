"""Which characters people may type, named when refused: one policy for every text the bot takes in.

Invisible characters change what text means without changing how it looks: a NUL byte that PostgreSQL
refuses, a right-to-left override that shows ``gpj.exe`` as ``exe.jpg``, a zero-width space that makes two
equal-looking names different, a C1 control (``\\x85``) that ``str.split`` silently turns into a space.

* **Names, site URLs, intervals, numbers** — anything that identifies or configures something — are refused
  when they hold one: :func:`refusal` returns the human message (naming the character, e.g. ``U+202E
  RIGHT-TO-LEFT OVERRIDE``), or None when the text is fine. The caller shows it (an ephemeral ack, an inline
  modal error, a CLI line); nothing is changed silently.
* **Search queries** are free text people paste: :func:`clean_query` turns the line breaks and tabs into
  spaces, drops every other hidden character and keeps at most :data:`MAX_QUERY_CHARS` characters.
* **Text shown back** (Confluence titles, error descriptions): :func:`displayable` drops the characters that
  would reorder the text around them, so they cannot disguise the bot's own words.

What counts as hidden: Unicode categories Cc (C0/C1 controls, DEL), Cf (format: bidi marks, overrides and
isolates, zero-width characters, soft hyphen, BOM, tags), Cs (lone surrogates, which JSON can carry as
``"\\ud800"``), Zl/Zp (line and paragraph separators), the noncharacters, and the other default-ignorable
code points (Hangul fillers, variation selectors, combining grapheme joiner). Ordinary spaces of other
widths (no-break, ideographic) are visible spaces, not hidden characters.

Pure functions: no I/O, safe inside Slack's 3-second window.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

__all__ = [
    "MAX_QUERY_CHARS",
    "CleanQuery",
    "clean_query",
    "describe_character",
    "displayable",
    "hidden_characters",
    "is_hidden",
    "refusal",
]

#: Search uses at most 16 words of 64 characters; 500 characters hold them with room to spare, and keep the
#: "Share in channel" button's value (the query, JSON-encoded) far below Slack's 2,000.
MAX_QUERY_CHARS = 500

_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
#: Default-ignorable code points outside those categories: invisible, yet letters or marks to str.isalnum().
_IGNORABLE_RANGES = (
    (0x034F, 0x034F),  # COMBINING GRAPHEME JOINER
    (0x115F, 0x1160),  # HANGUL CHOSEONG / JUNGSEONG FILLER
    (0x17B4, 0x17B5),  # KHMER VOWEL INHERENT AQ / AA
    (0x180B, 0x180F),  # MONGOLIAN FREE VARIATION SELECTORS
    (0x3164, 0x3164),  # HANGUL FILLER
    (0xFE00, 0xFE0F),  # VARIATION SELECTORS
    (0xFFA0, 0xFFA0),  # HALFWIDTH HANGUL FILLER
    (0xFFF0, 0xFFF8),  # unassigned, reserved default-ignorable
    (0xE0100, 0xE01EF),  # VARIATION SELECTORS SUPPLEMENT
)
#: Bidi embeddings, overrides and isolates: they reorder everything after them, also the bot's own words.
_REORDERING = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
#: What a query keeps as a space: tab, line feed, vertical tab, form feed, carriage return, NEL, LS, PS.
_QUERY_SPACES = frozenset("\t\n\v\f\r\x85\u2028\u2029")

_NONCHARACTERS = "\ufdd0-\ufdef" + "".join(chr(plane << 16 | 0xFFFE) + chr(plane << 16 | 0xFFFF) for plane in range(17))
_DISPLAY_DROP = re.compile(f"[{''.join(sorted(_REORDERING))}{_NONCHARACTERS}]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_DISPLAY_SPACE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029]")  # Cc except LF, and LS/PS
_DISPLAY_SPACE_OR_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")

_C0_NAMES = (
    "NULL|START OF HEADING|START OF TEXT|END OF TEXT|END OF TRANSMISSION|ENQUIRY|ACKNOWLEDGE|BELL|BACKSPACE|"
    "CHARACTER TABULATION|LINE FEED|LINE TABULATION|FORM FEED|CARRIAGE RETURN|SHIFT OUT|SHIFT IN|"
    "DATA LINK ESCAPE|DEVICE CONTROL ONE|DEVICE CONTROL TWO|DEVICE CONTROL THREE|DEVICE CONTROL FOUR|"
    "NEGATIVE ACKNOWLEDGE|SYNCHRONOUS IDLE|END OF TRANSMISSION BLOCK|CANCEL|END OF MEDIUM|SUBSTITUTE|ESCAPE|"
    "INFORMATION SEPARATOR FOUR|INFORMATION SEPARATOR THREE|INFORMATION SEPARATOR TWO|INFORMATION SEPARATOR ONE"
).split("|")
_C1_NAMES = (
    "PADDING CHARACTER|HIGH OCTET PRESET|BREAK PERMITTED HERE|NO BREAK HERE|INDEX|NEXT LINE|"
    "START OF SELECTED AREA|END OF SELECTED AREA|CHARACTER TABULATION SET|CHARACTER TABULATION WITH JUSTIFICATION|"
    "LINE TABULATION SET|PARTIAL LINE FORWARD|PARTIAL LINE BACKWARD|REVERSE LINE FEED|SINGLE SHIFT TWO|"
    "SINGLE SHIFT THREE|DEVICE CONTROL STRING|PRIVATE USE ONE|PRIVATE USE TWO|SET TRANSMIT STATE|CANCEL CHARACTER|"
    "MESSAGE WAITING|START OF GUARDED AREA|END OF GUARDED AREA|START OF STRING|SINGLE GRAPHIC CHARACTER INTRODUCER|"
    "SINGLE CHARACTER INTRODUCER|CONTROL SEQUENCE INTRODUCER|STRING TERMINATOR|OPERATING SYSTEM COMMAND|"
    "PRIVACY MESSAGE|APPLICATION PROGRAM COMMAND"
).split("|")


def _is_noncharacter(code: int) -> bool:
    return 0xFDD0 <= code <= 0xFDEF or (code & 0xFFFE) == 0xFFFE


def is_hidden(char: str) -> bool:
    """True for a character nobody can see or that changes how the text around it reads (see the module)."""
    code = ord(char)
    if unicodedata.category(char) in _HIDDEN_CATEGORIES or _is_noncharacter(code):
        return True
    return any(low <= code <= high for low, high in _IGNORABLE_RANGES)


def hidden_characters(text: str) -> list[str]:
    """The distinct hidden characters of ``text``, in the order they first appear. Every Slack request's fields
    pass here: printable ASCII (most of them) is answered at C speed, and otherwise each distinct character is
    looked at once (measured: a third of a `/datastore help` request's CPU went to looking at each character)."""
    if text.isascii() and text.isprintable():
        return []
    return [char for char in dict.fromkeys(text) if is_hidden(char)]


def describe_character(char: str) -> str:
    """``U+202E RIGHT-TO-LEFT OVERRIDE``: the code point and its Unicode name (or alias, for controls)."""
    code = ord(char)
    if code < 0x20:
        name = _C0_NAMES[code]
    elif code == 0x7F:
        name = "DELETE"
    elif 0x80 <= code < 0xA0:
        name = _C1_NAMES[code - 0x80]
    elif unicodedata.category(char) == "Cs":
        name = "(half of a character: a lone surrogate)"
    elif _is_noncharacter(code):
        name = "(a noncharacter)"
    else:
        name = unicodedata.name(char, "(an unassigned character)")
    return f"U+{code:04X} {name}"


def _kind(char: str) -> str:
    category = unicodedata.category(char)
    if category == "Cc":
        return "a control character"
    if char in _REORDERING or char in "\u200e\u200f\u061c":
        return "an invisible character that changes the direction of text"
    if category in ("Zl", "Zp"):
        return "a line break"
    if category == "Cs":
        return "a broken character"
    return "an invisible character"


def refusal(text: str, what: str) -> str | None:
    """Why ``text`` (described as ``what``: "name", "site URL" …) is refused, or None when it holds no hidden
    character. The message names the first one, and says how many other kinds there are."""
    hidden = hidden_characters(text)
    if not hidden:
        return None
    first = hidden[0]
    more = len(hidden) - 1
    others = f" (and {more} other hidden character{'s' if more != 1 else ''})" if more else ""
    them = "them" if more else "it"
    return (
        f"The {what} contains {describe_character(first)}{others} — {_kind(first)}. Retype the {what} without {them}."
    )


@dataclass(frozen=True)
class CleanQuery:
    """A search query as searched: ``text``, and whether it was cut to :data:`MAX_QUERY_CHARS`."""

    text: str
    shortened: bool


def clean_query(raw: str) -> CleanQuery:
    """Tabs and line breaks become spaces, other hidden characters go, spaces are folded, and at most
    :data:`MAX_QUERY_CHARS` characters are kept (cut at a space when one is near the end)."""
    kept = "".join(
        " " if char in _QUERY_SPACES else char for char in raw if char in _QUERY_SPACES or not is_hidden(char)
    )
    text = " ".join(kept.split())
    if len(text) <= MAX_QUERY_CHARS:
        return CleanQuery(text=text, shortened=False)
    cut = text[:MAX_QUERY_CHARS]
    space = cut.rfind(" ")
    if space >= MAX_QUERY_CHARS - 64:
        cut = cut[:space]
    return CleanQuery(text=cut.rstrip(), shortened=True)


def displayable(text: str, *, newlines: bool = True) -> str:
    """Text from elsewhere (Confluence, Atlassian, stored rows) made safe to show among the bot's own words:
    bidi embeddings, overrides and isolates (which would reorder what follows) and noncharacters are dropped,
    control characters and line breaks become spaces (``newlines`` keeps line feeds), and a lone surrogate
    becomes U+FFFD so the text can be encoded at all. Zero-width joiners, variation selectors and tags stay:
    emoji sequences are made of them."""
    shown = _DISPLAY_DROP.sub("", text)
    shown = _SURROGATE.sub("\ufffd", shown)
    return (_DISPLAY_SPACE if newlines else _DISPLAY_SPACE_OR_LINE).sub(" ", shown)
