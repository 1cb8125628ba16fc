"""A fresh database with one workspace, one Confluence connection (to the fake) and one datastore."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bench.fakesite import CLIENT_ID, CLIENT_SECRET, FakeInfo
from bot.crypto import generate_key
from bot.services import Services, build_services
from bot.settings import Settings
from storage.migrate import upgrade_to_head
from storage.models import SyncRun
from storage.states import RunKind, RunTrigger
from storage.sync_runs import queue_run
from tests.harness import add_connected_datastore

TEAM = "T0BENCH"
CREDITS = 100_000_000


def bench_settings(database_url: str, fake: FakeInfo, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "encryption_key": generate_key(),
        "atlassian_client_id": CLIENT_ID,
        "atlassian_client_secret": CLIENT_SECRET,
        "atlassian_auth_url": fake.auth_url,
        "atlassian_api_url": fake.api_url,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


def build(database_url: str, fake: FakeInfo, **overrides: Any) -> Services:
    services = build_services(bench_settings(database_url, fake, **overrides))
    upgrade_to_head(services.engine)
    return services


def add_datastore(
    services: Services, fake: FakeInfo, token: dict[str, Any], *, team_id: str = TEAM, name: str = "eng-wiki"
) -> int:
    """A connected datastore sharing every space; returns its id."""
    return add_connected_datastore(
        services, cloud_id=fake.cloud_id, token=token, team_id=team_id, credits=CREDITS, name=name
    )


def queue(services: Services, datastore_id: int, kind: str) -> int:
    with services.sessions.begin() as session:
        run = queue_run(session, datastore_id=datastore_id, kind=RunKind(kind), trigger=RunTrigger.MANUAL)
        assert run is not None, "a run is already queued"
        return int(run.id)


def run_state(services: Services, run_id: int) -> str:
    """Just the run's state, with one light Core query (polled inside the bot's process)."""
    with services.engine.connect() as connection:
        return str(connection.execute(select(SyncRun.state).where(SyncRun.id == run_id)).scalar_one())


def run_summary(services: Services, run_id: int) -> dict[str, Any]:
    with services.sessions() as session:
        run = session.get(SyncRun, run_id)
        assert run is not None
        return {
            "outcome": run.outcome,
            "state": run.state,
            "found": run.found,
            "processed": run.processed,
            "unchanged": run.unchanged,
            "failed": run.failed,
            "reason": run.reason,
        }
