"""The channel message a new datastore gets, and the first threaded reply under it."""

from __future__ import annotations

from typing import Any

from bot.wizard.finish import CreatedDatastore
from handlers.views.blocks import channel_mention, context, escape_mrkdwn, fallback, section, user_mention
from handlers.views.limits import clip_plain

__all__ = ["announcement_message", "first_progress_reply", "not_posted_dm"]

Message = dict[str, Any]
#: How much of one space name the announcement lists (ten of them, and "and N more", fit one context).
SPACE_NAME = 150


def _status_line(created: CreatedDatastore, creator_id: str, status: str) -> str:
    name, site = escape_mrkdwn(created.name), escape_mrkdwn(created.site)
    return f":books: *{name}* — Confluence · {site} · created by {user_mention(creator_id)} · {status}"


def announcement_message(created: CreatedDatastore, *, creator_id: str, status: str = "Initializing") -> Message:
    """The parent message in the channel; its status line is kept current as the datastore changes."""
    line = _status_line(created, creator_id, status)
    names = [escape_mrkdwn(clip_plain(name, SPACE_NAME)) for name in created.space_names[:10]]
    scope = "all content" if created.share_all else ", ".join(names)
    if not created.share_all and len(created.space_names) > 10:
        scope += f" and {len(created.space_names) - 10} more"
    account = f" as {escape_mrkdwn(created.account)}" if created.account else ""
    return {
        "text": fallback(line),
        "blocks": [section(line), context(f"Syncing {scope} from {escape_mrkdwn(created.site)}{account}.")],
    }


def first_progress_reply(created: CreatedDatastore) -> Message:
    """The threaded reply that the progress job keeps updated until the sync is done."""
    name = escape_mrkdwn(created.name)
    text = f":hourglass_flowing_sand: *Initializing* — the first sync of *{name}* starts in a moment."
    return {
        "text": fallback(text),
        "blocks": [
            section(text),
            context("Progress shows here. Documents become searchable as soon as they are processed."),
        ],
    }


def not_posted_dm(created: CreatedDatastore, *, channel_id: str | None, reason: str) -> Message:
    """Sent to the creator by DM when the channel would not take the announcement."""
    where = channel_mention(channel_id) if channel_id else "the channel"
    text = (
        f"I could not post about *{escape_mrkdwn(created.name)}* in {where} ({escape_mrkdwn(reason)}). "
        f"Invite me there with `/invite @Datastore Bot` to follow the sync in the channel; meanwhile it is here."
    )
    return {"text": fallback(text), "blocks": [section(text)]}
