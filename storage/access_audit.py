"""The access audit: every change of who sees a datastore's content — who, when, from what to what, and the
Confluence account it named — newest first in `/datastore status NAME` (never commits)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage.access_modes import AuditAction, AuditSource
from storage.models import Base, utcnow

__all__ = ["AccessAudit", "latest_access_changes", "record_access_change"]


class AccessAudit(Base):
    """One change of a datastore's access (its mode; from step 7 its usage limits too)."""

    __tablename__ = "access_audit"
    __table_args__ = (Index("ix_access_audit_datastore", "datastore_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    datastore_id: Mapped[int] = mapped_column(ForeignKey("datastores.id", ondelete="CASCADE"))
    team_id: Mapped[str] = mapped_column(String(32))
    actor_user_id: Mapped[str | None] = mapped_column(String(32))  # a Slack user id; None: an operator or migration
    source: Mapped[str] = mapped_column(String(16))  # AuditSource
    action: Mapped[str] = mapped_column(String(16))  # AuditAction
    old_value: Mapped[str | None] = mapped_column(String(255))  # None: the datastore had no mode before
    new_value: Mapped[str] = mapped_column(String(255))
    account_name: Mapped[str | None] = mapped_column(String(255))  # the connecting account the change named
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


def record_access_change(
    session: Session,
    *,
    datastore_id: int,
    team_id: str,
    actor_user_id: str | None,
    source: AuditSource,
    old_value: str | None,
    new_value: str,
    account_name: str | None,
    now: datetime,
    action: AuditAction = AuditAction.MODE,
) -> AccessAudit:
    row = AccessAudit(
        datastore_id=datastore_id,
        team_id=team_id,
        actor_user_id=actor_user_id,
        source=source.value,
        action=action.value,
        old_value=old_value,
        new_value=new_value,
        account_name=account_name,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row


def latest_access_changes(session: Session, *, datastore_id: int, limit: int) -> list[AccessAudit]:
    """The datastore's ``limit`` latest access changes, newest first."""
    statement = (
        select(AccessAudit)
        .where(AccessAudit.datastore_id == datastore_id)
        .order_by(AccessAudit.created_at.desc(), AccessAudit.id.desc())
        .limit(limit)
    )
    return list(session.scalars(statement))
