"""What a request the bot cannot act on gets back: an ended-form modal, an ephemeral line, no options."""

from __future__ import annotations

from typing import Any

from handlers.ids import SLASH_COMMAND, CallbackId
from handlers.views.blocks import fallback, plain, section

__all__ = [
    "TOO_SLOW_TEXT",
    "UNKNOWN_COMMAND_TEXT",
    "UNKNOWN_FORM_TEXT",
    "UNREADABLE_FORM_TEXT",
    "command_reply",
    "ended_form_view",
    "no_options",
]

TITLE = "Datastore Bot"
UNKNOWN_FORM_TEXT = (
    "I could not take this form: it was opened before an update of the bot, what it was for has ended, or I took "
    f"too long to answer. Close it and start again with `{SLASH_COMMAND}`."
)
UNREADABLE_FORM_TEXT = (
    f"This form could not be read, so nothing changed. Close it and start again with `{SLASH_COMMAND}`."
)
TOO_SLOW_TEXT = "That took me longer than Slack waits, so I could not answer in time. If nothing happened, try again."
UNKNOWN_COMMAND_TEXT = f"I only answer `{SLASH_COMMAND}`. Type `{SLASH_COMMAND} help` to see what I can do."


def ended_form_view(text: str) -> dict[str, Any]:
    """The modal a submission is answered with (``response_action: update``) when it cannot go on."""
    return {
        "type": "modal",
        "callback_id": CallbackId.NOTICE,
        "title": plain(TITLE),
        "close": plain("Close"),
        "blocks": [section(text)],
    }


def command_reply(text: str) -> dict[str, Any]:
    """An ephemeral answer to a slash command."""
    return {"response_type": "ephemeral", "text": fallback(text)}


def no_options() -> dict[str, Any]:
    """The answer to an options request (block_suggestion) that has nothing to offer."""
    return {"options": []}
