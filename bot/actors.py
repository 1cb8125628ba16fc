"""Who is acting: one Slack user of one workspace, inside an Enterprise Grid organisation or not.

A user id alone names nobody: the same id can arrive from another workspace (or, on a forged or odd body,
with another organisation). Everything the bot looks up "by user" — a wizard, the consent link it issued,
the creator of a datastore, DATASTORE_ADMINS — is bound to the whole identity: team + enterprise + user.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TypeGuard

from storage.datastores import OPERATOR

__all__ = ["OPERATOR", "SLACK_ID", "Actor", "is_slack_id"]

#: Team (T…), enterprise (E…), user (U…/W…) and channel (C…/G…/D…) ids: upper-case letters and digits.
#: 32 characters is the width of every id column in the database.
SLACK_ID = re.compile(r"[A-Z0-9]{2,32}")


def is_slack_id(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and SLACK_ID.fullmatch(value) is not None


@dataclass(frozen=True)
class Actor:
    team_id: str
    user_id: str
    enterprise_id: str | None = None

    def same_as(self, *, team_id: str, user_id: str, enterprise_id: str | None) -> bool:
        """All three parts equal (no enterprise on one side and an enterprise on the other differ)."""
        return (self.team_id, self.enterprise_id, self.user_id) == (team_id, enterprise_id or None, user_id)

    def __str__(self) -> str:
        where = f"{self.enterprise_id}/{self.team_id}" if self.enterprise_id else self.team_id
        return f"{where}/{self.user_id}"
