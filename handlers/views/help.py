"""The /datastore help message."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from handlers.ids import SLASH_COMMAND
from handlers.views.blocks import escape_mrkdwn, fallback, section
from handlers.views.limits import clip_plain

#: How much of an unknown subcommand the help echoes.
ECHOED_WORD = 60

__all__ = ["SubcommandHelp", "help_message"]


@dataclass(frozen=True)
class SubcommandHelp:
    name: str
    usage: str
    summary: str


def help_message(
    subcommands: Sequence[SubcommandHelp], *, unknown: str | None = None, suggestion: str | None = None
) -> dict[str, Any]:
    """Ephemeral help: optionally opens with what was not understood and a "did you mean"."""
    blocks: list[dict[str, Any]] = []
    lead = ""
    if unknown is not None:
        lead = f"I don't know `{SLASH_COMMAND} {escape_mrkdwn(clip_plain(unknown, ECHOED_WORD))}`."
        if suggestion is not None:
            lead += f" Did you mean `{SLASH_COMMAND} {escape_mrkdwn(suggestion)}`?"
        blocks.append(section(lead))
    lines = [f"`{SLASH_COMMAND} {item.usage}` — {item.summary}" for item in subcommands]
    blocks.append(
        section(
            "*Datastore Bot* connects Confluence to a searchable datastore, right from Slack.\n\n" + "\n".join(lines)
        )
    )
    text = (
        (lead + " " if lead else "") + "Commands: " + ", ".join(f"{SLASH_COMMAND} {item.usage}" for item in subcommands)
    )
    return {"response_type": "ephemeral", "text": fallback(text), "blocks": blocks}
