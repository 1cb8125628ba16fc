"""TokenManager against the fake Atlassian over real sockets, on SQLite and (when available) PostgreSQL."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.atlassian.oauth import AtlassianOAuth, token_set_from
from bot.atlassian.tokens import AccessToken, TokenManager
from bot.crypto import generate_key
from bot.errors import AtlassianUnavailable, ReconnectRequired
from bot.services import Services, build_services
from bot.settings import Settings
from storage.connections import compare_and_set_version, get_connection
from storage.migrate import upgrade_to_head
from storage.models import Connection
from tests.fakes.atlassian import FakeAtlassian, SiteSpec
from tests.harness import free_port

HOUR = 3600.0
Clock = Callable[[], datetime]


@pytest.fixture
def fake() -> Iterator[FakeAtlassian]:
    with FakeAtlassian(SiteSpec(spaces=1, pages_per_space=3, blogposts_per_space=0, body_bytes=200)) as server:
        yield server


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


@pytest.fixture
def key() -> str:
    return generate_key()


@pytest.fixture
def services(fake: FakeAtlassian, database_url: str, key: str) -> Iterator[Services]:
    built = make_services(fake, database_url, key)
    upgrade_to_head(built.engine)
    yield built
    built.engine.dispose()


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


def concurrently(count: int, work: Callable[[int], str]) -> list[str]:
    barrier = threading.Barrier(count)
    results: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run(index: int) -> None:
        barrier.wait()
        try:
            value = work(index)
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            with lock:
                errors.append(exc)
            return
        with lock:
            results.append(value)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    return results


def test_a_fresh_token_is_returned_as_stored(services: Services, fake: FakeAtlassian) -> None:
    payload = fake.issue_token()
    connection_id = add_connection(services, fake, payload)
    assert manager(services, fake).access_token(connection_id) == payload["access_token"]
    assert fake.log.refresh_count() == 0


def test_refreshes_proactively_and_persists_the_rotated_refresh_token(services: Services, fake: FakeAtlassian) -> None:
    payload = fake.issue_token()
    connection_id = add_connection(services, fake, payload)
    fake.advance(HOUR - 240)  # 4 minutes left: inside the 5-minute margin, still valid
    token = manager(services, fake).current(connection_id)
    assert token.value != payload["access_token"]
    assert fake.oauth.check_access(str(payload["access_token"])) is not None  # the old one was still good
    assert fake.log.refresh_count() == 1
    assert token.version == 2 and stored(services, connection_id).token_version == 2
    known = {str(payload["access_token"]), str(payload["refresh_token"]), token.value}
    assert stored_refresh_token(services, connection_id) == newest_refresh_token(fake, known)
    assert "value" not in repr(token) and token.value not in repr(token)


def test_fifty_threads_at_expiry_refresh_exactly_once(services: Services, fake: FakeAtlassian) -> None:
    payload = fake.issue_token()
    connection_id = add_connection(services, fake, payload)
    tokens = manager(services, fake)
    fake.set_latency(0.3, "POST /oauth/token")  # hold the winner so everyone else piles up behind it
    fake.advance(HOUR + 1)
    results = concurrently(50, lambda _: tokens.access_token(connection_id))
    assert len(results) == 50 and len(set(results)) == 1
    assert fake.log.refresh_count() == 1
    family = fake.oauth.family_of(str(payload["refresh_token"]))
    assert family is not None and not fake.oauth.is_family_revoked(family)
    known = {str(payload["access_token"]), str(payload["refresh_token"]), results[0]}
    assert stored_refresh_token(services, connection_id) == newest_refresh_token(fake, known)
    # Long after the old refresh token's grace: the stored (newest) one still works and keeps the family alive.
    fake.advance(HOUR + 1)
    assert tokens.access_token(connection_id) != results[0]
    assert fake.log.refresh_count() == 2 and not fake.oauth.is_family_revoked(family)


def test_two_processes_sharing_the_database_refresh_exactly_once(
    services: Services, fake: FakeAtlassian, database_url: str, key: str
) -> None:
    payload = fake.issue_token()
    connection_id = add_connection(services, fake, payload)
    other = make_services(fake, database_url, key)  # its own engine, pool and session factory
    managers = [manager(services, fake), manager(other, fake)]
    fake.set_latency(0.3, "POST /oauth/token")
    fake.advance(HOUR + 1)
    try:
        results = concurrently(50, lambda index: managers[index % 2].access_token(connection_id))
    finally:
        other.engine.dispose()
    assert len(set(results)) == 1
    assert fake.log.refresh_count() == 1
    family = fake.oauth.family_of(str(payload["refresh_token"]))
    assert family is not None and not fake.oauth.is_family_revoked(family)


def test_invalid_grant_marks_the_connection_and_stops_calling(services: Services, fake: FakeAtlassian) -> None:
    payload = fake.issue_token()
    connection_id = add_connection(services, fake, payload)
    family = fake.oauth.family_of(str(payload["refresh_token"]))
    assert family is not None
    fake.oauth.revoke_family(family)
    fake.advance(HOUR + 1)
    tokens = manager(services, fake)
    with pytest.raises(ReconnectRequired):
        tokens.access_token(connection_id)
    assert stored(services, connection_id).status == "needs_reconnect"
    assert fake.log.count("POST /oauth/token") == 1
    with pytest.raises(ReconnectRequired):
        tokens.access_token(connection_id)
    with pytest.raises(ReconnectRequired):
        tokens.force_refresh(connection_id, 0)
    assert fake.log.count("POST /oauth/token") == 1


def test_network_errors_leave_the_stored_tokens_alone(
    services: Services, fake: FakeAtlassian, database_url: str, key: str
) -> None:
    payload = fake.issue_token()
    connection_id = add_connection(services, fake, payload)
    before = stored(services, connection_id)
    fake.advance(HOUR + 1)
    unreachable = make_services(fake, database_url, key, atlassian_auth_url=f"http://127.0.0.1:{free_port()}")
    try:
        with pytest.raises(AtlassianUnavailable, match="could not be reached"):
            manager(unreachable, fake).access_token(connection_id)
    finally:
        unreachable.engine.dispose()
    fake.inject("POST /oauth/token", "503")
    with pytest.raises(AtlassianUnavailable, match="503"):
        manager(services, fake).access_token(connection_id)
    after = stored(services, connection_id)
    assert (after.access_token_enc, after.refresh_token_enc, after.status) == (
        before.access_token_enc,
        before.refresh_token_enc,
        "active",
    )
    assert after.token_version % 2 == 0  # the claims were released
    # The untouched refresh token still works.
    assert manager(services, fake).access_token(connection_id) != payload["access_token"]
    assert fake.log.refresh_count() == 1


def test_force_refresh_after_a_401_refreshes_once(services: Services, fake: FakeAtlassian) -> None:
    payload = fake.issue_token()
    connection_id = add_connection(services, fake, payload)
    tokens = manager(services, fake)
    seen = tokens.current(connection_id)
    assert seen.value == payload["access_token"] and seen.version == 0
    renewed = tokens.force_refresh(connection_id, seen.version)
    assert renewed.value != seen.value and renewed.version == 2
    # A second caller that saw the same rejected token gets the renewed one without another refresh.
    assert tokens.force_refresh(connection_id, seen.version) == AccessToken(
        renewed.value, renewed.version, renewed.expires_at
    )
    assert fake.log.refresh_count() == 1


def test_a_refresh_in_progress_elsewhere_lets_the_old_token_serve(services: Services, fake: FakeAtlassian) -> None:
    payload = fake.issue_token()
    connection_id = add_connection(services, fake, payload)
    with services.sessions.begin() as session:
        assert compare_and_set_version(session, connection_id=connection_id, expected_version=0, new_version=1)
    fake.advance(HOUR - 120)  # inside the margin, but still valid for two minutes
    assert manager(services, fake).access_token(connection_id) == payload["access_token"]
    assert fake.log.refresh_count() == 0


def test_a_stale_claim_of_a_crashed_process_is_taken_over(services: Services, fake: FakeAtlassian) -> None:
    payload = fake.issue_token()
    connection_id = add_connection(services, fake, payload)
    with services.sessions.begin() as session:
        assert compare_and_set_version(session, connection_id=connection_id, expected_version=0, new_version=1)
    fake.advance(HOUR + 1)
    token = manager(services, fake, lease_timeout=0.2, poll_interval=0.02).current(connection_id)
    assert token.value != payload["access_token"] and token.version == 4
    assert fake.log.refresh_count() == 1


def test_a_connection_needing_reconnect_raises_without_calling(services: Services, fake: FakeAtlassian) -> None:
    connection_id = add_connection(services, fake)
    with services.sessions.begin() as session:
        connection = get_connection(session, connection_id=connection_id)
        assert connection is not None
        connection.status = "needs_reconnect"
    with pytest.raises(ReconnectRequired):
        manager(services, fake).access_token(connection_id)
    assert len(fake.log) == 0


def test_tokens_never_reach_logs_or_messages(
    services: Services, fake: FakeAtlassian, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    connection_id = add_connection(services, fake)
    fake.advance(HOUR + 1)
    tokens = manager(services, fake)
    tokens.access_token(connection_id)
    fake.inject("POST /oauth/token", "500")
    fake.advance(HOUR + 1)
    with pytest.raises(AtlassianUnavailable) as raised:
        tokens.access_token(connection_id)
    issued = fake.oauth.issued_tokens()
    assert issued
    for secret in issued:
        assert secret not in caplog.text
        assert secret not in str(raised.value)
