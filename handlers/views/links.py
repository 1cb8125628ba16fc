"""Messages about person links (issue #12): `/datastore unlink` and `/datastore linked NAME`. Pure functions.

Who is linked is shown as Slack mentions and Atlassian display names (escaped: a name is untrusted text), never
tokens and never e-mail addresses.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.access.people import LinkedPerson
from handlers.ids import SLASH_COMMAND
from handlers.views.blocks import escape_mrkdwn, fallback, section, user_mention
from handlers.views.limits import SECTION_TEXT, clip_plain

__all__ = ["LINKED_SHOWN", "linked_message", "unlink_message"]

#: People listed per message (one line each, a few sections); the rest are counted.
LINKED_SHOWN = 100
#: People per section, so no section goes beyond Slack's 3,000 characters.
PER_SECTION = 20
#: How much of an Atlassian display name is shown.
NAME_SHOWN = 80


def unlink_message(removed: int) -> dict[str, Any]:
    if removed == 0:
        text = "Your Confluence account was not linked here, so nothing changed."
    else:
        sites = "1 Confluence site" if removed == 1 else f"{removed} Confluence sites"
        text = (
            f"Done: your Slack account is no longer linked to your Atlassian account ({sites}). Searches of datastores "
            "that show each person what they can see will ask you to connect again."
        )
    return {"response_type": "ephemeral", "text": text}


def _line(person: LinkedPerson) -> str:
    name = escape_mrkdwn(clip_plain(person.account_name or "an Atlassian account", NAME_SHOWN))
    return f"• {user_mention(person.slack_user_id)} — {name}"


def linked_message(name: str, site: str, people: Sequence[LinkedPerson]) -> dict[str, Any]:
    shown_name, shown_site = escape_mrkdwn(name), escape_mrkdwn(site or "its site")
    if not people:
        text = (
            f"Nobody in this workspace has linked their Confluence account to {shown_site} for *{shown_name}* yet. "
            f"People are asked to when they search it; `{SLASH_COMMAND} unlink` removes a link."
        )
        return {"response_type": "ephemeral", "text": fallback(text), "blocks": [section(text)]}
    count = len(people)
    lead = f"*{count} {'person is' if count == 1 else 'people are'} linked to {shown_site}* for *{shown_name}*:"
    blocks = [section(lead)]
    listed = list(people[:LINKED_SHOWN])
    for start in range(0, len(listed), PER_SECTION):
        chunk = "\n".join(_line(person) for person in listed[start : start + PER_SECTION])
        blocks.append(section(chunk[:SECTION_TEXT]))
    if count > LINKED_SHOWN:
        blocks.append(section(f"…and {count - LINKED_SHOWN} more."))
    return {"response_type": "ephemeral", "text": fallback(lead), "blocks": blocks}
