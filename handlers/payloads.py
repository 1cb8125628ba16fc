"""Reading the bot's own values back out of a Slack payload: button values, menu choices, private_metadata.

The gate (bot/slack_gate.py) has checked the envelope (who, which team, which action); what the bot itself put
in a value or in ``private_metadata`` comes back as text and is parsed here, strictly: anything that is not
what the bot writes reads as ``None``, and the listener answers that cleanly instead of raising.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["action_value", "datastore_id", "metadata_object", "team_id_of"]

#: Datastore ids are positive 32-bit integers (the column's type on PostgreSQL).
MAX_DATASTORE_ID = 2**31 - 1
_DECIMAL = re.compile(r"[1-9][0-9]{0,9}")


def team_id_of(body: dict[str, Any]) -> str:
    """The workspace of an interactive payload (the gate guarantees one of the two)."""
    return str((body.get("user") or {}).get("team_id") or (body.get("team") or {}).get("id") or "")


def action_value(body: dict[str, Any]) -> str | None:
    """The first action's button value or selected option's value."""
    actions = body.get("actions") or [{}]
    action = actions[0] if isinstance(actions[0], dict) else {}
    selected = action.get("selected_option")
    value = selected.get("value") if isinstance(selected, dict) else action.get("value")
    return value if isinstance(value, str) else None


def datastore_id(value: object) -> int | None:
    """A datastore id the bot wrote (``"42"`` or 42), or None for anything else ("4.2", "-1", "", 10**20)."""
    if isinstance(value, bool):
        return None
    text = str(value) if isinstance(value, int) else value
    if not isinstance(text, str) or _DECIMAL.fullmatch(text) is None:
        return None
    number = int(text)
    return number if number <= MAX_DATASTORE_ID else None


def metadata_object(private_metadata: object) -> dict[str, Any] | None:
    """``private_metadata`` the bot wrote as a JSON object ({} when empty or absent); None when it is anything
    else (not a string, not JSON, a list…)."""
    if private_metadata is None or private_metadata == "":
        return {}
    if not isinstance(private_metadata, str):
        return None
    try:
        data = json.loads(private_metadata)
    except (ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None
