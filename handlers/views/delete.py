"""Deleting a datastore: the confirmation modal (type the name), its result, and the channel message after."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from bot.datastores.deletion import DeletedRows, DeletionPreview
from handlers.ids import ActionId, BlockId, CallbackId
from handlers.views.blocks import context, escape_mrkdwn, fallback, plain, section, user_mention
from handlers.views.limits import INPUT_LABEL, MODAL_TEXT, PLACEHOLDER_TEXT, PRIVATE_METADATA

__all__ = ["delete_confirm_view", "deleted_parent_message", "deleted_text", "deleting_text", "notice_view"]

View = dict[str, Any]
TITLE = "Delete datastore"


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def delete_confirm_view(preview: DeletionPreview, *, response_url: str | None) -> View:
    """The confirmation: what goes, what stays, and the name to type."""
    name = escape_mrkdwn(preview.name)
    site = f" (Confluence · {escape_mrkdwn(preview.site)})" if preview.site else ""
    if preview.shares_connection_with:
        others = ", ".join(f"*{escape_mrkdwn(other)}*" for other in preview.shares_connection_with[:5])
        verb = "uses" if len(preview.shares_connection_with) == 1 else "use"
        connection = f"• the Confluence connection stays: {others} also {verb} it"
    else:
        connection = "• its Confluence connection and access tokens (nothing is changed in Confluence itself)"
    lines = [
        f"This deletes *{name}*{site} for everyone in this workspace:",
        f"• its {_plural(preview.documents, 'document')} and their search index",
        connection,
        "• its scheduled resyncs" + (", and stops the sync that is running now" if preview.syncing else ""),
        "\nThis cannot be undone. Credits already used are not refunded.",
    ]
    metadata = json.dumps({"d": preview.datastore_id, "r": response_url}, separators=(",", ":"))
    if len(metadata) > PRIVATE_METADATA:  # a response_url is ~100 characters; never send one Slack refuses
        metadata = json.dumps({"d": preview.datastore_id, "r": None}, separators=(",", ":"))
    return {
        "type": "modal",
        "callback_id": CallbackId.DELETE_CONFIRM,
        "private_metadata": metadata,
        "title": plain(TITLE, MODAL_TEXT),
        "submit": plain("Delete", MODAL_TEXT),
        "close": plain("Cancel", MODAL_TEXT),
        "blocks": [
            section("\n".join(lines), block_id=BlockId.DELETE_SUMMARY),
            {
                "type": "input",
                "block_id": BlockId.DELETE_NAME,
                "label": plain(f"Type {preview.name} to confirm", INPUT_LABEL),
                "element": {
                    "type": "plain_text_input",
                    "action_id": ActionId.DELETE_NAME_INPUT,
                    "placeholder": plain(preview.name, PLACEHOLDER_TEXT),
                    "max_length": 200,
                },
            },
        ],
    }


def notice_view(text: str, *, title: str = TITLE) -> View:
    """A modal that only says something (a refusal, "already deleted", "deleting…")."""
    return {
        "type": "modal",
        "callback_id": CallbackId.NOTICE,
        "title": plain(title, MODAL_TEXT),
        "close": plain("Close", MODAL_TEXT),
        "blocks": [section(text)],
    }


def deleting_text(name: str) -> str:
    return f":hourglass_flowing_sand: Deleting *{escape_mrkdwn(name)}*…"


def deleted_text(deleted: DeletedRows) -> str:
    connection = (
        "Its Confluence connection and access tokens are gone. To also remove the app from the Atlassian "
        "account, open id.atlassian.com → Connected apps."
        if deleted.connection_deleted
        else "Its Confluence connection stays: another datastore uses it."
    )
    return (
        f":wastebasket: *{escape_mrkdwn(deleted.name)}* is deleted: {_plural(deleted.documents, 'document')} "
        f"and {_plural(deleted.chunks, 'search chunk')} removed.\n{connection}"
    )


def deleted_parent_message(
    *, name: str, site: str, deleted_by: str | None, documents: int, deleted_at: datetime
) -> dict[str, Any]:
    """What the datastore's channel message becomes: it no longer claims to be searchable."""
    who = user_mention(deleted_by) if deleted_by else "an operator"
    where = f" — Confluence · {escape_mrkdwn(site)}" if site else ""
    line = f":wastebasket: ~*{escape_mrkdwn(name)}*~{where} · deleted by {who} on {deleted_at:%d %b %Y %H:%M} UTC"
    return {
        "text": fallback(f"{escape_mrkdwn(name)} was deleted by {who}"),
        "blocks": [section(line), context(f"Its {_plural(documents, 'document')} are no longer searchable.")],
    }
