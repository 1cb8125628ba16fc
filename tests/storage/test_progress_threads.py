"""Which threads the progress job looks at: threads that wait on a long pause never crowd out a run that is
going or waits for its ✅ (the job reads a bounded number of threads per pass)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from storage.models import Datastore, SyncRun, utcnow
from storage.progress import runs_needing_slack


@pytest.fixture
def sessions(migrated_sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    return migrated_sessions


def _datastore(session: Session, name: str, *runs: Mapping[str, object]) -> int:
    datastore = Datastore(
        team_id="T1", name=name, name_key=name, created_by="U1", channel_id="C1", parent_ts="1.1", progress_ts="1.2"
    )
    session.add(datastore)
    session.flush()
    for fields in runs:
        session.add(SyncRun(datastore_id=datastore.id, **fields))
    session.flush()
    return datastore.id


PAUSED = {"state": "paused", "pause_kind": "reconnect", "progress_digest": "shown"}


def test_threads_paused_for_good_never_crowd_out_a_run_waiting_for_its_completion(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        paused = [_datastore(session, f"paused-{n}", PAUSED) for n in range(3)]
        finished = _datastore(session, "finished", {"state": "finished", "outcome": "synced"})
        running = _datastore(session, "running", {"state": "running"})
    with sessions() as session:
        picked = runs_needing_slack(session, now=utcnow(), unannounced_after=timedelta(seconds=30), limit=3)
    ids = [datastore.id for datastore, _run in picked]
    assert finished in ids and running in ids
    assert len(ids) == 3 and set(ids) - {finished, running} <= set(paused)


def test_each_datastore_is_read_once_with_its_latest_run(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        many = _datastore(session, "many", *[{"state": "finished", "outcome": "failed"}] * 4, {"state": "running"})
        other = _datastore(session, "other", {"state": "queued"})
    with sessions() as session:
        picked = runs_needing_slack(session, now=utcnow(), unannounced_after=timedelta(seconds=30), limit=2)
    assert sorted((datastore.id, run.state) for datastore, run in picked) == [(many, "running"), (other, "queued")]
