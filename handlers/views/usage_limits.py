"""What a usage limit says (issue #12 item 5): refusals naming who can change it, the answers of
`/datastore limit`, and the limit's words in the access audit (pure functions of plain values)."""

from __future__ import annotations

from collections.abc import Sequence

from bot.datastores.access import UsageRule
from bot.states import LimitKind
from handlers.views.blocks import channel_mention, escape_mrkdwn
from handlers.views.limits import clip_plain

__all__ = [
    "channels_refusal",
    "group_refusal",
    "group_words",
    "limit_value_words",
    "rule_words",
    "unreadable_refusal",
]

#: At most this many channels are named in one line.
NAMED_CHANNELS = 10
HANDLE = 80


def _channels(channel_ids: Sequence[str]) -> str:
    named = ", ".join(channel_mention(channel_id) for channel_id in channel_ids[:NAMED_CHANNELS])
    more = len(channel_ids) - NAMED_CHANNELS
    return named + (f" and {more} more" if more > 0 else "")


def group_words(handle: str | None) -> str:
    """``*@eng-team*`` (escaped), or "its user group" when the handle is not known."""
    if handle and handle.strip():
        return f"*@{escape_mrkdwn(clip_plain(handle.strip().lstrip('@'), HANDLE))}*"
    return "its user group"


def rule_words(rule: UsageRule) -> str:
    """Who may use it: "everyone in this workspace", "only in #a, #b", "only members of @team"."""
    if rule.kind is LimitKind.CHANNELS:
        return f"only in {_channels(rule.channel_ids)}" if rule.channel_ids else "in no channel"
    if rule.kind is LimitKind.GROUP:
        return f"only members of {group_words(rule.group_handle)}"
    return "everyone in this workspace, in any channel"


def limit_value_words(raw: str | None) -> str:
    """An audit value written by ``bot.datastores.access.limit_value`` in words."""
    text = raw or LimitKind.NONE.value
    kind, _, rest = text.partition(":")
    if kind == LimitKind.CHANNELS.value:
        return f"channels {_channels([c for c in rest.split(',') if c])}"
    if kind == LimitKind.GROUP.value:
        return f"group {group_words(rest.partition('|')[2])}"
    if text == LimitKind.NONE.value:
        return "no limit"
    return escape_mrkdwn(clip_plain(text, HANDLE))


def channels_refusal(name: str, channel_ids: Sequence[str], who: str) -> str:
    where = _channels(channel_ids) if channel_ids else "no channel"
    return f"*{escape_mrkdwn(name)}* can be searched and shared only in {where}. {who}"


def group_refusal(name: str, handle: str | None, who: str) -> str:
    return f"*{escape_mrkdwn(name)}* is only for members of {group_words(handle)}, and you are not one. {who}"


def unreadable_refusal(name: str, handle: str | None, reason: str, why: str) -> str:
    return (
        f"*{escape_mrkdwn(name)}* is only for members of {group_words(handle)}, and I couldn't read who is in it "
        f"just now (Slack answered `{escape_mrkdwn(clip_plain(reason, HANDLE))}`), so nothing is shown. "
        f"Try again in a minute. {why}"
    )
