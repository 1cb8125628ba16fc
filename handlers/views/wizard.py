"""Views of the /datastore create wizard (one pure function per step)."""

from __future__ import annotations

from typing import Any

from handlers.ids import ActionId, BlockId, CallbackId, MethodValue

__all__ = ["MAX_NAME_LENGTH", "WIZARD_TITLE", "name_step_view"]

WIZARD_TITLE = "Create datastore"
MAX_NAME_LENGTH = 64
STEP_COUNT = 5


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": True}


def _step_context(number: int, label: str) -> dict[str, Any]:
    return {
        "type": "context",
        "block_id": BlockId.WIZARD_STEP,
        "elements": [{"type": "mrkdwn", "text": f"Step {number} of {STEP_COUNT} · *{label}*"}],
    }


def name_step_view(*, private_metadata: str, name: str = "") -> dict[str, Any]:
    """Step 1, "Set data source name & type": the name and the (single) connection method."""
    method_option = {
        "text": _plain("Third-Party Connection"),
        "description": _plain("Connect Confluence Cloud and keep it in sync"),
        "value": MethodValue.THIRD_PARTY,
    }
    name_input: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": ActionId.NAME_INPUT,
        "max_length": MAX_NAME_LENGTH,
        "placeholder": _plain("e.g. eng-wiki"),
    }
    if name:
        name_input["initial_value"] = name[:MAX_NAME_LENGTH]
    return {
        "type": "modal",
        "callback_id": CallbackId.WIZARD_NAME,
        "notify_on_close": True,
        "private_metadata": private_metadata,
        "title": _plain(WIZARD_TITLE),
        "submit": _plain("Next"),
        "close": _plain("Cancel"),
        "blocks": [
            _step_context(1, "Set data source name & type"),
            {
                "type": "input",
                "block_id": BlockId.NAME,
                "label": _plain("Name"),
                "hint": _plain("Unique in this workspace. Letters, digits, spaces, - _ and . — up to 64."),
                "element": name_input,
            },
            {
                "type": "input",
                "block_id": BlockId.METHOD,
                "label": _plain("Method"),
                "element": {
                    "type": "radio_buttons",
                    "action_id": ActionId.METHOD_SELECT,
                    "options": [method_option],
                    "initial_option": method_option,
                },
            },
            {
                "type": "context",
                "block_id": BlockId.SOURCE,
                "elements": [{"type": "mrkdwn", "text": "Source: *Confluence* (Atlassian Cloud)"}],
            },
        ],
    }
