"""Which process runs each scheduler job (never commits): every `serve` runs APScheduler, whose jobs have fixed
ids but no lock across processes, so a job runs where this table says.

A process holds a job's row for ``ttl`` and renews it each time it runs the job; another process takes the row
only once it has run out (its holder stopped or died), and a holder that stops gives its rows up at once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import String, delete, or_, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage.db import upsert_into
from storage.models import Base

__all__ = ["JobLock", "hold_job", "release_jobs"]


class JobLock(Base):
    __tablename__ = "job_locks"

    job_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner: Mapped[str] = mapped_column(String(96))  # the scheduler (process) holding it
    expires_at: Mapped[datetime]


def hold_job(session: Session, *, job_id: str, owner: str, now: datetime, ttl: timedelta) -> bool:
    """Take or renew ``job_id`` for ``owner`` until ``now + ttl``; False when another owner holds it still."""
    insert = upsert_into(session, JobLock).values(job_id=job_id, owner=owner, expires_at=now + ttl)
    # RETURNING, not rowcount: psycopg reports no rowcount (-1) for an INSERT … ON CONFLICT DO NOTHING.
    inserted = session.execute(insert.on_conflict_do_nothing(index_elements=["job_id"]).returning(JobLock.job_id))
    if inserted.scalar_one_or_none() is not None:
        return True
    taken = session.execute(
        update(JobLock)
        .where(JobLock.job_id == job_id, or_(JobLock.owner == owner, JobLock.expires_at <= now))
        .values(owner=owner, expires_at=now + ttl)
        .returning(JobLock.job_id)
        .execution_options(synchronize_session=False)
    )
    return taken.scalar_one_or_none() is not None


def release_jobs(session: Session, *, owner: str) -> int:
    """Give up every job ``owner`` holds (its scheduler is stopping): another process runs them at once."""
    return len(session.execute(delete(JobLock).where(JobLock.owner == owner).returning(JobLock.job_id)).all())
