"""How often a datastore resyncs (its own interval, or SYNC_INTERVAL_MINUTES when it has none), and how often
a resync lists every id to find deleted pages (the deletion check: its own interval, or once a day)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.errors import UserFacingError
from bot.jobs import reschedule_resyncs
from bot.services import Services
from bot.sync.resync import DEFAULT_DELETION_MINUTES
from bot.text_policy import refusal
from storage.models import Datastore

__all__ = [
    "DELETIONS_MAX_MINUTES",
    "DELETIONS_MIN_MINUTES",
    "MAX_MINUTES",
    "MIN_MINUTES",
    "UNCHANGED",
    "Schedule",
    "describe_interval",
    "parse_deletion_interval",
    "parse_interval",
    "set_schedule",
]

MIN_MINUTES = 15
MAX_MINUTES = 7 * 24 * 60
#: The deletion check lists every id (about one Atlassian point per page): at most hourly, at least monthly.
DELETIONS_MIN_MINUTES = 60
DELETIONS_MAX_MINUTES = 30 * 24 * 60
_DURATION = re.compile(r"(?:every\s*)?(\d+)\s*(m|min|mins|minutes?|h|hrs?|hours?|d|days?)", re.IGNORECASE)
_UNIT_MINUTES = {"m": 1, "h": 60, "d": 24 * 60}


def parse_interval(text: str) -> int | None:
    """Minutes from "90m", "6h", "1d" (or "every 6 hours"); None for "default". Refused with a clear message
    (also when it holds a hidden character, which strip() would otherwise make vanish)."""
    minutes = _minutes(text)
    if minutes is not None and not MIN_MINUTES <= minutes <= MAX_MINUTES:
        raise UserFacingError(f"Resync every {MIN_MINUTES} minutes at the most often, and at least once a week.")
    return minutes


def parse_deletion_interval(text: str) -> int | None:
    """Like :func:`parse_interval`, for the deletion check: between an hour and 30 days."""
    minutes = _minutes(text)
    if minutes is not None and not DELETIONS_MIN_MINUTES <= minutes <= DELETIONS_MAX_MINUTES:
        raise UserFacingError(
            "Check for deleted pages every hour at the most often, and at least every 30 days: each check lists "
            "every page again."
        )
    return minutes


def _minutes(text: str) -> int | None:
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
    if len(match.group(1)) > 6:
        raise UserFacingError("That interval is far too long: say `90m`, `6h`, `1d` or `default`.")
    return int(match.group(1)) * _UNIT_MINUTES[match.group(2)[0]]


def describe_interval(minutes: int) -> str:
    if minutes % (24 * 60) == 0:
        days = minutes // (24 * 60)
        return "every day" if days == 1 else f"every {days} days"
    if minutes % 60 == 0:
        hours = minutes // 60
        return "every hour" if hours == 1 else f"every {hours} hours"
    return f"every {minutes} minutes"


@dataclass(frozen=True)
class Schedule:
    """The intervals in effect after a change, in minutes, and whether each is the default."""

    resync: int
    resync_default: bool
    deletions: int
    deletions_default: bool

    def describe(self) -> str:
        resync = describe_interval(self.resync) + (" (the default)" if self.resync_default else "")
        check = describe_interval(self.deletions) + (" (the default)" if self.deletions_default else "")
        return f"resyncs {resync}; checks for pages deleted in Confluence {check} and on every `--full` sync"


#: Leave an interval as it is (set_schedule changes only the ones given).
UNCHANGED: object = object()


def set_schedule(
    services: Services,
    *,
    datastore_id: int,
    resync: int | object | None = UNCHANGED,
    deletions: int | object | None = UNCHANGED,
) -> Schedule:
    """Store the datastore's intervals (None: the default; UNCHANGED: as it is) and reschedule."""
    with services.sessions.begin() as session:
        datastore = session.get(Datastore, datastore_id)
        if datastore is None:
            raise UserFacingError("That datastore no longer exists.")
        if resync is not UNCHANGED:
            datastore.sync_interval_minutes = resync  # type: ignore[assignment]
        if deletions is not UNCHANGED:
            datastore.deletion_interval_minutes = deletions  # type: ignore[assignment]
        own_resync, own_deletions = datastore.sync_interval_minutes, datastore.deletion_interval_minutes
    reschedule_resyncs()
    return Schedule(
        resync=own_resync or services.settings.sync_interval_minutes,
        resync_default=own_resync is None,
        deletions=own_deletions or DEFAULT_DELETION_MINUTES,
        deletions_default=own_deletions is None,
    )
