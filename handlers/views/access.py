"""Who sees a datastore's content, in the words every surface uses (search results, status, App Home): pure
functions of plain values. The connecting account's name comes from Atlassian, so it is escaped."""

from __future__ import annotations

from collections.abc import Sequence

from bot.datastores.queries import AccessChange, DatastoreInfo
from bot.states import AccessMode, AuditAction, AuditSource
from handlers.views.blocks import escape_mrkdwn, user_mention
from handlers.views.limits import clip_plain
from handlers.views.usage_limits import limit_value_words

__all__ = ["access_history", "access_line", "account_words"]

#: How much of an account or site name one line shows (UTF-16 units, before escaping).
ACCOUNT = 120
_MODE_WORDS = {AccessMode.EVERYONE.value: "everyone", AccessMode.EACH.value: "each person"}


def account_words(account_name: str | None, site: str) -> str:
    """The connecting account as mrkdwn: ``*Ada Lovelace*``, else the site's connecting account."""
    if account_name and account_name.strip():
        return f"*{escape_mrkdwn(clip_plain(account_name.strip(), ACCOUNT))}*"
    if site:
        return f"the account that connected *{escape_mrkdwn(clip_plain(site, ACCOUNT))}*"
    return "the account that connected it"


def access_line(info: DatastoreInfo) -> str:
    """``:eyes: Everyone in this workspace sees what *Ada Lovelace* can see in Confluence``."""
    if info.access_mode is AccessMode.EVERYONE:
        account = account_words(info.account_name, info.site)
        return f":eyes: Everyone in this workspace sees what {account} can see in Confluence"
    return ":lock: Each person sees only what they can see in Confluence"


def _value(raw: str | None) -> str:
    return _MODE_WORDS.get(raw or "", escape_mrkdwn(clip_plain(raw or "none", ACCOUNT)))


def _change(change: AccessChange) -> str:
    if change.actor_user_id:
        who = user_mention(change.actor_user_id)
    elif change.source == AuditSource.MIGRATION:
        who = "the upgrade that introduced access modes"
    elif change.source == AuditSource.CLI:
        who = "an operator (command line)"
    else:
        who = "the bot"
    if change.action == AuditAction.LIMIT:
        what = f"who may use it: {limit_value_words(change.old_value)} → {limit_value_words(change.new_value)}"
    elif change.old_value:
        what = f"{_value(change.old_value)} → {_value(change.new_value)}"
    else:
        what = _value(change.new_value)
    account = f" · named {account_words(change.account_name, '')}" if change.account_name else ""
    return f"• {change.at:%d %b %Y %H:%M} UTC · {what} · by {who}{account}"


def access_history(changes: Sequence[AccessChange]) -> str:
    """The latest access changes, newest first, one line each (mrkdwn)."""
    if not changes:
        return "Access changes: none recorded"
    return "Access changes (latest first):\n" + "\n".join(_change(change) for change in changes)
