"""`/datastore credits`: the balance, auto top-off and the ledger, and the modal that changes auto top-off."""

from __future__ import annotations

import json
from typing import Any

from bot.datastores.credits import CreditsOverview
from handlers.ids import ActionId, BlockId, CallbackId
from handlers.views.blocks import button, context, escape_mrkdwn, plain, section
from handlers.views.limits import MODAL_TEXT, clip_plain
from handlers.views.top_off import top_off_fields

__all__ = ["credits_message", "top_off_modal"]

#: How much of a datastore name or a ledger note one ledger line shows.
LEDGER_PART = 120
KINDS = {"grant": "Free credits", "top_off": "Auto top-off", "charge": "Sync", "manual": "Added"}


def _top_off_line(overview: CreditsOverview) -> str:
    top_off = overview.top_off
    if top_off is None:
        return "*Auto top-off:* off — a sync pauses when credits run out, and resumes when some are added."
    cap = (
        f" · at most {top_off.monthly_cap:,} a month ({overview.topped_off_this_month:,} added this month)"
        if top_off.monthly_cap
        else f" · no monthly cap ({overview.topped_off_this_month:,} added this month)"
    )
    return f"*Auto top-off:* when the balance drops below {top_off.threshold:,}, add {top_off.amount:,}{cap}"


def _ledger_lines(overview: CreditsOverview) -> str:
    lines = []
    for row in overview.ledger:
        entry = row.entry
        what = KINDS.get(entry.kind) or escape_mrkdwn(clip_plain(entry.kind, LEDGER_PART))
        if row.datastore:
            what += f" · {escape_mrkdwn(clip_plain(row.datastore, LEDGER_PART))}"
        if entry.kind == "charge" and entry.note:
            what += f" ({escape_mrkdwn(clip_plain(entry.note, LEDGER_PART))})"
        sign = "+" if entry.amount >= 0 else "−"
        lines.append(
            f"`{entry.created_at:%d %b %H:%M}` {sign}{abs(entry.amount):,} · {what} · balance {entry.balance_after:,}"
        )
    return "\n".join(lines) if lines else "No credits used or added yet."


def credits_message(overview: CreditsOverview, *, cost_per_page: int, change_refusal: str | None) -> dict[str, Any]:
    """The ephemeral answer; ``change_refusal`` is why this person cannot change auto top-off (None: they can)."""
    per_page = "one credit" if cost_per_page == 1 else f"{cost_per_page:,} credits"
    summary = f"*Ingestion credits:* {overview.balance:,} available. Each page synced uses {per_page}."
    blocks: list[dict[str, Any]] = [
        section(f"{summary}\n{_top_off_line(overview)}", block_id=BlockId.CREDITS_SUMMARY),
        section(f"*Latest entries*\n{_ledger_lines(overview)}", block_id=BlockId.CREDITS_LEDGER),
    ]
    if change_refusal is None:
        blocks.append(
            {
                "type": "actions",
                "block_id": BlockId.CREDITS_ACTIONS,
                "elements": [button("Change auto top-off", ActionId.CREDITS_CHANGE, value=overview.team_id)],
            }
        )
    else:
        blocks.append(context(change_refusal))
    return {"response_type": "ephemeral", "text": f"{overview.balance:,} ingestion credits available", "blocks": blocks}


def top_off_modal(overview: CreditsOverview) -> dict[str, Any]:
    intro = (
        f"*Balance:* {overview.balance:,} credits. Auto top-off adds credits when the balance runs low, so a sync "
        "does not stop halfway. Syncs paused for credits resume as soon as it is on."
    )
    return {
        "type": "modal",
        "callback_id": CallbackId.CREDITS_TOP_OFF,
        "private_metadata": json.dumps({"t": overview.team_id}),
        "title": plain("Auto top-off", MODAL_TEXT),
        "submit": plain("Save", MODAL_TEXT),
        "close": plain("Cancel", MODAL_TEXT),
        "blocks": [section(intro), *top_off_fields(overview.top_off, required=False)],
    }
