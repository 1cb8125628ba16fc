"""Class 10 through the engine: every permanent refusal — by the token endpoint, or by the API even with a fresh
token — pauses the run for reconnect (with a reason that says which) and marks the connection, so no later sync
retries the dead token; a transient token-endpoint failure is retried and the sync finishes; a page that answers
404 to a fresh token is gone."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.atlassian.oauth import AtlassianOAuth
from bot.atlassian.tokens import REFRESH_TRIES, TokenManager
from bot.confluence.client import RequestBudget
from bot.services import build_services
from bot.settings import Settings
from bot.sync.confluence_source import ConfluenceSources
from bot.sync.convert import Converter
from bot.sync.engine import SyncEngine
from bot.sync.worker import SyncWorker
from demo.fakes.atlassian import FaultKind
from storage.models import Connection, SyncRun, utcnow
from storage.states import RunState
from tests.bot.sync.conftest import SyncWorld, ids_of

TOKEN = "POST /oauth/token"
SPACES = "GET /wiki/api/v2/spaces"


def _connection(world: SyncWorld) -> Connection:
    with world.services.sessions() as session:
        return session.scalars(select(Connection)).one()


def _first_sync(world: SyncWorld) -> set[str]:
    """A first full sync, before the test's fault: the documents it indexed."""
    first = world.queue(kind="full")
    world.worker().run_until_idle()
    assert world.run(first).outcome == "synced"
    return ids_of(world)


def _resync(world: SyncWorld, kind: str = "incremental") -> SyncRun:
    run_id = world.queue(kind=kind)
    world.worker().run_until_idle()
    return world.run(run_id)


def _revoke(world: SyncWorld) -> None:
    connection = _connection(world)
    family = world.atlassian.oauth.family_of(world.services.cipher.decrypt(connection.refresh_token_enc or ""))
    assert family is not None
    world.atlassian.oauth.revoke_family(family)


def _assert_paused_for_reconnect(world: SyncWorld, run: SyncRun, documents: set[str], reason: str) -> None:
    assert (run.state, run.pause_kind) == ("paused", "reconnect")
    assert reason in (run.reason or "")
    assert _connection(world).status == "needs_reconnect"
    assert world.datastore().status == "paused" and reason in (world.datastore().status_detail or "")
    assert ids_of(world) == documents  # what was synced stays searchable; nothing pruned
    # No retry storm: the paused run is not picked up again, and driving it again asks Atlassian nothing.
    calls = len(world.atlassian.log)
    assert world.worker().run_until_idle() == []
    with world.services.sessions.begin() as session:
        paused = session.get(SyncRun, run.id)
        assert paused is not None
        paused.state = RunState.QUEUED
    assert world.worker().run_until_idle() == [run.id]
    assert world.run(run.id).pause_kind == "reconnect" and len(world.atlassian.log) == calls


def test_a_revoked_connection_answered_with_404_on_spaces_pauses_for_reconnect(sync_world: SyncWorld) -> None:
    world = sync_world
    documents = _first_sync(world)
    world.atlassian.answer_refused_tokens_with(v2=404, v1=403)
    _revoke(world)
    world.atlassian.log.clear()
    run = _resync(world)
    assert world.atlassian.log.count(SPACES, status=404, note="token refused") == 1  # the quirk was hit
    assert world.atlassian.log.count(TOKEN) == 1 and world.atlassian.log.count(TOKEN, status=403) == 1
    _assert_paused_for_reconnect(world, run, documents, "invalid_grant")


REFUSALS: list[tuple[str, dict[str, Any], str]] = [
    ("invalid_grant", {"kind": FaultKind.OAUTH_ERROR, "error": "invalid_grant"}, "(invalid_grant)"),
    ("unauthorized_client", {"kind": FaultKind.OAUTH_ERROR, "error": "unauthorized_client"}, "(unauthorized_client)"),
    ("invalid_client", {"kind": FaultKind.OAUTH_ERROR, "error": "invalid_client"}, "(invalid_client)"),
    ("access_denied", {"kind": FaultKind.OAUTH_ERROR, "error": "access_denied"}, "(access_denied)"),
    ("401", {"kind": FaultKind.UNAUTHORIZED}, "(HTTP 401)"),
    ("403", {"kind": FaultKind.FORBIDDEN}, "(HTTP 403)"),
]


#: Every (refusal, kind of resync) on SQLite; a spread on PostgreSQL (the same mark-and-pause path).
@pytest.mark.postgresql_sample(every=3)
@pytest.mark.parametrize(("label", "fault", "reason"), REFUSALS, ids=[label for label, _, _ in REFUSALS])
@pytest.mark.parametrize("kind", ["incremental", "full"])
def test_every_token_refusal_pauses_for_reconnect(
    sync_world: SyncWorld, label: str, fault: dict[str, Any], reason: str, kind: str
) -> None:
    world = sync_world
    documents = _first_sync(world)
    details = dict(fault)
    rule = world.atlassian.inject(TOKEN, details.pop("kind"), times=None, description="<!channel> raw", **details)
    world.atlassian.expire_access_tokens()  # the next request gets 401: a refresh is needed
    run = _resync(world, kind)
    assert rule.hits == 1  # the refusal was served, once
    _assert_paused_for_reconnect(
        world, run, documents, f"Atlassian refused to renew the Confluence connection {reason}"
    )
    assert "<!channel>" not in (run.reason or "")


def test_a_collection_refusing_a_fresh_token_means_access_to_the_site_was_lost(sync_world: SyncWorld) -> None:
    world = sync_world
    documents = _first_sync(world)
    rule = world.atlassian.inject(SPACES, FaultKind.NOT_FOUND, times=None)
    run = _resync(world)
    assert rule.hits == 2 and world.atlassian.log.refresh_count() == 1  # refreshed once, refused again
    _assert_paused_for_reconnect(world, run, documents, "lost access to the site: Confluence answered 404")
    assert "even with a fresh token" in (run.reason or "")


def test_a_transient_token_endpoint_failure_is_retried_and_the_sync_finishes(sync_world: SyncWorld) -> None:
    world = sync_world
    documents = _first_sync(world)
    world.atlassian.site.update_page(sorted(world.atlassian.site.ids("page"))[0])
    rule = world.atlassian.inject(TOKEN, FaultKind.UNAVAILABLE, times=REFRESH_TRIES - 1, retry_after=0)
    world.atlassian.expire_access_tokens()
    run = _resync(world)
    assert rule.hits == REFRESH_TRIES - 1 and world.atlassian.log.refresh_count() == 1
    assert (run.state, run.outcome, run.processed) == ("finished", "synced", 1)
    assert _connection(world).status == "active" and ids_of(world) == documents


def _age_the_token(world: SyncWorld, minutes: int) -> None:
    """The stored token as if issued ``minutes`` ago, seen by a new TokenManager (as by a process started now)."""
    with world.services.sessions.begin() as session:
        connection = session.scalars(select(Connection)).one()
        connection.access_expires_at = utcnow() + timedelta(hours=1) - timedelta(minutes=minutes)
    world.tokens = TokenManager(world.services, AtlassianOAuth(world.services.settings))


@pytest.mark.parametrize("age", [0, 10], ids=["fresh-token", "old-token"])
def test_a_page_answering_404_is_gone_after_at_most_one_refresh(sync_world: SyncWorld, age: int) -> None:
    world = sync_world
    documents = _first_sync(world)
    gone = sorted(world.atlassian.site.ids("page"))[4]
    world.atlassian.site.update_page(gone)  # changed, so the resync fetches it …
    world.deletion_check_due()  # (listing every id: a listing of changes would bring its body along)
    world.atlassian.inject("GET /wiki/api/v2/pages", FaultKind.SERVER_ERROR, times=None)  # … one by one …
    rule = world.atlassian.inject(f"GET */wiki/api/v2/pages/{gone}", FaultKind.NOT_FOUND, times=None)  # … 404
    _age_the_token(world, age)
    run = _resync(world)
    assert rule.hits == (2 if age else 1) and world.atlassian.log.refresh_count() == (1 if age else 0)
    assert (run.outcome, run.failed) == ("synced", 0)
    assert ids_of(world) == documents - {str(gone)}  # gone: deleted from the index, not a failure
    assert _connection(world).status == "active"


def test_a_bot_without_atlassian_credentials_fails_the_run_with_a_message(sync_world: SyncWorld) -> None:
    world = sync_world
    settings = world.services.settings
    unconfigured = build_services(
        Settings(
            _env_file=None,
            database_url=settings.effective_database_url,
            encryption_key=settings.encryption_key,
            atlassian_auth_url=settings.atlassian_auth_url,
            atlassian_api_url=settings.atlassian_api_url,
        )
    )
    try:
        tokens = TokenManager(unconfigured, AtlassianOAuth(unconfigured.settings))
        sources = ConfluenceSources(unconfigured, tokens, RequestBudget(1_000_000))
        engine = SyncEngine(unconfigured, sources, Converter(processes=0), owner="unconfigured")
        world.atlassian.expire_access_tokens()
        _age_the_token(world, 59)  # expires within the refresh margin: a refresh is needed, and impossible
        run_id = world.queue(kind="full")
        assert SyncWorker(unconfigured, engine).run_until_idle() == [run_id]
    finally:
        unconfigured.engine.dispose()
    run = world.run(run_id)
    assert (run.state, run.outcome) == ("finished", "failed")
    assert run.reason == "The bot is not set up to read Confluence: ATLASSIAN_CLIENT_ID and " + (
        "ATLASSIAN_CLIENT_SECRET are needed to refresh tokens."
    )
    assert world.atlassian.log.count(TOKEN) == 0
