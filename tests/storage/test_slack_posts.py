"""The once-only post ledger: exactly one racer may post, a refused post is free again, an uncertain one is
looked for first, and a claim left by a crash is taken over once it is too old to be in flight."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from storage.db import make_engine, make_sessionmaker
from storage.migrate import upgrade_to_head
from storage.models import Datastore, utcnow
from storage.slack_posts import ClaimState, claim_post, mark_uncertain, record_post, release_post

IN_FLIGHT = timedelta(seconds=30)


@pytest.fixture
def db(database_url: str) -> Iterator[tuple[Engine, sessionmaker[Session], int]]:
    engine = make_engine(database_url)
    upgrade_to_head(engine)
    sessions = make_sessionmaker(engine)
    with sessions.begin() as session:
        datastore = Datastore(team_id="T1", name="d", name_key="d", created_by="U1")
        session.add(datastore)
        session.flush()
        datastore_id = datastore.id
    yield engine, sessions, datastore_id
    engine.dispose()


def _claim(sessions: sessionmaker[Session], datastore_id: int, key: str = "k", **kwargs: object) -> ClaimState:
    now = kwargs.pop("now", utcnow())
    with sessions.begin() as session:
        return claim_post(
            session,
            key=key,
            datastore_id=datastore_id,
            channel_id=str(kwargs.get("channel", "C1")),
            thread_ts=None,
            now=now,  # type: ignore[arg-type]
            in_flight=IN_FLIGHT,
        ).state


def test_the_life_of_a_claim(db: tuple[Engine, sessionmaker[Session], int]) -> None:
    _engine, sessions, datastore_id = db
    assert _claim(sessions, datastore_id) is ClaimState.NEW
    assert _claim(sessions, datastore_id) is ClaimState.BUSY  # in flight
    with sessions.begin() as session:
        release_post(session, key="k")  # Slack refused it: nothing was posted
    assert _claim(sessions, datastore_id) is ClaimState.NEW
    with sessions.begin() as session:
        mark_uncertain(session, key="k")  # a timeout: maybe posted
    with sessions.begin() as session:
        release_post(session, key="k")  # an uncertain claim is never released blindly
    assert _claim(sessions, datastore_id) is ClaimState.CHECK
    assert _claim(sessions, datastore_id) is ClaimState.BUSY  # the checker holds it now
    assert _claim(sessions, datastore_id, now=utcnow() + IN_FLIGHT * 2) is ClaimState.CHECK  # it crashed
    with sessions.begin() as session:
        record_post(session, key="k", channel_id="C1", ts="1.000100", now=utcnow())
    with sessions.begin() as session:
        claim = claim_post(
            session,
            key="k",
            datastore_id=datastore_id,
            channel_id="C9",
            thread_ts=None,
            now=utcnow(),
            in_flight=IN_FLIGHT,
        )
    assert claim.state is ClaimState.POSTED and claim.ts == "1.000100" and claim.channel_id == "C1"


def _race(sessions: sessionmaker[Session], datastore_id: int, key: str, racers: int) -> list[ClaimState]:
    states: list[ClaimState] = []
    barrier = threading.Barrier(racers)

    def racer() -> None:
        barrier.wait()
        states.append(_claim(sessions, datastore_id, key))

    threads = [threading.Thread(target=racer) for _ in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return states


def test_racing_claims_give_the_post_to_exactly_one(db: tuple[Engine, sessionmaker[Session], int]) -> None:
    _engine, sessions, datastore_id = db
    for round_ in range(5):
        states = _race(sessions, datastore_id, f"race-{round_}", 4)
        assert sorted(states) == sorted([ClaimState.NEW] + [ClaimState.BUSY] * 3)
