"""TokenManager against the fake Atlassian over real sockets, on SQLite and (when available) PostgreSQL."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import pytest

from bot.atlassian.tokens import AccessToken
from bot.errors import AtlassianUnavailable, ReconnectRequired
from bot.services import Services
from demo.fakes.atlassian import FakeAtlassian
from storage.connections import compare_and_set_version, get_connection
from storage.states import ConnectionStatus
from tests.bot.atlassian.connections import (
    HOUR,
    add_connection,
    make_services,
    manager,
    newest_refresh_token,
    stored,
    stored_refresh_token,
)
from tests.harness import free_port


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
    slept: list[float] = []
    try:
        with pytest.raises(AtlassianUnavailable, match="could not be reached"):
            manager(unreachable, fake, sleep=slept.append).access_token(connection_id)
    finally:
        unreachable.engine.dispose()
    assert slept == [1.0, 2.0]  # tried three times, backing off
    fake.inject("POST /oauth/token", "503", times=None, retry_after=4)
    with pytest.raises(AtlassianUnavailable, match="503"):
        manager(services, fake, sleep=slept.append).access_token(connection_id)
    assert slept[2:] == [4.0, 4.0] and fake.log.count("POST /oauth/token", status=503) == 3
    fake.clear_faults()
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
        connection.status = ConnectionStatus.NEEDS_RECONNECT
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
    fake.inject("POST /oauth/token", "500", times=None)
    fake.advance(HOUR + 1)
    with pytest.raises(AtlassianUnavailable) as raised:
        manager(services, fake, sleep=lambda _s: None).access_token(connection_id)
    issued = fake.oauth.issued_tokens()
    assert issued
    for secret in issued:
        assert secret not in caplog.text
        assert secret not in str(raised.value)
