"""Read who is acting (team + enterprise + user) out of a Slack request body, the same way for every kind.

Where Slack puts each part:

* slash commands (form fields): ``team_id``, ``user_id``, and ``enterprise_id`` in an Enterprise Grid org;
* interactivity (``block_actions``, ``block_suggestion``, ``view_submission``, ``view_closed``): ``user.id``,
  ``user.team_id`` (the workspace the person acts in; ``team`` may be null for org-wide installs, so it is
  the first choice) or ``team.id``, and the org in ``enterprise.id`` (an object, null outside Grid) or
  ``team.enterprise_id``.

Anything else (a missing part, an id that is not an id) gives no actor at all: the caller refuses quietly.
"""

from __future__ import annotations

from typing import Any

from bot.actors import Actor, is_slack_id

__all__ = ["actor_of"]


def _enterprise(body: dict[str, Any]) -> tuple[bool, str | None]:
    """(readable, enterprise id or None). A present but unreadable enterprise makes the body unreadable."""
    candidates: list[object] = []
    enterprise = body.get("enterprise")
    candidates.append(enterprise.get("id") if isinstance(enterprise, dict) else enterprise)
    candidates.append(body.get("enterprise_id"))
    team = body.get("team")
    if isinstance(team, dict):
        candidates.append(team.get("enterprise_id"))
    for candidate in candidates:
        if candidate is None or candidate == "":
            continue
        return (True, candidate) if is_slack_id(candidate) else (False, None)
    return True, None


def actor_of(body: dict[str, Any]) -> Actor | None:
    """The acting identity of a slash command or an interactivity payload; None when it cannot be read."""
    user = body.get("user")
    if isinstance(user, dict):
        user_id: object = user.get("id")
        team = body.get("team")
        team_id: object = user.get("team_id") or (team.get("id") if isinstance(team, dict) else None)
    else:
        user_id, team_id = body.get("user_id"), body.get("team_id")
    readable, enterprise_id = _enterprise(body)
    if not (readable and is_slack_id(user_id) and is_slack_id(team_id)):
        return None
    assert isinstance(user_id, str) and isinstance(team_id, str)
    return Actor(team_id=team_id, user_id=user_id, enterprise_id=enterprise_id)
