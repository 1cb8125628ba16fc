"""What per-person ("each") datastores answer beyond the common search message (issue #12 step 5): the
"Connect your Confluence account" prompt, the notice that some results could not be checked, and what "Share in
channel" posts: only title-free links and who shared them, never a title or a snippet. Pure functions."""

from __future__ import annotations

from typing import Any

from bot.datastores.queries import PersonAccess, SearchAnswer
from handlers.ids import ActionId, BlockId
from handlers.views.blocks import button, context, escape_mrkdwn, fallback, safe_url, section, user_mention

__all__ = [
    "NOT_SHOWN_WITHOUT_ACCESS",
    "UNCHECKED",
    "connect_message",
    "nothing_to_share_message",
    "shared_links_message",
    "unchecked_notice",
]

Message = dict[str, Any]
UNCHECKED = "I couldn't check your access to some results just now, so they are not shown — try again in a moment."
NOT_SHOWN_WITHOUT_ACCESS = "People without access in Confluence won't be able to open it."


def connect_message(answer: SearchAnswer) -> Message:
    """Ephemeral: the person must (re)link their Atlassian account before anything is searched as them."""
    name = escape_mrkdwn(answer.datastore.name)
    if answer.access is PersonAccess.RELINK:
        text = (
            f"Confluence no longer accepts your connected account, so nothing from *{name}* is shown. "
            "Connect your Confluence account again to search it."
        )
    else:
        text = (
            f"*{name}* shows each person only what they can see in Confluence. Connect your Confluence account "
            "once, then search again."
        )
    blocks: list[dict[str, Any]] = [section(text)]
    if safe_url(answer.connect_url) is not None:
        connect = button("Connect your Confluence account", ActionId.CONNECT_CONFLUENCE, url=answer.connect_url)
        connect["style"] = "primary"
        blocks.append({"type": "actions", "block_id": BlockId.PERSON_CONNECT_ACTIONS, "elements": [connect]})
    else:
        blocks.append(context("I couldn't make a connect link just now — try again in a moment."))
    return {"response_type": "ephemeral", "text": fallback(text), "blocks": blocks}


def unchecked_notice() -> dict[str, Any]:
    return context(f":warning: {UNCHECKED}", block_id=BlockId.SEARCH_UNCHECKED)


def nothing_to_share_message(answer: SearchAnswer) -> Message:
    """Ephemeral, to the sharer: none of the results could be confirmed as theirs to open just now."""
    name = escape_mrkdwn(answer.datastore.name)
    text = f"Nothing was shared: none of these results from *{name}* is one you can open in Confluence right now."
    blocks: list[dict[str, Any]] = [section(text)]
    if answer.unchecked:
        blocks.append(unchecked_notice())
    return {"response_type": "ephemeral", "replace_original": False, "text": fallback(text), "blocks": blocks}


def shared_links_message(answer: SearchAnswer, *, shared_by: str) -> Message:
    """In the channel: the links (Confluence's short tinyui links, no titles in them) and who shared them.
    Link previews are off, so Slack shows no title either."""
    links = [url for hit in answer.hits if (url := safe_url(answer.short_links.get(hit.document_id)))]
    name = escape_mrkdwn(answer.datastore.name)
    noun = "a page" if len(links) == 1 else f"{len(links)} pages"
    heading = f"{user_mention(shared_by)} shared {noun} from *{name}*:"
    shown = [f"<{url.replace('&', '&amp;')}>" for url in links]
    lines = "\n".join(f"• {url}" for url in shown)
    warning = NOT_SHOWN_WITHOUT_ACCESS if len(links) == 1 else NOT_SHOWN_WITHOUT_ACCESS.replace("it.", "them.")
    blocks: list[dict[str, Any]] = [section(f"{heading}\n{lines}"), context(f":lock: {warning}")]
    return {
        "response_type": "in_channel",
        "replace_original": False,
        "unfurl_links": False,
        "unfurl_media": False,
        "text": fallback(f"{heading} {' '.join(shown)}"),
        "blocks": blocks,
    }
