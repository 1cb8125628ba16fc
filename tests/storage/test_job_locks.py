"""The scheduler's job locks: one holder at a time, renewed by it, taken by another only once it ran out, given
up at once by a holder that stops."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from storage.db import make_engine
from storage.job_locks import JobLock, hold_job, release_jobs
from storage.migrate import upgrade_to_head
from storage.models import utcnow

TTL = timedelta(seconds=15)


@pytest.fixture
def session(database_url: str) -> Iterator[Session]:
    engine = make_engine(database_url)
    upgrade_to_head(engine)
    with Session(engine) as session:
        yield session
    engine.dispose()


def test_one_holder_at_a_time_until_its_hold_runs_out(session: Session) -> None:
    now = utcnow()
    assert hold_job(session, job_id="scheduler", owner="a", now=now, ttl=TTL)
    assert not hold_job(session, job_id="scheduler", owner="b", now=now + timedelta(seconds=5), ttl=TTL)
    assert hold_job(session, job_id="scheduler", owner="a", now=now + timedelta(seconds=10), ttl=TTL)  # renewed
    assert not hold_job(session, job_id="scheduler", owner="b", now=now + timedelta(seconds=20), ttl=TTL)
    assert hold_job(session, job_id="scheduler", owner="b", now=now + timedelta(seconds=25), ttl=TTL)  # a ran out
    assert not hold_job(session, job_id="scheduler", owner="a", now=now + timedelta(seconds=26), ttl=TTL)
    assert hold_job(session, job_id="other-job", owner="a", now=now + timedelta(seconds=26), ttl=TTL)
    holder = session.get(JobLock, "scheduler")
    assert holder is not None and holder.owner == "b"


def test_a_holder_that_stops_gives_its_jobs_up_at_once(session: Session) -> None:
    now = utcnow()
    assert hold_job(session, job_id="scheduler", owner="a", now=now, ttl=TTL)
    assert hold_job(session, job_id="other-job", owner="a", now=now, ttl=TTL)
    assert release_jobs(session, owner="b") == 0
    assert release_jobs(session, owner="a") == 2
    assert hold_job(session, job_id="scheduler", owner="b", now=now, ttl=TTL)
