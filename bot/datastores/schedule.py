"""How often a datastore resyncs: its own interval, or SYNC_INTERVAL_MINUTES when it has none."""

from __future__ import annotations

import re

from bot.errors import UserFacingError
from bot.jobs import reschedule_resyncs
from bot.services import Services
from bot.text_policy import refusal
from storage.models import Datastore

__all__ = ["MAX_MINUTES", "MIN_MINUTES", "describe_interval", "parse_interval", "set_interval"]

MIN_MINUTES = 15
MAX_MINUTES = 7 * 24 * 60
_DURATION = re.compile(r"(?:every\s*)?(\d+)\s*(m|min|mins|minutes?|h|hrs?|hours?|d|days?)", re.IGNORECASE)
_UNIT_MINUTES = {"m": 1, "h": 60, "d": 24 * 60}


def parse_interval(text: str) -> int | None:
    """Minutes from "90m", "6h", "1d" (or "every 6 hours"); None for "default". Refused with a clear message
    (also when it holds a hidden character, which strip() would otherwise make vanish)."""
    hidden = refusal(text, "interval")
    if hidden is not None:
        raise UserFacingError(hidden)
    cleaned = text.strip().lower()
    if cleaned in ("default", "reset"):
        return None
    match = _DURATION.fullmatch(cleaned)
    if match is None:
        shown = text if len(text) <= 40 else text[:40] + "…"
        raise UserFacingError(f"I can't read “{shown}” as an interval: say `90m`, `6h`, `1d` or `default`.")
    minutes = int(match.group(1)) * _UNIT_MINUTES[match.group(2)[0]]
    if not MIN_MINUTES <= minutes <= MAX_MINUTES:
        raise UserFacingError(f"Resync every {MIN_MINUTES} minutes at the most often, and at least once a week.")
    return minutes


def describe_interval(minutes: int) -> str:
    if minutes % (24 * 60) == 0:
        days = minutes // (24 * 60)
        return "every day" if days == 1 else f"every {days} days"
    if minutes % 60 == 0:
        hours = minutes // 60
        return "every hour" if hours == 1 else f"every {hours} hours"
    return f"every {minutes} minutes"


def set_interval(services: Services, *, datastore_id: int, minutes: int | None) -> int:
    """Store the datastore's interval (None: the default) and reschedule; returns the interval in effect."""
    with services.sessions.begin() as session:
        datastore = session.get(Datastore, datastore_id)
        if datastore is None:
            raise UserFacingError("That datastore no longer exists.")
        datastore.sync_interval_minutes = minutes
    reschedule_resyncs()
    return minutes or services.settings.sync_interval_minutes
