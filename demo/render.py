"""Block Kit as terminal text: what a person would read in Slack, as plain lines (pure functions).

Section and header text, section fields and context elements are shown; inputs, actions, dividers and images
are not (the demo clicks those itself). Slack's mrkdwn is read as Slack reads it: ``<url|label>`` shows the
label, ``<@U…>`` a mention, the ``&amp; &lt; &gt;`` entities their characters, ``*bold*`` / ``_italic_`` /
`` `code` `` / ``~strike~`` marks are dropped, ``>`` quotes become an indented bar and the few emoji codes the
bot uses become their characters.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["blocks_lines", "blocks_text", "mrkdwn_text"]

EMOJI = {
    "hourglass_flowing_sand": "⏳",
    "white_check_mark": "✅",
    "warning": "⚠️",
    "x": "❌",
    "double_vertical_bar": "⏸️",
    "mag": "🔍",
    "lock": "🔒",
    "link": "🔗",
    "books": "📚",
    "eyes": "👀",
    "wastebasket": "🗑️",
}
_ANGLED = re.compile(r"<([^<>]*)>")
_EMOJI = re.compile(r":([a-z0-9_+-]+):")
_MARKS = re.compile(r"(?<![\w*_~`])([*_~`])(?=\S)(.+?)(?<=\S)\1(?![\w*_~`])")


def _angled(match: re.Match[str], names: Mapping[str, str]) -> str:
    inner = match.group(1)
    target, _bar, label = inner.partition("|")
    if target.startswith(("@U", "@W")):
        return "@" + (label or names.get(target[1:], target[1:]))
    if target.startswith("#C"):
        return "#" + (label or target[1:])
    if target.startswith("!"):
        return "@" + (label or target[1:].split("^")[0])
    return label or target


def mrkdwn_text(text: str, names: Mapping[str, str] | None = None) -> str:
    """One mrkdwn string as the plain text Slack shows for it (``names``: user id → name, for mentions)."""
    shown = _ANGLED.sub(lambda match: _angled(match, names or {}), text)
    shown = _EMOJI.sub(lambda m: EMOJI.get(m.group(1), m.group(0)), shown)
    previous = None
    while previous != shown:  # nested marks: *_bold italic_*
        previous, shown = shown, _MARKS.sub(r"\2", shown)
    shown = shown.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return "\n".join("  │ " + line[1:].lstrip() if line.startswith(">") else line for line in shown.split("\n"))


def _object_text(item: Any, names: Mapping[str, str]) -> str:
    if not isinstance(item, Mapping):
        return ""
    text = item.get("text")
    if not isinstance(text, str):
        return ""
    return mrkdwn_text(text, names) if item.get("type") == "mrkdwn" else text


def _block_text(block: Mapping[str, Any], names: Mapping[str, str]) -> str:
    kind = block.get("type")
    if kind in ("section", "header"):
        parts = [_object_text(block.get("text"), names)]
        parts += [_object_text(field, names) for field in block.get("fields") or []]
        return "\n".join(part for part in parts if part)
    if kind == "context":
        elements = block.get("elements") or []
        return " ".join(part for part in (_object_text(e, names) for e in elements) if part)
    return ""


def blocks_lines(blocks: Iterable[Any], names: Mapping[str, str] | None = None) -> list[str]:
    """The lines a person reads in these blocks, in order (blocks without text give none)."""
    lines: list[str] = []
    for block in blocks:
        if isinstance(block, Mapping):
            text = _block_text(block, names or {})
            if text:
                lines += text.split("\n")
    return lines


def blocks_text(blocks: Iterable[Any], fallback: str = "", names: Mapping[str, str] | None = None) -> str:
    """The blocks as one text (``fallback``, read as mrkdwn, when they hold no text: Slack shows ``text`` then)."""
    lines = blocks_lines(blocks, names)
    return "\n".join(lines) if lines else mrkdwn_text(fallback, names)
