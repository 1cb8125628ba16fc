"""Finding the datastore a command names, with the refusal made safe to show in Slack."""

from __future__ import annotations

from bot.datastores.queries import DatastoreInfo, Queries
from bot.errors import UserFacingError
from handlers.views.blocks import escape_mrkdwn
from handlers.views.limits import FALLBACK_TEXT, clip_mrkdwn

__all__ = ["find_datastore", "shown_error"]


def shown_error(error: UserFacingError) -> str:
    """A core service's message as mrkdwn: it may echo what was typed (a name, an interval), so all of it is
    escaped; its ``*bold*`` and `code` stay, since they are not escapes."""
    return clip_mrkdwn(escape_mrkdwn(str(error)), FALLBACK_TEXT)


def find_datastore(queries: Queries, team_id: str, name: str) -> DatastoreInfo:
    """The datastore named ``name`` in the workspace; "There is no datastore named …" otherwise, escaped."""
    try:
        return queries.find(team_id, name)
    except UserFacingError as exc:
        raise UserFacingError(shown_error(exc)) from None
