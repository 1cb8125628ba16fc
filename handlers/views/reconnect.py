"""The "Reconnect Confluence" modal: consent again for an expired connection; the paused sync resumes."""

from __future__ import annotations

from typing import Any

from bot.wizard.steps import WizardSnapshot
from handlers.ids import ActionId, BlockId, CallbackId
from handlers.views.blocks import button, context, escape_mrkdwn, plain, section
from handlers.views.limits import MODAL_TEXT
from handlers.views.wizard import wizard_metadata

__all__ = ["reconnect_view", "reconnected_view"]

TITLE = "Reconnect Confluence"


def _modal(snapshot: WizardSnapshot, blocks: list[dict[str, Any]], close: str = "Cancel") -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": CallbackId.RECONNECT,
        "notify_on_close": True,
        "private_metadata": wizard_metadata(snapshot.id),
        "title": plain(TITLE, MODAL_TEXT),
        "close": plain(close, MODAL_TEXT),
        "blocks": blocks,
    }


def reconnect_view(snapshot: WizardSnapshot) -> dict[str, Any]:
    site = escape_mrkdwn((snapshot.site_url or "").removeprefix("https://"))
    name = escape_mrkdwn(snapshot.name or "this datastore")
    blocks = [
        section(
            f"The connection of *{name}* to *{site}* expired. Click *Open window*, log in to Atlassian if "
            "asked and click *Accept*: the paused sync then resumes where it stopped.",
            block_id=BlockId.CONNECT,
        ),
    ]
    if snapshot.oauth_error:
        error = escape_mrkdwn(snapshot.oauth_error, newlines=True)
        blocks.append(section(f":warning: {error}", block_id=BlockId.CONNECT_ERROR))
        actions = [button("Try again", ActionId.TRY_AGAIN, value=snapshot.id, style="primary")]
    else:
        actions = [button("Open window", ActionId.OPEN_WINDOW, url=snapshot.authorize_url or "", style="primary")]
    blocks.append({"type": "actions", "block_id": BlockId.CONNECT_ACTIONS, "elements": actions})
    if not snapshot.oauth_error:
        blocks.append(
            context(
                ":hourglass_flowing_sand: Waiting for you to approve access in your browser… "
                "This window moves on by itself.",
                block_id=BlockId.CONNECT_STATUS,
            )
        )
    return _modal(snapshot, blocks)


def reconnected_view(snapshot: WizardSnapshot) -> dict[str, Any]:
    site = escape_mrkdwn(snapshot.connected_site or "")
    who = f" as *{escape_mrkdwn(snapshot.connected_account)}*" if snapshot.connected_account else ""
    name = escape_mrkdwn(snapshot.name or "the datastore")
    text = f"Reconnected to *{site}*{who} :white_check_mark: The sync of *{name}* resumes."
    return _modal(snapshot, [section(text, block_id=BlockId.CONNECTED)], close="Done")
