"""A connected datastore over the fake Atlassian, and an engine/worker to sync it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.atlassian.oauth import AtlassianOAuth
from bot.atlassian.tokens import TokenManager
from bot.confluence.client import RequestBudget
from bot.crypto import generate_key
from bot.services import Services, build_services
from bot.settings import Settings
from bot.sync.confluence_source import ConfluenceSources
from bot.sync.convert import Converter
from bot.sync.engine import EngineOptions, SyncEngine
from bot.sync.worker import SyncWorker
from demo.fakes.atlassian import FakeAtlassian, OAuthApp, SiteSpec
from storage.models import Datastore, SyncRun
from storage.states import RunKind, RunTrigger
from storage.sync_runs import queue_run
from tests.harness import add_connected_datastore, migrate

TEAM = "T0SYNC"


@dataclass
class SyncWorld:
    services: Services
    atlassian: FakeAtlassian
    datastore_id: int
    tokens: TokenManager
    slept: list[float] = field(default_factory=list)

    def engine(self, owner: str = "test-worker", **options: object) -> SyncEngine:
        sources = ConfluenceSources(self.services, self.tokens, RequestBudget(10_000_000), sleep=self.slept.append)
        settings = EngineOptions(**options)  # type: ignore[arg-type]
        return SyncEngine(self.services, sources, Converter(processes=0), owner=owner, options=settings)

    def worker(self, owner: str = "test-worker", **options: object) -> SyncWorker:
        return SyncWorker(self.services, self.engine(owner, **options))

    def queue(self, kind: str = "incremental", trigger: str = "manual") -> int:
        with self.services.sessions.begin() as session:
            run = queue_run(session, datastore_id=self.datastore_id, kind=RunKind(kind), trigger=RunTrigger(trigger))
            assert run is not None
            return run.id

    def run(self, run_id: int) -> SyncRun:
        with self.services.sessions() as session:
            run = session.get(SyncRun, run_id)
            assert run is not None
            return run

    def datastore(self) -> Datastore:
        with self.services.sessions() as session:
            datastore = session.get(Datastore, self.datastore_id)
            assert datastore is not None
            return datastore

    def deletion_check_due(self) -> None:
        """The next incremental resync lists every id (as once a day, or by `schedule --deletions`)."""
        with self.services.sessions.begin() as session:
            datastore = session.get(Datastore, self.datastore_id)
            assert datastore is not None
            datastore.deletions_checked_at = None

    def break_page(self, content_id: int) -> None:
        """Confluence cannot serve this page: every listing with bodies fails (so pages are listed without and
        fetched by id), batch fetches fail for a while, and the page alone keeps failing."""
        self.atlassian.inject("GET */wiki/api/v2/spaces/*/pages?*body-format=storage*", "500", times=None)
        self.atlassian.inject("GET /wiki/api/v2/pages", "500", times=20)
        self.atlassian.inject(f"GET */wiki/api/v2/pages/{content_id}*", "500", times=20)

    def set_spaces(self, space_ids: list[str]) -> None:
        with self.services.sessions.begin() as session:
            datastore = session.get(Datastore, self.datastore_id)
            assert datastore is not None
            datastore.share_all = False
            datastore.spaces = {"items": [{"id": sid, "key": "", "name": ""} for sid in space_ids]}


def make_world(database_url: str, spec: SiteSpec, *, credits: int = 100_000) -> Iterator[SyncWorld]:
    app = OAuthApp(
        client_id="cid", client_secret="secret", redirect_uris=("http://127.0.0.1:1/oauth/confluence/callback",)
    )
    with FakeAtlassian(spec, apps=[app]) as atlassian:
        settings = Settings(
            _env_file=None,
            database_url=database_url,
            encryption_key=generate_key(),
            atlassian_client_id="cid",
            atlassian_client_secret="secret",
            atlassian_auth_url=atlassian.auth_url,
            atlassian_api_url=atlassian.api_url,
        )
        services = build_services(settings)
        migrate(services.engine)
        datastore_id = add_connected_datastore(
            services, cloud_id=atlassian.cloud_id, token=atlassian.issue_token(), team_id=TEAM, credits=credits
        )
        manager = TokenManager(services, AtlassianOAuth(settings), refresh_margin=timedelta(minutes=5))
        yield SyncWorld(services, atlassian, datastore_id, manager)
        services.engine.dispose()


@pytest.fixture
def sync_world(database_url: str) -> Iterator[SyncWorld]:
    yield from make_world(database_url, SiteSpec(spaces=3, pages_per_space=40, blogposts_per_space=5, body_bytes=3000))


def ids_of(world: SyncWorld) -> set[str]:
    from storage.documents import Document

    with world.services.sessions() as session:
        return set(session.scalars(select(Document.source_id).where(Document.datastore_id == world.datastore_id)))
