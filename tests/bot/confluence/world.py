"""A ConfluenceClient wired to the fake Atlassian over real sockets, and the connection behind it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bot.atlassian.oauth import AtlassianOAuth, token_set_from
from bot.atlassian.tokens import TokenManager
from bot.confluence.client import ConfluenceClient
from bot.crypto import generate_key
from bot.services import Services, build_services
from bot.settings import Settings
from demo.fakes.atlassian import FakeAtlassian
from storage.models import Connection
from tests.harness import migrate

__all__ = ["PAGES", "SHORT_TIMEOUT", "World", "build_world", "first_page_id", "first_space_id"]

PAGES = "GET /wiki/api/v2/spaces/{id}/pages"
#: For tests that inject a timeout: the held answer must time out quickly.
SHORT_TIMEOUT = httpx.Timeout(2.0, read=0.3)
#: The default: tests count requests, and a slow answer on a loaded machine must not become a retry.
PATIENT = httpx.Timeout(30.0, connect=5.0)


@dataclass
class World:
    fake: FakeAtlassian
    services: Services
    tokens: TokenManager
    connection_id: int
    sleeps: list[float]

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.fake.clock.now(), UTC)

    def client(self, **options: Any) -> ConfluenceClient:
        options.setdefault("sleep", self.sleeps.append)
        options.setdefault("clock", self.now)
        options.setdefault("timeout", PATIENT)
        return ConfluenceClient(self.services.settings, self.tokens, self.connection_id, self.fake.cloud_id, **options)

    def connection(self) -> Connection:
        with self.services.sessions() as session:
            connection = session.get(Connection, self.connection_id)
            assert connection is not None
            return connection

    def token_calls(self) -> int:
        return self.fake.log.count("POST /oauth/token")

    def store_access_token(self, value: str, expires_at: datetime) -> None:
        with self.services.sessions.begin() as session:
            connection = session.get(Connection, self.connection_id)
            assert connection is not None
            connection.access_token_enc = self.services.cipher.encrypt(value)
            connection.access_expires_at = expires_at


def build_world(fake: FakeAtlassian, tmp_path: Path, scopes: list[str] | None = None) -> Iterator[World]:
    settings = Settings(
        _env_file=None,
        database_url=f"sqlite:///{tmp_path / 'client.db'}",
        encryption_key=generate_key(),
        atlassian_client_id=fake.app.client_id,
        atlassian_client_secret=fake.app.client_secret,
        atlassian_auth_url=fake.auth_url,
        atlassian_api_url=fake.api_url,
    )
    services = build_services(settings)
    migrate(services.engine)

    def now() -> datetime:
        return datetime.fromtimestamp(fake.clock.now(), UTC)

    tokens = token_set_from(fake.issue_token(scopes), now=now())
    with services.sessions.begin() as session:
        connection = Connection(
            team_id="T1",
            created_by="U1",
            cloud_id=fake.cloud_id,
            site_url=fake.hosted.url,
            access_token_enc=services.cipher.encrypt(tokens.access_token),
            refresh_token_enc=services.cipher.encrypt(tokens.refresh_token or ""),
            access_expires_at=tokens.expires_at,
        )
        session.add(connection)
        session.flush()
        connection_id = connection.id
    manager = TokenManager(services, AtlassianOAuth(settings), clock=now)
    yield World(fake, services, manager, connection_id, [])
    services.engine.dispose()


def first_space_id(world: World) -> str:
    return str(min(world.fake.site.spaces))


def first_page_id(world: World) -> str:
    return str(world.fake.site.ids("page", int(first_space_id(world)))[0])
