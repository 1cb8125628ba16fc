"""Hostile strings for generated input tests: deterministic (fixed seeds), grouped by what they attack.

Each generator yields ``(label, text)`` pairs; the label names the case in pytest ids. The families:

* :func:`control_strings` — C0/C1 control characters, DEL, bidi overrides and isolates, zero-width and other
  invisible format characters, lone surrogates, each planted at a random spot of an ordinary word;
* :func:`mrkdwn_strings` — Slack mrkdwn that would ping, link or format (``<!channel>``, ``<https://evil|login>``,
  ``<@U…>``, ``&amp;``, ``*bold*`` …), alone and mixed with ordinary text;
* :func:`oversized_strings` — text that is long in characters, in UTF-16 units (emoji), in JSON escapes
  (CJK), or grows when escaped (``&<>``);
* :func:`hostile_strings` — a seeded mix of all three, for builders that take any text.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

__all__ = [
    "BIDI",
    "CONTROL_CHARACTERS",
    "MRKDWN_ATTACKS",
    "ZERO_WIDTH",
    "control_strings",
    "hostile_strings",
    "mrkdwn_strings",
    "oversized_strings",
    "utf16_length",
]

C0 = [chr(code) for code in range(0x20)]
DEL = "\x7f"
C1 = [chr(code) for code in range(0x80, 0xA0)]
BIDI = ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069", "\u200e", "\u200f"]
BIDI.append("\u061c")
ZERO_WIDTH = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u180e", "\u00ad"]
LONE_SURROGATES = ["\ud800", "\udfff"]
CONTROL_CHARACTERS = [*C0, DEL, *C1, *BIDI, *ZERO_WIDTH]

MRKDWN_ATTACKS = [
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<!subteam^S0123ABCD>",
    "<@U0123ABCD>",
    "<#C0123ABCD>",
    "<https://evil.example|login>",
    "<https://evil.example>",
    "<mailto:x@evil.example|support>",
    "<!date^1392734382^{date}|Feb 18>",
    "&lt;!channel&gt;",
    "&amp;lt;",
    "*bold* _italic_ ~strike~",
    "`code` ```block```",
    "> quoted\n> lines",
    "<!channel> <https://evil|login>",
    "a <b> c",
    "x|y>z<",
    ":warning: :rotating_light:",
    "@channel @here",
]

_WORDS = ["eng", "wiki", "Runbook", "Q3 plan", "Ops", "search", "handbook", "design"]


def utf16_length(text: str) -> int:
    """How many UTF-16 code units ``text`` is: how Slack (JavaScript) counts characters."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _plant(rng: random.Random, word: str, char: str) -> str:
    at = rng.randrange(len(word) + 1)
    return word[:at] + char + word[at:]


def control_strings(seed: int = 11, *, per_family: int = 3) -> Iterator[tuple[str, str]]:
    """Every forbidden character once (planted in an ordinary word), then ``per_family`` random mixes."""
    rng = random.Random(seed)
    for char in [*CONTROL_CHARACTERS, *LONE_SURROGATES]:
        yield f"U+{ord(char):04X}", _plant(rng, rng.choice(_WORDS), char)
    families = {"c0": C0, "c1": C1, "bidi": BIDI, "zero-width": ZERO_WIDTH}
    for family, chars in families.items():
        for index in range(per_family):
            text = rng.choice(_WORDS)
            for _ in range(rng.randint(1, 3)):
                text = _plant(rng, text, rng.choice(chars))
            yield f"{family}-mix-{index}", text


def mrkdwn_strings(seed: int = 7) -> Iterator[tuple[str, str]]:
    """Each attack alone, then each with ordinary words around it."""
    rng = random.Random(seed)
    for index, attack in enumerate(MRKDWN_ATTACKS):
        yield f"mrkdwn-{index}", attack
    for index, attack in enumerate(MRKDWN_ATTACKS):
        yield f"mrkdwn-mixed-{index}", f"{rng.choice(_WORDS)} {attack} {rng.choice(_WORDS)}"


def oversized_strings(seed: int = 5) -> Iterator[tuple[str, str]]:
    """Strings over every Slack text limit, each in its own way."""
    rng = random.Random(seed)
    yield "ascii-5000", "".join(rng.choice("abcdefghij ") for _ in range(5000))
    yield "cjk-3500", "".join(chr(rng.randrange(0x4E00, 0x9FFF)) for _ in range(3500))
    yield "cjk-334", "".join(chr(rng.randrange(0x4E00, 0x9FFF)) for _ in range(334))
    yield "emoji-2100", "".join(chr(rng.randrange(0x1F600, 0x1F64F)) for _ in range(2100))
    yield "escapes-1500", "".join(rng.choice("&<>") for _ in range(1500))
    yield "combining-4000", "e" + "\u0301" * 3999
    yield "one-word-10000", "x" * 10_000
    yield "mentions-600", "<!channel>" * 600


def hostile_strings(seed: int = 3, *, count: int = 40) -> Iterator[tuple[str, str]]:
    """A seeded mix: mrkdwn attacks with control characters and long tails, ``count`` of them."""
    rng = random.Random(seed)
    pools = [
        [text for _label, text in control_strings(seed)],
        [text for _label, text in mrkdwn_strings(seed)],
        [text for _label, text in oversized_strings(seed)],
    ]
    for index in range(count):
        parts = [rng.choice(rng.choice(pools)) for _ in range(rng.randint(1, 3))]
        yield f"mix-{index}", " ".join(parts)
