"""Reading built views the way Slack renders them: every mrkdwn text, every plain text, the live tokens."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from bot.text_policy import displayable
from handlers.views.blocks import LABEL_BAR

#: A token Slack acts on in mrkdwn: <!channel>, <@U…>, <#C…>, <!subteam^…>, <!date…>, <url|label>, <url>.
TOKEN = re.compile(r"<([^<>]*)>")
LOOSE_AMPERSAND = re.compile(r"&(?!(?:amp|lt|gt);)")
_ENTITY = re.compile(r"&(amp|lt|gt);")
_DECODED = {"amp": "&", "lt": "<", "gt": ">"}


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def mrkdwn_texts(surface: str, payload: Any) -> list[str]:
    """Every string Slack parses as mrkdwn: mrkdwn text objects, a message's fallback ``text``, a bare text."""
    if surface == "text":
        return [payload]
    if surface == "value":
        return []
    texts = [node["text"] for node in _walk(payload) if node.get("type") == "mrkdwn"]
    if surface == "message" and isinstance(payload.get("text"), str):
        texts.append(payload["text"])
    return texts


def plain_texts(surface: str, payload: Any) -> list[str]:
    """Every string Slack shows literally: plain_text objects and the initial values of text inputs."""
    if surface in ("text", "value"):
        return []
    texts = [node["text"] for node in _walk(payload) if node.get("type") == "plain_text"]
    return texts + [node["initial_value"] for node in _walk(payload) if isinstance(node.get("initial_value"), str)]


def live_tokens(text: str) -> list[str]:
    return TOKEN.findall(text)


def shown(text: str) -> str:
    """What a reader sees of mrkdwn (entities decoded, link bars restored) with whitespace folded."""
    decoded = _ENTITY.sub(lambda match: _DECODED[match.group(1)], text)  # the only entities Slack decodes
    return " ".join(decoded.replace(LABEL_BAR, "|").split())


def as_typed(text: str) -> str:
    """The hostile text as the reader should see it: displayable, whitespace folded."""
    return " ".join(displayable(text, newlines=False).split())
