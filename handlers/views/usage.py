"""Answers of /datastore list, status and search (pure functions of plain values)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from bot.datastores.queries import DatastoreInfo, SearchAnswer
from handlers.ids import SLASH_COMMAND, ActionId, BlockId
from handlers.views.blocks import button, context, escape_mrkdwn, section
from handlers.views.progress import STATUS_LABELS, progress_bar

__all__ = ["list_message", "search_message", "share_value", "status_message"]

Message = dict[str, Any]
MAX_LISTED = 45


def _when(moment: datetime | None) -> str:
    return f"{moment:%d %b %H:%M} UTC" if moment else "never"


def _badge(info: DatastoreInfo) -> str:
    return STATUS_LABELS.get(info.status, info.status)


def list_message(infos: list[DatastoreInfo]) -> Message:
    if not infos:
        text = f"No datastores in this workspace yet. Create one with `{SLASH_COMMAND} create`."
        return {"response_type": "ephemeral", "text": text, "blocks": [section(text)]}
    lines = [
        f"*{escape_mrkdwn(i.name)}* — Confluence · {escape_mrkdwn(i.site)} · {_badge(i)} · {i.documents:,} documents · "
        f"last sync {_when(i.last_sync)}"
        for i in infos[:MAX_LISTED]
    ]
    blocks = [section(line) for line in lines]
    if len(infos) > MAX_LISTED:
        blocks.append(context(f"…and {len(infos) - MAX_LISTED} more."))
    return {"response_type": "ephemeral", "text": "\n".join(lines), "blocks": blocks}


def status_message(info: DatastoreInfo, *, thread_link: str | None) -> Message:
    name = escape_mrkdwn(info.name)
    lines = [f"*{name}* — Confluence · {escape_mrkdwn(info.site)} · *{_badge(info)}*"]
    if info.status == "processing" and info.run_to_process:
        fraction = (info.run_processed + info.run_failed) / info.run_to_process
        lines.append(
            f"`{progress_bar(fraction)}` {info.run_processed:,} of {info.run_to_process:,} processed · "
            f"{info.run_failed:,} failed"
        )
    elif info.status in ("initializing", "syncing_metadata"):
        lines.append(f"Syncing Metadata… {info.run_found:,} pages found so far")
    lines.append(
        f"{info.documents:,} documents searchable · last sync {_when(info.last_sync)} · "
        f"next scheduled sync {_when(info.next_sync)}"
    )
    if info.status_detail:
        lines.append(f"Last problem: {escape_mrkdwn(info.status_detail)}")
    if thread_link:
        lines.append(f"<{thread_link}|Open its thread>")
    text = "\n".join(lines)
    return {"response_type": "ephemeral", "text": text, "blocks": [section(text)]}


def share_value(datastore_id: int, query: str) -> str:
    return json.dumps({"d": datastore_id, "q": query[:1500]}, separators=(",", ":"))


def search_message(answer: SearchAnswer, *, shared_by: str | None = None) -> Message:
    name, query = escape_mrkdwn(answer.datastore.name), escape_mrkdwn(answer.query)
    blocks: list[dict[str, Any]] = []
    if not answer.hits:
        text = f"No results for “{query}” in *{name}*."
        tips = ["Try fewer or different words", "check the spelling", "search for a word in the page's title"]
        if answer.syncing:
            tips.append("the sync is still running, so more pages become searchable soon")
        blocks = [section(text), context(" · ".join(tips) + f" · {answer.datastore.documents:,} documents searched")]
        return {"response_type": "ephemeral", "text": text, "blocks": blocks}
    heading = f"*{len(answer.hits)} result{'s' if len(answer.hits) != 1 else ''}* for “{query}” in *{name}*"
    if shared_by:
        heading += f" · shared by <@{shared_by}>"
    blocks.append(section(heading))
    if answer.syncing:
        total = max(answer.datastore.run_to_process, answer.datastore.documents)
        blocks.append(context(f"Searching {answer.datastore.documents:,} of ~{total:,} documents — sync in progress"))
    for hit in answer.hits:
        where = " · ".join(
            part for part in (hit.space_name or hit.space_key, f"updated {_when(hit.last_modified)}") if part
        )
        body = f"*<{hit.url}|{escape_mrkdwn(hit.title)}>*\n{where}\n>{hit.snippet}"
        blocks.append(section(body[:2900]))
    if shared_by is None:
        blocks.append(
            {
                "type": "actions",
                "block_id": BlockId.SEARCH_ACTIONS,
                "elements": [
                    button(
                        "Share in channel", ActionId.SHARE_RESULTS, value=share_value(answer.datastore.id, answer.query)
                    )
                ],
            }
        )
    text = f"{len(answer.hits)} results for “{answer.query}” in {answer.datastore.name}"
    return {"response_type": "in_channel" if shared_by else "ephemeral", "text": text, "blocks": blocks}
