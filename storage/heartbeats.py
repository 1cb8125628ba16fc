"""Heartbeats of long-running loops (never commits): each loop of each process beats its own row."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select, tuple_
from sqlalchemy.orm import Session

from storage.db import upsert_into
from storage.models import Heartbeat

__all__ = ["beat", "forget_beats_before", "last_beats"]


def beat(session: Session, *, component: str, owner: str, now: datetime, detail: str | None = None) -> None:
    values = {"component": component, "owner": owner, "beat_at": now, "detail": (detail or "")[:255] or None}
    statement = upsert_into(session, Heartbeat).values(**values)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["component", "owner"], set_={"beat_at": now, "detail": values["detail"]}
        )
    )


def last_beats(session: Session, *, loops: Sequence[tuple[str, str]]) -> dict[tuple[str, str], datetime]:
    """When each (component, owner) last beat; a loop that never beat is missing from the answer."""
    if not loops:
        return {}
    rows = session.execute(
        select(Heartbeat.component, Heartbeat.owner, Heartbeat.beat_at).where(
            tuple_(Heartbeat.component, Heartbeat.owner).in_(list(loops))
        )
    )
    return {(component, owner): beat_at for component, owner, beat_at in rows}


def forget_beats_before(session: Session, *, before: datetime) -> None:
    """Drop the heartbeats of processes long gone (each `serve` start beats under new owners)."""
    session.execute(delete(Heartbeat).where(Heartbeat.beat_at < before))
