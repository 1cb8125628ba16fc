"""The sync thread's messages: the live progress reply, the completion reply, the parent's status line."""

from __future__ import annotations

from typing import Any

from bot.actors import OPERATOR
from bot.progress.snapshot import ProgressSnapshot
from bot.states import LISTING_PHASES, DatastoreStatus, PauseKind, RunOutcome, RunPhase, RunState
from handlers.ids import SLASH_COMMAND, ActionId, BlockId
from handlers.views import limits
from handlers.views.blocks import button, channel_mention, context, escape_mrkdwn, fallback, section, user_mention
from handlers.views.limits import clip_mrkdwn, clip_plain

__all__ = [
    "STATUS_LABELS",
    "completion_message",
    "duration_text",
    "failures_message",
    "parent_message",
    "progress_bar",
    "progress_message",
    "status_label",
    "thread_moved_note",
]

Message = dict[str, Any]
BAR_CELLS = 10
STATUS_LABELS: dict[str, str] = {
    DatastoreStatus.INITIALIZING: "Initializing",
    DatastoreStatus.SYNCING_METADATA: "Syncing Metadata",
    DatastoreStatus.PROCESSING: "Processing",
    DatastoreStatus.SYNCED: "Synced ✅",
    DatastoreStatus.PARTIALLY_SYNCED: "Partially Synced ⚠️",
    DatastoreStatus.FAILED: "Failed ❌",
    DatastoreStatus.PAUSED: "Paused ⏸️",
}
REACTIONS: dict[str, str] = {
    RunOutcome.SYNCED: "white_check_mark",
    RunOutcome.PARTIALLY_SYNCED: "warning",
    RunOutcome.FAILED: "x",
}
#: How much of one failure title and of one reason a message shows (UTF-16 units): each failure and the run's
#: reason fit in one section, however long Atlassian's descriptions are.
FAILURE_TITLE = 150
REASON = 600


def _reason(text: str) -> str:
    return clip_mrkdwn(escape_mrkdwn(text), REASON)


def progress_bar(fraction: float) -> str:
    filled = round(max(0.0, min(1.0, fraction)) * BAR_CELLS)
    return "▰" * filled + "▱" * (BAR_CELLS - filled) + f" {int(fraction * 100)}%"


def duration_text(seconds: float) -> str:
    whole = round(seconds)
    if whole < 60:
        return f"{whole}s"
    minutes, seconds = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes}m {seconds}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes}m"


def _paused_line(s: ProgressSnapshot) -> str:
    if s.pause_kind == PauseKind.CREDITS:
        return (
            f":double_vertical_bar: *Paused* — out of credits. Add some with `{SLASH_COMMAND} credits`; "
            "the sync resumes where it stopped."
        )
    if s.pause_kind == PauseKind.QUOTA and s.paused_until is not None:
        return (
            f":double_vertical_bar: *Paused* for Atlassian's hourly quota — resuming at {s.paused_until:%H:%M} UTC "
            "(it is shared by every workspace using this bot)."
        )
    if s.pause_kind == PauseKind.RATE_LIMIT and s.paused_until is not None:
        return f":double_vertical_bar: *Paused* — Confluence rate limit — resuming at {s.paused_until:%H:%M} UTC."
    if s.pause_kind == PauseKind.RECONNECT:
        why = escape_mrkdwn(s.reason) if s.reason else "The Confluence connection expired."
        return (
            f":double_vertical_bar: *Paused* — {why} Its creator or a workspace "
            "admin needs to connect Confluence again; the sync then resumes where it stopped."
        )
    return f":double_vertical_bar: *Paused* — {_reason(s.reason or 'waiting')}"


def _listing_and_processing(s: ProgressSnapshot) -> tuple[str, str]:
    """A one-pass sync, indexing pages as it lists them: its total is Confluence's estimate ("about N"), or
    unknown (no bar, a running count) when Confluence gave none; exact once every space is listed."""
    spaces = f"{s.spaces_done} of {s.spaces_total} spaces listed · " if s.spaces_total else ""
    detail = f"{spaces}{s.documents:,} documents searchable now"
    if s.to_process <= 0:
        return f"*Processing* {s.processed:,} pages so far · {s.failed:,} failed · {s.rate:,.0f} pages/s", detail
    total = max(s.to_process, s.processed + s.failed)  # an estimate the listing outgrew follows the count
    eta = f" · about {duration_text(s.eta_seconds)} left" if s.eta_seconds is not None else ""
    line = (
        f"*Processing* `{progress_bar(s.fraction)}` {s.processed:,} of about {total:,} · "
        f"{s.failed:,} failed · {s.rate:,.0f} pages/s{eta}"
    )
    return line, f"{detail} · the total is Confluence's estimate until every space is listed"


def progress_message(s: ProgressSnapshot) -> Message:
    """The reply kept updated while the run goes: indeterminate first, then a bar with rate and ETA."""
    name = escape_mrkdwn(s.name)
    if s.state == RunState.PAUSED:
        line = _paused_line(s)
        detail = f"{s.processed:,} of {s.to_process:,} pages processed · {s.documents:,} documents searchable now"
    elif s.waiting_for_permissions:
        read = max(0, s.documents - s.acl_waiting)
        line = f":hourglass_flowing_sand: *Checking who can see each page…* {read:,} of {s.documents:,} pages"
        detail = "Each person finds only the pages Confluence lets them see: the ✅ follows once these are read."
    elif s.state == RunState.FINISHED:
        label = STATUS_LABELS.get(s.outcome or "") or escape_mrkdwn(s.outcome or "")
        line = f"*{label}* — {s.processed:,} processed, {s.unchanged:,} unchanged, {s.failed:,} failed"
        detail = f"{s.documents:,} documents searchable · took {duration_text(s.duration_seconds)}"
    elif s.phase in LISTING_PHASES or s.state == RunState.QUEUED:
        phase = "Initializing" if s.phase == RunPhase.INITIALIZING or s.state == RunState.QUEUED else "Syncing Metadata"
        spaces = f"{s.spaces_done} of {s.spaces_total} spaces · " if s.spaces_total else ""
        found = "pages found" if s.lists_everything else "changed pages found"
        if not s.lists_everything and phase != "Initializing":
            phase = "Looking for changes"
        line = f":hourglass_flowing_sand: *{phase}…* {spaces}{s.found:,} {found}"
        detail = f"{s.documents:,} documents searchable now"
    elif s.total_estimated:
        line, detail = _listing_and_processing(s)
    else:
        eta = f" · about {duration_text(s.eta_seconds)} left" if s.eta_seconds is not None else ""
        line = (
            f"*Processing* `{progress_bar(s.fraction)}` {s.processed:,} of {s.to_process:,} · "
            f"{s.failed:,} failed · {s.rate:,.0f} pages/s{eta}"
        )
        detail = f"{s.documents:,} documents searchable now"
    text = fallback(f"{name}: {line}")
    blocks = [section(line, block_id=BlockId.PROGRESS), context(detail)]
    if s.state == RunState.PAUSED and s.pause_kind == PauseKind.RECONNECT:
        reconnect = button("Reconnect Confluence", ActionId.RECONNECT, value=str(s.datastore_id), style="primary")
        blocks.append({"type": "actions", "block_id": BlockId.PAUSED_ACTIONS, "elements": [reconnect]})
    return {"text": text, "blocks": blocks}


def _permissions_pending(s: ProgressSnapshot) -> list[dict[str, Any]]:
    """Announced after ACL_HOLD with pages whose permissions are still unread: say so, never promise them."""
    if s.acl_waiting <= 0:
        return []
    pages = f"{s.acl_waiting:,} page{'s' if s.acl_waiting != 1 else ''}"
    return [context(f"{pages} appear in per-person search once their permissions are read from Confluence.")]


def completion_message(s: ProgressSnapshot) -> Message:
    """The new reply that notifies the channel when a run ends."""
    name = escape_mrkdwn(s.name)
    took = duration_text(s.duration_seconds)
    blocks: list[dict[str, Any]]
    if s.outcome == RunOutcome.SYNCED:
        text = f"✅ *{name}* is ready — {s.documents:,} documents synced in {took}"
        blocks = [section(text), context(f'Search it from any channel: `{SLASH_COMMAND} search "{name}" your words`')]
        blocks += _permissions_pending(s)
    elif s.outcome == RunOutcome.PARTIALLY_SYNCED:
        # Counts only: a channel can hold people who should not learn a page's title (failures go by DM).
        text = f"⚠️ *{name}* is partly ready — {s.documents:,} synced, {s.failed:,} failed"
        detail = f"\n• {_reason(s.reason)}" if s.reason else ""
        blocks = [section(text + detail), *_permissions_pending(s)]
        if s.failed and s.creator_id != OPERATOR:
            blocks.append(context(f"{user_mention(s.creator_id)} gets the list of failed pages by DM."))
        elif s.failed:  # created with `datastore-bot create`: nobody in Slack to DM
            blocks.append(context("Created by an operator: nobody gets the list of failed pages by DM."))
        blocks.append(
            {
                "type": "actions",
                "block_id": BlockId.COMPLETION_ACTIONS,
                "elements": [button("Retry failed", ActionId.RETRY_SYNC, value=str(s.datastore_id))],
            }
        )
    else:
        text = f"❌ Sync of *{name}* failed: {_reason(s.reason or 'an unexpected error')}"
        blocks = [
            section(text),
            {
                "type": "actions",
                "block_id": BlockId.COMPLETION_ACTIONS,
                "elements": [button("Retry", ActionId.RETRY_SYNC, value=str(s.datastore_id), style="primary")],
            },
        ]
    return {"text": fallback(text), "blocks": blocks}


def failures_message(s: ProgressSnapshot) -> Message:
    """The pages a run could not sync, sent to the datastore's creator alone (the channel reply has counts)."""
    name = escape_mrkdwn(s.name)
    count = f"{s.failed:,} page{'s' if s.failed != 1 else ''}"
    text = f"The last sync of *{name}* could not sync {count}. Only you get this list:"
    blocks = [section(text)]
    blocks += [
        section(f"• *{escape_mrkdwn(clip_plain(title, FAILURE_TITLE))}*: {_reason(reason)}")
        for title, reason in s.failures
    ]
    more = s.failed - len(s.failures)
    tail = f"…and {more:,} more. " if more > 0 else ""
    blocks.append(context(f'{tail}They are tried again on the next sync, or now with `{SLASH_COMMAND} sync "{name}"`.'))
    return {"text": fallback(text), "blocks": blocks}


def parent_message(s: ProgressSnapshot, *, status: str) -> Message:
    """The channel message's status line: `📚 *eng-wiki* — Confluence · site · created by @x · Synced ✅ · …`."""
    line = (
        f":books: *{escape_mrkdwn(s.name)}* — Confluence · {escape_mrkdwn(s.site)} · created by "
        f"{user_mention(s.creator_id)} · {status}"
    )
    if s.finished_at is not None and s.state == RunState.FINISHED:
        line += f" · last sync {s.finished_at:%H:%M} UTC · {s.documents:,} documents"
    return {"text": fallback(line), "blocks": [section(line)]}


def reaction_for(outcome: str | None) -> str | None:
    return REACTIONS.get(outcome or "")


def status_label(s: ProgressSnapshot) -> str:
    """What the channel message's status line says now: the outcome once finished, else the phase."""
    key = (s.outcome or "") if s.state == RunState.FINISHED else s.phase
    return STATUS_LABELS.get(key) or escape_mrkdwn(key)


def thread_moved_note(s: ProgressSnapshot, *, channel_id: str | None, reason: str) -> Message:
    """Sent to the creator by DM when the thread cannot be (or no longer be) in its channel."""
    where = channel_mention(channel_id) if channel_id else "the channel"
    name = escape_mrkdwn(s.name)
    text = f"I can no longer post in {where} ({escape_mrkdwn(reason)}), so the sync of *{name}* continues here."
    return {"text": fallback(text), "blocks": [section(clip_mrkdwn(text, limits.SECTION_TEXT))]}
