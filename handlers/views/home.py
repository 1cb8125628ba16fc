"""The App Home tab."""

from __future__ import annotations

from typing import Any

from handlers.ids import SLASH_COMMAND, ActionId, BlockId

__all__ = ["home_view"]


def home_view(*, datastore_count: int) -> dict[str, Any]:
    """The home tab: what the bot does and a button that opens the create wizard."""
    if datastore_count == 0:
        summary = "No datastores yet. Create one to make a Confluence site searchable from Slack."
    else:
        summary = f"This workspace has {datastore_count} datastore{'s' if datastore_count != 1 else ''}."
    return {
        "type": "home",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": "Datastore Bot"}},
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": "Connect a Confluence site and follow its sync in a thread. "
                    f"Type `{SLASH_COMMAND} help` in any channel for every command.\n\n{summary}",
                },
            },
            {
                "type": "actions",
                "block_id": BlockId.HOME_ACTIONS,
                "elements": [
                    {
                        "type": "button",
                        "action_id": ActionId.HOME_CREATE,
                        "style": "primary",
                        "text": {"type": "plain_text", "text": "Create datastore"},
                    }
                ],
            },
        ],
    }
