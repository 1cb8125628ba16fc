"""The App Home tab: every datastore of the workspace with its menu, and a button that opens the wizard."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.datastores.queries import DatastoreInfo
from handlers.ids import SLASH_COMMAND, ActionId, BlockId, HomeMenuValue
from handlers.views.access import access_line
from handlers.views.blocks import context, escape_mrkdwn, header, option, plain, safe_url, section
from handlers.views.limits import VIEW_BYTES, json_size
from handlers.views.progress import STATUS_LABELS

__all__ = ["MAX_HOME_DATASTORES", "home_view"]

#: A home tab holds at most 100 blocks: one per datastore, plus the header, intro, notice and actions.
MAX_HOME_DATASTORES = 90


def _when(moment: datetime | None) -> str:
    return f"{moment:%d %b %H:%M} UTC" if moment else "not yet"


def _line(info: DatastoreInfo) -> str:
    status = STATUS_LABELS.get(info.status) or escape_mrkdwn(info.status)
    return (
        f"*{escape_mrkdwn(info.name)}* · {status}\nConfluence · {escape_mrkdwn(info.site)} · "
        f"{info.documents:,} documents · last sync {_when(info.last_sync)} · next {_when(info.next_sync)}\n"
        f"{access_line(info)}"
    )


def _menu(info: DatastoreInfo, thread_url: str | None) -> dict[str, Any]:
    """Sync now, Open thread (a link, when the thread is known) and Delete… for one datastore."""
    options = [option("Sync now", f"{HomeMenuValue.SYNC}:{info.id}")]
    link = safe_url(thread_url)
    if link is not None:
        options.append({**option("Open thread", f"{HomeMenuValue.THREAD}:{info.id}"), "url": link})
    options.append(option("Delete…", f"{HomeMenuValue.DELETE}:{info.id}"))
    return {"type": "overflow", "action_id": ActionId.HOME_DATASTORE_MENU, "options": options}


def _datastore_block(info: DatastoreInfo, thread_url: str | None) -> dict[str, Any]:
    block = section(_line(info), block_id=f"{BlockId.HOME_DATASTORE}-{info.id}")
    block["accessory"] = _menu(info, thread_url)
    return block


def home_view(
    datastores: list[DatastoreInfo], *, links: dict[int, str] | None = None, notice: str | None = None
) -> dict[str, Any]:
    """The home tab: what the bot does, an optional notice for this viewer (the answer to what they just
    clicked), "Create datastore", and the workspace's datastores, each with its menu."""
    links = links or {}
    if datastores:
        summary = f"This workspace has {len(datastores)} datastore{'s' if len(datastores) != 1 else ''}."
    else:
        summary = "No datastores yet. Create one to make a Confluence site searchable from Slack."
    blocks: list[dict[str, Any]] = [
        header("Datastore Bot"),
        section(
            "Connect a Confluence site, follow its sync in a thread, then search it from any channel with "
            f"`{SLASH_COMMAND} search NAME words`. `{SLASH_COMMAND} help` lists every command.\n\n{summary}"
        ),
    ]
    if notice:  # mrkdwn written by the handlers (untrusted parts escaped there); clipped by context()
        blocks.append(context(notice, block_id=BlockId.HOME_NOTICE))
    blocks.append(
        {
            "type": "actions",
            "block_id": BlockId.HOME_ACTIONS,
            "elements": [
                {
                    "type": "button",
                    "action_id": ActionId.HOME_CREATE,
                    "style": "primary",
                    "text": plain("Create datastore"),
                },
            ],
        }
    )
    rows = [_datastore_block(info, links.get(info.id)) for info in datastores[:MAX_HOME_DATASTORES]]
    budget = VIEW_BYTES - json_size(blocks) - 1000  # room for the view's own fields and the "…more" line
    while rows and json_size(rows) > budget:  # long non-ASCII names: fewer rows rather than a refused view
        rows = rows[: len(rows) * 9 // 10]
    blocks += rows
    if len(datastores) > len(rows):
        blocks.append(context(f"…and {len(datastores) - len(rows)} more: `{SLASH_COMMAND} list` shows all."))
    return {"type": "home", "blocks": blocks}
