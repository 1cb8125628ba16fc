"""Small Block Kit builders shared by the views: escaping for untrusted text, and Slack's size limits.

Two kinds of strings meet here. **Untrusted text** — anything from Confluence or Atlassian (space names,
titles, site and account names, error descriptions) or typed by a Slack user (names, queries, intervals) —
goes through :func:`escape_mrkdwn` (or :func:`link` for a link label) before it is put into mrkdwn or a
message's fallback ``text``. **mrkdwn** — the views' own text, with escaped pieces — goes into
:func:`section`, :func:`context`, :func:`fields` and :func:`fallback`, which clip it to Slack's limits
(see :mod:`handlers.views.limits`) without breaking an entity or a link. Plain-text builders
(:func:`plain`, :func:`option`, :func:`button`, :func:`text_input`) take untrusted text as it is: Slack
shows plain text literally, so it is only made displayable and clipped.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from bot.actors import OPERATOR
from bot.text_policy import displayable, is_hidden
from handlers.views import limits

__all__ = [
    "LABEL_BAR",
    "button",
    "channel_mention",
    "context",
    "escape_mrkdwn",
    "fallback",
    "fields",
    "header",
    "link",
    "mrkdwn",
    "option",
    "plain",
    "safe_url",
    "section",
    "text_input",
    "user_mention",
]

Block = dict[str, Any]

#: Stand-in for "|" inside a link label, where Slack would read it as the end of the URL.
LABEL_BAR = "\u2223"
_URL_FORBIDDEN = frozenset(' <>|"\\')
_SLACK_ID = re.compile(r"[A-Z0-9]{2,32}")


def escape_mrkdwn(text: str, *, newlines: bool = False) -> str:
    """Untrusted text as literal mrkdwn: ``& < >`` become entities, so no ``<!channel>``, ``<@U…>``, ``<#C…>``,
    ``<!subteam^…>``, ``<!date…>`` or ``<url|label>`` survives; characters that would reorder the text around
    it are dropped, control characters become spaces, and line breaks too unless ``newlines``. (Emphasis
    marks such as ``*`` stay: they only style, and Slack has no way to escape them.) Every mrkdwn object is
    also sent with ``verbatim``, so Slack does not auto-link channel names or bare URLs in it."""
    shown = displayable(text, newlines=newlines)
    return shown.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def safe_url(url: str | None) -> str | None:
    """``url`` when it can be linked: http(s) with a host, no space, quote, ``<``, ``>``, ``|`` or hidden
    character, within Slack's URL length; otherwise None (the caller shows the label without a link)."""
    if not url or limits.utf16_length(url) > limits.URL_LENGTH:
        return None
    if any(char in _URL_FORBIDDEN or char.isspace() or is_hidden(char) for char in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return url


def link(url: str | None, label: str) -> str:
    """``<url|label>`` with the label escaped (its "|" shown as "∣"), or just the escaped label when the URL
    cannot be linked safely (see :func:`safe_url`)."""
    shown = escape_mrkdwn(label).replace("|", LABEL_BAR).strip() or "untitled"
    target = safe_url(url)
    if target is None:
        return shown
    return f"<{target.replace('&', '&amp;')}|{shown}>"


def user_mention(user_id: str) -> str:
    """``<@U…>`` for a well-formed Slack user id; "an operator" for what `datastore-bot create` made; anything
    else is shown escaped, never as a mention."""
    if user_id == OPERATOR:
        return "an operator"
    return f"<@{user_id}>" if _SLACK_ID.fullmatch(user_id) and user_id[0] in "UW" else escape_mrkdwn(user_id)


def channel_mention(channel_id: str) -> str:
    """``<#C…>`` for a well-formed channel id (C, G or D); anything else is shown escaped."""
    return (
        f"<#{channel_id}>" if _SLACK_ID.fullmatch(channel_id) and channel_id[0] in "CGD" else escape_mrkdwn(channel_id)
    )


def plain(text: str, limit: int = limits.SECTION_TEXT) -> dict[str, Any]:
    """A plain_text object, displayable, clipped to ``limit`` and never empty."""
    shown = limits.clip_plain(displayable(text, newlines=False).strip(), limit) or "–"
    return {"type": "plain_text", "text": shown, "emoji": True}


def mrkdwn(text: str, limit: int = limits.SECTION_TEXT) -> dict[str, Any]:
    """A mrkdwn object (text already escaped where it is untrusted), clipped to ``limit``, never empty."""
    return {"type": "mrkdwn", "text": limits.clip_mrkdwn(text, limit) or "–", "verbatim": True}


def fallback(text: str) -> str:
    """A message's fallback ``text`` (mrkdwn, shown in notifications), clipped far below Slack's 40,000."""
    return limits.clip_mrkdwn(text, limits.FALLBACK_TEXT)


def section(text: str, *, block_id: str | None = None) -> Block:
    block: Block = {"type": "section", "text": mrkdwn(text)}
    if block_id is not None:
        block["block_id"] = block_id
    return block


def fields(items: list[str], *, block_id: str | None = None) -> Block:
    """A section of up to 10 mrkdwn fields, each clipped to 2,000."""
    block: Block = {
        "type": "section",
        "fields": [mrkdwn(item, limits.FIELD_TEXT) for item in items[: limits.MAX_FIELDS]],
    }
    if block_id is not None:
        block["block_id"] = block_id
    return block


def context(text: str, *, block_id: str | None = None) -> Block:
    block: Block = {"type": "context", "elements": [mrkdwn(text)]}
    if block_id is not None:
        block["block_id"] = block_id
    return block


def header(text: str) -> Block:
    return {"type": "header", "text": plain(text, limits.HEADER_TEXT)}


def option(text: str, value: str, description: str | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {
        "text": plain(text, limits.OPTION_TEXT),
        "value": limits.clip_value(value, limits.OPTION_VALUE),
    }
    if description:
        item["description"] = plain(description, limits.OPTION_TEXT)
    return item


def button(
    text: str, action_id: str, *, value: str | None = None, url: str | None = None, style: str | None = None
) -> dict[str, Any]:
    """A button; a ``url`` that cannot be linked safely is left out (the button then only acts)."""
    element: dict[str, Any] = {"type": "button", "action_id": action_id, "text": plain(text, limits.BUTTON_TEXT)}
    if value is not None:
        element["value"] = limits.clip_value(value, limits.BUTTON_VALUE)
    target = safe_url(url)
    if target is not None:
        element["url"] = target
    if style is not None:
        element["style"] = style
    return element


def text_input(
    block_id: str,
    action_id: str,
    label: str,
    *,
    initial: str | None = None,
    hint: str | None = None,
    placeholder: str | None = None,
    optional: bool = False,
    max_length: int | None = None,
) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "plain_text_input", "action_id": action_id}
    longest = min(max_length or limits.INPUT_VALUE, limits.INPUT_VALUE)
    if initial:
        element["initial_value"] = limits.clip_value(initial, longest)
    if placeholder:
        element["placeholder"] = plain(placeholder, limits.PLACEHOLDER_TEXT)
    if max_length:
        element["max_length"] = longest
    block: dict[str, Any] = {
        "type": "input",
        "block_id": block_id,
        "label": plain(label, limits.INPUT_LABEL),
        "element": element,
        "optional": optional,
    }
    if hint:
        block["hint"] = plain(hint, limits.HINT_TEXT)
    return block
