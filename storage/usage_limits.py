"""Who may use a datastore at all (issue #12 item 5): no row means everyone in the workspace; a row limits
search and share to listed channels, or to the members of one Slack user group (never commits)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage.access_modes import LimitKind
from storage.models import Base, utcnow

__all__ = ["UsageLimit", "clear_usage_limit", "get_usage_limit", "set_usage_limit", "usage_limits_of"]


class UsageLimit(Base):
    __tablename__ = "usage_limits"

    datastore_id: Mapped[int] = mapped_column(ForeignKey("datastores.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # LimitKind.CHANNELS | LimitKind.GROUP
    channels: Mapped[dict[str, Any] | None]  # {"ids": ["C0123", ...]}
    group_id: Mapped[str | None] = mapped_column(String(32))
    group_handle: Mapped[str | None] = mapped_column(String(255))
    updated_by: Mapped[str | None] = mapped_column(String(32))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def channel_ids(self) -> tuple[str, ...]:
        return tuple(str(value) for value in (self.channels or {}).get("ids") or ())


def get_usage_limit(session: Session, *, datastore_id: int) -> UsageLimit | None:
    return session.get(UsageLimit, datastore_id, populate_existing=True)


def usage_limits_of(session: Session, *, datastore_ids: list[int]) -> dict[int, UsageLimit]:
    if not datastore_ids:
        return {}
    rows = session.scalars(select(UsageLimit).where(UsageLimit.datastore_id.in_(datastore_ids)))
    return {row.datastore_id: row for row in rows}


def set_usage_limit(
    session: Session,
    *,
    datastore_id: int,
    kind: LimitKind,
    channel_ids: tuple[str, ...] = (),
    group_id: str | None = None,
    group_handle: str | None = None,
    updated_by: str | None,
    now: datetime,
) -> UsageLimit:
    row = get_usage_limit(session, datastore_id=datastore_id)
    if row is None:
        row = UsageLimit(datastore_id=datastore_id)
        session.add(row)
    row.kind = kind.value
    row.channels = {"ids": list(channel_ids)} if kind is LimitKind.CHANNELS else None
    row.group_id = group_id if kind is LimitKind.GROUP else None
    row.group_handle = group_handle if kind is LimitKind.GROUP else None
    row.updated_by, row.updated_at = updated_by, now
    session.flush()
    return row


def clear_usage_limit(session: Session, *, datastore_id: int) -> None:
    session.execute(delete(UsageLimit).where(UsageLimit.datastore_id == datastore_id))
