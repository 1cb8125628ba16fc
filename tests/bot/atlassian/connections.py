"""Stored connections for the token tests: services on a test database, a connection with the fake's tokens."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from bot.atlassian.oauth import AtlassianOAuth, token_set_from
from bot.atlassian.tokens import TokenManager
from bot.services import Services, build_services
from bot.settings import Settings
from demo.fakes.atlassian import FakeAtlassian
from storage.connections import get_connection
from storage.models import Connection

HOUR = 3600.0
Clock = Callable[[], datetime]


def fake_clock(fake: FakeAtlassian) -> Clock:
    return lambda: datetime.fromtimestamp(fake.clock.now(), UTC)


def make_services(fake: FakeAtlassian, database_url: str, key: str, **overrides: Any) -> Services:
    values: dict[str, Any] = {
        "database_url": database_url,
        "encryption_key": key,
        "atlassian_client_id": fake.app.client_id,
        "atlassian_client_secret": fake.app.client_secret,
        "atlassian_auth_url": fake.auth_url,
        "atlassian_api_url": fake.api_url,
    }
    values.update(overrides)
    return build_services(Settings(_env_file=None, **values))


def add_connection(services: Services, fake: FakeAtlassian, payload: dict[str, Any] | None = None) -> int:
    tokens = token_set_from(payload or fake.issue_token(), now=fake_clock(fake)())
    cipher = services.cipher
    with services.sessions.begin() as session:
        connection = Connection(
            team_id="T1",
            created_by="U1",
            cloud_id=fake.cloud_id,
            site_url=fake.hosted.url,
            scopes=tokens.scope,
            access_token_enc=cipher.encrypt(tokens.access_token),
            refresh_token_enc=cipher.encrypt(tokens.refresh_token) if tokens.refresh_token else None,
            access_expires_at=tokens.expires_at,
        )
        session.add(connection)
        session.flush()
        return connection.id


def manager(services: Services, fake: FakeAtlassian, **options: Any) -> TokenManager:
    return TokenManager(services, AtlassianOAuth(services.settings), clock=fake_clock(fake), **options)


def stored(services: Services, connection_id: int) -> Connection:
    with services.sessions.begin() as session:
        connection = get_connection(session, connection_id=connection_id)
        assert connection is not None
        return connection


def stored_refresh_token(services: Services, connection_id: int) -> str:
    encrypted = stored(services, connection_id).refresh_token_enc
    assert encrypted is not None
    return services.cipher.decrypt(encrypted)


def newest_refresh_token(fake: FakeAtlassian, known: set[str]) -> str:
    """The one issued token that is none of ``known`` (the fake issues an access + refresh pair each time)."""
    (newest,) = fake.oauth.issued_tokens() - known
    return newest
