"""The app's Atlassian points, spent per UTC hour by every process together (never commits).

Atlassian's quota for a 3LO app is hourly, shared by all its tenants and reset at the top of each UTC hour with
no carry-over. One row per hour counts what every process of the bot has drawn; a process claims points in
small chunks (bot/confluence/shared_budget.py), so a restart, or a second process, draws from the same count.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, delete, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage.db import upsert_into
from storage.models import Base

__all__ = ["PointsWindow", "charge_points", "claim_points", "points_spent", "prune_windows", "raise_points"]


class PointsWindow(Base):
    __tablename__ = "points_windows"

    window_start: Mapped[datetime] = mapped_column(primary_key=True)  # the UTC hour
    spent: Mapped[int] = mapped_column(BigInteger, default=0)  # points claimed by every process this hour


def _ensure(session: Session, window: datetime) -> None:
    insert = upsert_into(session, PointsWindow).values(window_start=window, spent=0)
    session.execute(insert.on_conflict_do_nothing(index_elements=["window_start"]))


def claim_points(session: Session, *, window: datetime, points: int, limit: int) -> bool:
    """Add ``points`` to the hour's count if it stays within ``limit``; exactly one of racing claims that would
    both cross it wins (a conditional UPDATE)."""
    _ensure(session, window)
    result = session.execute(
        update(PointsWindow)
        .where(PointsWindow.window_start == window, PointsWindow.spent + points <= limit)
        .values(spent=PointsWindow.spent + points)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


def charge_points(session: Session, *, window: datetime, points: int) -> None:
    """Add ``points`` whatever the limit (objects Atlassian counted after the request was made)."""
    _ensure(session, window)
    session.execute(
        update(PointsWindow)
        .where(PointsWindow.window_start == window)
        .values(spent=PointsWindow.spent + points)
        .execution_options(synchronize_session=False)
    )


def raise_points(session: Session, *, window: datetime, at_least: int) -> None:
    """The hour's count is at least ``at_least`` (what Atlassian's own headers say the app has used)."""
    _ensure(session, window)
    session.execute(
        update(PointsWindow)
        .where(PointsWindow.window_start == window, PointsWindow.spent < at_least)
        .values(spent=at_least)
        .execution_options(synchronize_session=False)
    )


def points_spent(session: Session, *, window: datetime) -> int:
    return int(session.scalar(select(PointsWindow.spent).where(PointsWindow.window_start == window)) or 0)


def prune_windows(session: Session, *, before: datetime) -> None:
    """Forget the hours before ``before`` (a day of them is plenty to read back)."""
    session.execute(delete(PointsWindow).where(PointsWindow.window_start < before))
