"""Answers of /datastore list, status and search (pure functions of plain values)."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.datastores.queries import AccessChange, DatastoreInfo, PersonAccess, SearchAnswer, SearchHit
from bot.datastores.schedule import describe_interval
from bot.states import DatastoreStatus
from bot.text_policy import MAX_QUERY_CHARS, clean_query, displayable
from handlers.ids import SLASH_COMMAND, ActionId, BlockId
from handlers.views.access import access_history, access_line
from handlers.views.blocks import button, context, escape_mrkdwn, fallback, link, section, user_mention
from handlers.views.limits import BUTTON_VALUE, clip_mrkdwn, clip_plain, utf16_length
from handlers.views.person_search import connect_message, unchecked_notice
from handlers.views.progress import STATUS_LABELS, progress_bar

__all__ = ["list_message", "read_share_value", "search_message", "share_value", "status_message"]

Message = dict[str, Any]
MAX_LISTED = 45
#: How much of an echoed query, a title or a problem description one message shows (UTF-16 units).
ECHOED_QUERY = 300
TITLE = 250
SNIPPET = 1500
PROBLEM = 1000
_LOOSE_AMPERSAND = re.compile(r"&(?!(?:amp|lt|gt);)")


def _when(moment: datetime | None) -> str:
    return f"{moment:%d %b %H:%M} UTC" if moment else "never"


def _badge(info: DatastoreInfo) -> str:
    return STATUS_LABELS.get(info.status) or escape_mrkdwn(info.status)


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
    return {"response_type": "ephemeral", "text": fallback("\n".join(lines)), "blocks": blocks}


def status_message(info: DatastoreInfo, *, thread_link: str | None, history: Sequence[AccessChange] = ()) -> Message:
    """A datastore's state, who sees its content, and its latest access changes (counts only, no titles)."""
    name = escape_mrkdwn(info.name)
    lines = [f"*{name}* — Confluence · {escape_mrkdwn(info.site)} · *{_badge(info)}*", access_line(info)]
    if info.status == DatastoreStatus.PROCESSING and info.run_to_process:
        fraction = (info.run_processed + info.run_failed) / info.run_to_process
        lines.append(
            f"`{progress_bar(fraction)}` {info.run_processed:,} of {info.run_to_process:,} processed · "
            f"{info.run_failed:,} failed"
        )
    elif info.status in (DatastoreStatus.INITIALIZING, DatastoreStatus.SYNCING_METADATA):
        lines.append(f"Syncing Metadata… {info.run_found:,} pages found so far")
    lines.append(
        f"{info.documents:,} documents searchable · last sync {_when(info.last_sync)} · "
        f"next scheduled sync {_when(info.next_sync)}"
    )
    lines.append(
        f"Deleted pages are found by a resync that lists every page, {describe_interval(info.deletion_minutes)} "
        f"(last {_when(info.deletions_checked)}), and by every `--full` sync"
    )
    if info.status_detail:
        lines.append(f"Last problem: {clip_mrkdwn(escape_mrkdwn(info.status_detail), PROBLEM)}")
    if thread_link:
        lines.append(link(thread_link, "Open its thread"))
    text = "\n".join(lines)
    blocks = [section(text), context(access_history(history), block_id=BlockId.ACCESS_HISTORY)]
    return {"response_type": "ephemeral", "text": fallback(text), "blocks": blocks}


def share_value(datastore_id: int, query: str) -> str:
    """The "Share in channel" button's value: the datastore and the query, as compact JSON that keeps
    non-ASCII as it is (a CJK character is 1 UTF-16 unit there, not the 6 of ``\\uXXXX``).

    Why not a server-side id: the value is the whole state, so sharing works after a restart, from any
    process, with no table to write on every search or to clean up. It fits because a query is at most
    ``MAX_QUERY_CHARS`` (500) characters once cleaned (the search itself uses at most 16 words of 64): even
    all quotes or all emoji that is about 1,000 units, half of Slack's 2,000. Should it not fit anyway, the
    query is shortened until it does."""
    text = clean_query(query).text
    while True:
        value = json.dumps({"d": datastore_id, "q": text}, ensure_ascii=False, separators=(",", ":"))
        if utf16_length(value) <= BUTTON_VALUE or not text:
            return value
        text = text[: len(text) * 3 // 4]


def read_share_value(value: object) -> tuple[int, str] | None:
    """``(datastore id, query)`` from a value :func:`share_value` wrote; None for anything else."""
    if not isinstance(value, str) or utf16_length(value) > BUTTON_VALUE:
        return None
    try:
        data = json.loads(value)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or set(data) != {"d", "q"}:
        return None
    datastore_id, query = data["d"], data["q"]
    if isinstance(datastore_id, bool) or not isinstance(datastore_id, int) or not 0 < datastore_id < 2**31:
        return None
    return (datastore_id, query) if isinstance(query, str) else None


def _settled_snippet(snippet: str) -> str:
    """A snippet is escaped mrkdwn (storage.search); make sure of it: a stray ``<`` or ``>`` or a bare
    ``&`` is escaped, existing entities stay, and it is shortened."""
    shown = _LOOSE_AMPERSAND.sub("&amp;", displayable(snippet, newlines=False))
    return clip_mrkdwn(shown.replace("<", "&lt;").replace(">", "&gt;"), SNIPPET)


def _hit_block(hit: SearchHit) -> dict[str, Any]:
    space = escape_mrkdwn(clip_plain(hit.space_name or hit.space_key or "", TITLE))
    where = " · ".join(part for part in (space, f"updated {_when(hit.last_modified)}") if part)
    title = link(hit.url, clip_plain(hit.title, TITLE))
    return section(f"*{title}*\n{where}\n>{_settled_snippet(hit.snippet)}")


def search_message(answer: SearchAnswer, *, shared_by: str | None = None) -> Message:
    """The answer to a search (ephemeral), or the results shared in the channel (an "everyone" datastore only:
    a per-person share posts handlers.views.person_search.shared_links_message instead)."""
    if answer.access is not PersonAccess.SEARCHED:
        return connect_message(answer)
    name = escape_mrkdwn(answer.datastore.name)
    unchecked = [unchecked_notice()] if answer.unchecked else []
    query = escape_mrkdwn(clip_plain(answer.query, ECHOED_QUERY))
    blocks: list[dict[str, Any]] = []
    shortened = (
        [context(f"Your query was long: only its first {MAX_QUERY_CHARS} characters were searched.")]
        if answer.shortened
        else []
    )
    if not answer.hits:
        text = f"No results for “{query}” in *{name}*."
        tips = ["Try fewer or different words", "check the spelling", "search for a word in the page's title"]
        if answer.syncing:
            tips.append("the sync is still running, so more pages become searchable soon")
        # Per person, how many documents there are is not how many they may see: no count then.
        documents = "" if answer.per_person else f" · {answer.datastore.documents:,} documents searched"
        access = context(access_line(answer.datastore), block_id=BlockId.SEARCH_ACCESS)
        blocks = [section(text), access, *unchecked, *shortened, context(" · ".join(tips) + documents)]
        return {"response_type": "ephemeral", "text": fallback(text), "blocks": blocks}
    count = f"{len(answer.hits)} result{'s' if len(answer.hits) != 1 else ''}"
    heading = f"*{count}* for “{query}” in *{name}*"
    if shared_by:
        heading += f" · shared by {user_mention(shared_by)}"
    blocks.append(section(heading))
    blocks.append(context(access_line(answer.datastore), block_id=BlockId.SEARCH_ACCESS))
    blocks += unchecked
    blocks += shortened
    if answer.syncing:
        total = max(answer.datastore.run_to_process, answer.datastore.documents)
        blocks.append(context(f"Searching {answer.datastore.documents:,} of ~{total:,} documents — sync in progress"))
    blocks += [_hit_block(hit) for hit in answer.hits]
    if shared_by is None:
        share = button("Share in channel", ActionId.SHARE_RESULTS, value=share_value(answer.datastore.id, answer.query))
        blocks.append({"type": "actions", "block_id": BlockId.SEARCH_ACTIONS, "elements": [share]})
    text = fallback(f"{count} for “{query}” in {name}")
    return {"response_type": "in_channel" if shared_by else "ephemeral", "text": text, "blocks": blocks}
