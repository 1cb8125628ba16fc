"""Heartbeats and /healthz: a loop whose heartbeat is stale (or missing) makes /healthz answer 503 naming it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import httpx
import pytest

from bot.liveness import STALE_AFTER, Heartbeat, LivenessCheck, Loop
from bot.services import Services, build_services
from bot.settings import Settings
from bot.web import Router, start_http_server
from storage.models import utcnow
from tests.harness import migrate


class Clock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def services(database_url: str) -> Iterator[Services]:
    built = build_services(Settings(_env_file=None, database_url=database_url, encryption_key="x" * 43 + "="))
    migrate(built.engine)
    yield built
    built.engine.dispose()


def _healthz(router: Router) -> httpx.Response:
    server = start_http_server(router)
    try:
        return httpx.get(f"http://127.0.0.1:{server.port}/healthz")
    finally:
        server.close()


def test_a_stale_heartbeat_makes_healthz_503_naming_the_loop(services: Services) -> None:
    clock = Clock()
    worker = Heartbeat(services, Loop.WORKER, "host:1:worker", clock=clock)
    scheduler = Heartbeat(services, Loop.SCHEDULER, "host:1:scheduler", clock=clock)
    check = LivenessCheck(services, [worker, scheduler], clock=clock)
    router = Router(
        slack=lambda environ, start: [b""], engine=services.engine, signing_secret="s", stale_loops=check.stale
    )

    missing = _healthz(router)  # neither loop ever beat
    assert missing.status_code == 503
    assert missing.json() == {"status": "unavailable", "database": "ok", "worker": "stale", "scheduler": "stale"}

    worker.beat("idle", force=True)
    scheduler.beat("tick", force=True)
    healthy = _healthz(router)
    assert healthy.status_code == 200 and healthy.json() == {"status": "ok", "database": "ok"}

    clock.now += STALE_AFTER - timedelta(seconds=1)
    scheduler.beat("tick", force=True)  # the scheduler goes on beating; the worker stopped
    assert _healthz(router).status_code == 200
    clock.now += timedelta(seconds=2)
    stale = _healthz(router)
    assert stale.status_code == 503
    assert stale.json() == {"status": "unavailable", "database": "ok", "worker": "stale"}


def test_beats_are_throttled_and_a_database_error_is_not_raised(services: Services) -> None:
    clock, ticks = Clock(), [0.0]
    heartbeat = Heartbeat(services, Loop.SCHEDULER, "host:2:scheduler", clock=clock, monotonic=lambda: ticks[0])
    check = LivenessCheck(services, [heartbeat], clock=clock)
    heartbeat.beat("first")
    clock.now += STALE_AFTER + timedelta(seconds=1)
    ticks[0] += 1.0
    heartbeat.beat("too soon")  # within `every`: not written
    assert check.stale() == ["scheduler"]
    ticks[0] += 10.0
    heartbeat.beat("again")
    assert check.stale() == []
    nowhere = "postgresql+psycopg://nobody@127.0.0.1:1/none"
    unreachable = build_services(Settings(_env_file=None, database_url=nowhere, encryption_key="x" * 43 + "="))
    broken = Heartbeat(unreachable, Loop.WORKER, "nowhere")
    broken.beat("cannot")  # logged, not raised: the loop that beats goes on
    unreachable.engine.dispose()


def test_healthz_is_503_when_the_heartbeats_cannot_be_read() -> None:
    from storage.db import make_engine

    engine = make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    router = Router(
        slack=lambda environ, start: [b""], engine=engine, signing_secret="s", stale_loops=lambda: ["unused"]
    )
    try:
        response = _healthz(router)
        assert response.status_code == 503 and response.json()["database"] == "unreachable"
    finally:
        engine.dispose()


def test_the_first_beat_forgets_heartbeats_of_processes_long_gone(services: Services) -> None:
    from sqlalchemy import select

    from storage.models import Heartbeat as HeartbeatRow

    clock = Clock()
    gone = Heartbeat(services, Loop.WORKER, "host:1:gone", clock=lambda: clock.now - timedelta(days=8))
    gone.beat("long ago")
    recent = Heartbeat(services, Loop.WORKER, "host:2:recent", clock=lambda: clock.now - timedelta(days=1))
    recent.beat("yesterday")
    Heartbeat(services, Loop.WORKER, "host:3:now", clock=clock).beat("starting")
    with services.sessions() as session:
        owners = set(session.scalars(select(HeartbeatRow.owner)))
    assert owners == {"host:2:recent", "host:3:now"}
