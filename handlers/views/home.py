"""The App Home tab: every datastore of the workspace, and a button that opens the create wizard."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.datastores.queries import DatastoreInfo
from handlers.ids import SLASH_COMMAND, ActionId, BlockId
from handlers.views.blocks import context, escape_mrkdwn, section
from handlers.views.progress import STATUS_LABELS

__all__ = ["MAX_HOME_DATASTORES", "home_view"]

#: A home tab holds at most 100 blocks: one per datastore, plus the header, intro and actions.
MAX_HOME_DATASTORES = 90


def _when(moment: datetime | None) -> str:
    return f"{moment:%d %b %H:%M} UTC" if moment else "not yet"


def _line(info: DatastoreInfo) -> str:
    status = STATUS_LABELS.get(info.status, info.status)
    return (
        f"*{escape_mrkdwn(info.name)}* · {status}\nConfluence · {escape_mrkdwn(info.site)} · "
        f"{info.documents:,} documents · last sync {_when(info.last_sync)} · next {_when(info.next_sync)}"
    )


def home_view(datastores: list[DatastoreInfo]) -> dict[str, Any]:
    """The home tab: what the bot does, the workspace's datastores, and "Create datastore"."""
    if datastores:
        summary = f"This workspace has {len(datastores)} datastore{'s' if len(datastores) != 1 else ''}."
    else:
        summary = "No datastores yet. Create one to make a Confluence site searchable from Slack."
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": "Datastore Bot"}},
        section(
            "Connect a Confluence site, follow its sync in a thread, then search it from any channel with "
            f"`{SLASH_COMMAND} search NAME words`. `{SLASH_COMMAND} help` lists every command.\n\n{summary}"
        ),
        {
            "type": "actions",
            "block_id": BlockId.HOME_ACTIONS,
            "elements": [
                {
                    "type": "button",
                    "action_id": ActionId.HOME_CREATE,
                    "style": "primary",
                    "text": {"type": "plain_text", "text": "Create datastore"},
                },
            ],
        },
    ]
    blocks += [section(_line(info)) for info in datastores[:MAX_HOME_DATASTORES]]
    if len(datastores) > MAX_HOME_DATASTORES:
        blocks.append(context(f"…and {len(datastores) - MAX_HOME_DATASTORES} more: `{SLASH_COMMAND} list` shows all."))
    return {"type": "home", "blocks": blocks}
