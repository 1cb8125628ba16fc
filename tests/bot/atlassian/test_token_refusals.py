"""How token-endpoint answers are read: every permanent refusal needs a reconnect (and is asked once), every transient
failure is retried with backoff; nothing Atlassian wrote is echoed, no token appears in a message."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from bot.atlassian.tokens import REFRESH_TRIES, refresh_tokens
from bot.errors import AtlassianUnavailable, ReconnectRequired
from bot.services import Services
from demo.fakes.atlassian import FakeAtlassian, FaultKind
from tests.bot.atlassian.connections import HOUR, add_connection, manager, stored
from tests.hostile import hostile_strings

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
SECRET = "the-refresh-token-itself"
Handler = Callable[[httpx.Request], httpx.Response]


def _refresh(handler: Handler) -> None:
    refresh_tokens(
        "cid", "csecret", "https://auth.example/oauth/token", SECRET, now=NOW, transport=httpx.MockTransport(handler)
    )


def _answer(
    status: int, body: Any = None, *, raw: bytes | None = None, headers: dict[str, str] | None = None
) -> Handler:
    content = raw if raw is not None else json.dumps(body).encode() if body is not None else b""
    return lambda _request: httpx.Response(status, content=content, headers=headers or {})


def _oauth(status: int, error: str, description: str = "Something <!channel> happened") -> Handler:
    return _answer(status, {"error": error, "error_description": description})


PERMANENT: list[tuple[str, Handler, str]] = [
    ("invalid_grant", _oauth(403, "invalid_grant"), "invalid_grant"),
    ("invalid_grant-400", _oauth(400, "invalid_grant"), "invalid_grant"),
    ("invalid_client", _oauth(401, "invalid_client"), "invalid_client"),
    ("unauthorized_client", _oauth(400, "unauthorized_client"), "unauthorized_client"),
    ("unauthorized_client-403", _oauth(403, "unauthorized_client"), "unauthorized_client"),
    ("access_denied", _oauth(401, "access_denied"), "access_denied"),
    ("access_denied-403", _oauth(403, "access_denied"), "access_denied"),
    ("invalid_request", _oauth(400, "invalid_request"), "invalid_request"),
    ("invalid_scope", _oauth(400, "invalid_scope"), "invalid_scope"),
    ("unsupported_grant_type", _oauth(400, "unsupported_grant_type"), "unsupported_grant_type"),
    ("401-bare", _answer(401), "HTTP 401"),
    ("403-bare", _answer(403), "HTTP 403"),
    ("401-gateway-json", _answer(401, {"code": 401, "message": "Unauthorized"}), "HTTP 401"),
    ("403-html", _answer(403, raw=b"<html><body>Forbidden <!channel></body></html>"), "HTTP 403"),
    ("404", _answer(404, {"message": "no such endpoint"}), "HTTP 404"),
    ("410", _answer(410), "HTTP 410"),
    ("200-with-error", _answer(200, {"error": "invalid_grant"}), "invalid_grant"),
    ("invalid_grant-shouted", _oauth(400, "INVALID_GRANT"), "invalid_grant"),
    ("invalid_client-capitalised", _answer(200, {"error": "Invalid_Client"}), "invalid_client"),
    ("error-not-a-code", _answer(400, {"error": "Bad <!here> thing", "error_description": "x"}), "HTTP 400"),
    ("error-a-number", _answer(401, {"error": 401}), "HTTP 401"),
    ("error-a-list", _answer(403, {"error": ["invalid_grant"]}), "HTTP 403"),
]
PERMANENT += [
    (f"hostile-error-{label}", _answer(403, {"error": text, "error_description": text}), "HTTP 403")
    for label, text in hostile_strings(seed=41, count=20)
    if text.lower() not in ("temporarily_unavailable", "server_error")
]


@pytest.mark.parametrize(("label", "handler", "code"), PERMANENT, ids=[label for label, _, _ in PERMANENT])
def test_a_permanent_refusal_needs_a_reconnect(label: str, handler: Handler, code: str) -> None:
    with pytest.raises(ReconnectRequired) as refused:
        _refresh(handler)
    message = str(refused.value)
    assert message == f"Atlassian refused to renew the Confluence connection ({code})."
    assert SECRET not in message and "<!" not in message


def _failing(exc: Exception) -> Handler:
    def handler(_request: httpx.Request) -> httpx.Response:
        raise exc

    return handler


TRANSIENT: list[tuple[str, Handler, float | None]] = [
    ("500", _answer(500), None),
    ("502-html", _answer(502, raw=b"<html>Bad gateway</html>"), None),
    ("503-retry-after", _answer(503, {"message": "busy"}, headers={"Retry-After": "7"}), 7.0),
    ("504", _answer(504), None),
    ("500-invalid_grant", _oauth(500, "invalid_grant"), None),  # a server failure, whatever its body says
    ("408", _answer(408), None),
    ("425", _answer(425), None),
    ("429", _answer(429, headers={"Retry-After": "3"}), 3.0),
    ("429-bad-retry-after", _answer(429, headers={"Retry-After": "soon"}), None),
    ("temporarily_unavailable", _oauth(400, "temporarily_unavailable"), None),
    ("server_error", _oauth(400, "server_error"), None),
    ("temporarily_unavailable-shouted-200", _answer(200, {"error": "TEMPORARILY_UNAVAILABLE"}), None),
    ("server_error-capitalised", _oauth(400, "Server_Error"), None),
    ("200-not-json", _answer(200, raw=b"<html>maintenance</html>"), None),
    ("200-truncated", _answer(200, raw=b'{"access_token": "abc'), None),
    ("200-a-list", _answer(200, ["access_token"]), None),
    ("200-nested-beyond-reason", _answer(200, raw=b"[" * 100_000 + b"]" * 100_000), None),
    ("200-no-access-token", _answer(200, {"refresh_token": "r", "expires_in": 3600}), None),
    ("200-empty-access-token", _answer(200, {"access_token": "", "expires_in": 3600}), None),
    ("200-bad-expiry", _answer(200, {"access_token": "a", "expires_in": "soon"}), None),
    ("200-negative-expiry", _answer(200, {"access_token": "a", "expires_in": -5}), None),
    ("200-huge-expiry", _answer(200, {"access_token": "a", "expires_in": 10**400}), None),
    ("200-float-expiry", _answer(200, {"access_token": "a", "expires_in": 1e308}), None),
    ("302", _answer(302, headers={"Location": "https://evil.example/"}), None),
    ("connect-error", _failing(httpx.ConnectError("refused")), None),
    ("read-timeout", _failing(httpx.ReadTimeout("slow")), None),
    ("remote-protocol", _failing(httpx.RemoteProtocolError("dropped")), None),
]


@pytest.mark.parametrize(("label", "handler", "wait"), TRANSIENT, ids=[label for label, _, _ in TRANSIENT])
def test_a_transient_failure_is_unavailable_with_the_wait_asked_for(
    label: str, handler: Handler, wait: float | None
) -> None:
    with pytest.raises(AtlassianUnavailable) as failed:
        _refresh(handler)
    assert failed.value.retry_after == wait
    assert SECRET not in str(failed.value) and "<" not in str(failed.value)


@pytest.mark.parametrize("error", ["", None])
def test_an_empty_error_beside_a_token_is_no_refusal(error: str | None) -> None:
    tokens = refresh_tokens(
        "cid",
        "csecret",
        "https://auth.example/oauth/token",
        SECRET,
        now=NOW,
        transport=httpx.MockTransport(
            _answer(200, {"access_token": "a", "refresh_token": "r", "expires_in": 3600, "error": error})
        ),
    )
    assert tokens.access_token == "a"


def test_a_good_answer_is_a_token_set() -> None:
    tokens = refresh_tokens(
        "cid",
        "csecret",
        "https://auth.example/oauth/token",
        SECRET,
        now=NOW,
        transport=httpx.MockTransport(_answer(200, {"access_token": "a", "refresh_token": "r", "expires_in": "3600"})),
    )
    assert (tokens.access_token, tokens.refresh_token) == ("a", "r") and (tokens.expires_at - NOW).seconds == 3600


# ----- the TokenManager: one call per permanent refusal, retries for transient ones ----------------------------
REFUSALS: list[tuple[str, dict[str, Any]]] = [
    ("invalid_grant", {"kind": FaultKind.OAUTH_ERROR, "error": "invalid_grant"}),
    ("unauthorized_client", {"kind": FaultKind.OAUTH_ERROR, "error": "unauthorized_client"}),
    ("invalid_client", {"kind": FaultKind.OAUTH_ERROR, "error": "invalid_client"}),
    ("access_denied", {"kind": FaultKind.OAUTH_ERROR, "error": "access_denied"}),
    ("401", {"kind": FaultKind.UNAUTHORIZED}),
    ("403", {"kind": FaultKind.FORBIDDEN}),
]


@pytest.fixture
def expired(services: Services, fake: FakeAtlassian) -> Iterator[int]:
    connection_id = add_connection(services, fake)
    fake.advance(HOUR + 1)
    yield connection_id


@pytest.mark.parametrize(("label", "fault"), REFUSALS, ids=[label for label, _ in REFUSALS])
def test_every_permanent_refusal_marks_the_connection_and_is_asked_once(
    services: Services, fake: FakeAtlassian, expired: int, label: str, fault: dict[str, Any]
) -> None:
    details = dict(fault)
    rule = fake.inject("POST /oauth/token", details.pop("kind"), times=None, **details)
    before = stored(services, expired)
    slept: list[float] = []
    tokens = manager(services, fake, sleep=slept.append)
    with pytest.raises(ReconnectRequired, match="refused to renew"):
        tokens.access_token(expired)
    after = stored(services, expired)
    assert after.status == "needs_reconnect" and after.token_version % 2 == 0
    assert (after.access_token_enc, after.refresh_token_enc) == (before.access_token_enc, before.refresh_token_enc)
    assert rule.hits == 1 and slept == []  # no retry of a permanent refusal
    for _ in range(3):  # later syncs, other threads, a 401's forced refresh: none calls the endpoint again
        with pytest.raises(ReconnectRequired):
            tokens.access_token(expired)
        with pytest.raises(ReconnectRequired):
            manager(services, fake).force_refresh(expired, after.token_version)
    assert rule.hits == 1 and fake.log.count("POST /oauth/token") == 1


@pytest.mark.parametrize("kind", [FaultKind.SERVER_ERROR, FaultKind.UNAVAILABLE, FaultKind.MALFORMED_JSON])
def test_transient_failures_are_retried_with_backoff_and_the_refresh_succeeds(
    services: Services, fake: FakeAtlassian, expired: int, kind: FaultKind
) -> None:
    rule = fake.inject("POST /oauth/token", kind, times=REFRESH_TRIES - 1, retry_after=3)
    slept: list[float] = []
    token = manager(services, fake, sleep=slept.append).current(expired)
    assert rule.hits == REFRESH_TRIES - 1
    # A truncated answer is a refresh Atlassian did (and rotated) whose answer got lost: asking again with the
    # old refresh token is safe within its 10 minutes of grace, and the token family lives on.
    assert fake.log.refresh_count() == (REFRESH_TRIES if kind is FaultKind.MALFORMED_JSON else 1)
    assert slept == ([3.0, 3.0] if kind is FaultKind.UNAVAILABLE else [1.0, 2.0])
    assert fake.oauth.check_access(token.value) is not None
    family = fake.oauth.family_of(token.value)
    assert family is not None and not fake.oauth.is_family_revoked(family)
    assert stored(services, expired).status == "active"


def test_a_token_endpoint_that_times_out_is_retried(services: Services, fake: FakeAtlassian, expired: int) -> None:
    calls: list[int] = []
    real = httpx.HTTPTransport()

    def flaky(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) == 1:
            raise httpx.ReadTimeout("slow", request=request)
        response = real.handle_request(request)
        response.read()
        return response

    slept: list[float] = []
    tokens = manager(services, fake, sleep=slept.append, transport=httpx.MockTransport(flaky))
    assert tokens.access_token(expired)
    assert len(calls) == 2 and slept == [1.0] and fake.log.refresh_count() == 1
    real.close()


def test_after_every_try_failed_refreshes_fail_at_once_for_a_while(
    services: Services, fake: FakeAtlassian, expired: int
) -> None:
    """A sync's sixteen listing threads and hundreds of page fetches must not each retry a dead token endpoint."""
    fake.inject("POST /oauth/token", FaultKind.SERVER_ERROR, times=None)
    slept: list[float] = []
    tokens = manager(services, fake, sleep=slept.append)
    with pytest.raises(AtlassianUnavailable, match="500"):
        tokens.access_token(expired)
    assert fake.log.count("POST /oauth/token") == REFRESH_TRIES
    for _ in range(20):
        with pytest.raises(AtlassianUnavailable, match="not asking it again yet"):
            tokens.access_token(expired)
    assert fake.log.count("POST /oauth/token") == REFRESH_TRIES and len(slept) == REFRESH_TRIES - 1
    assert stored(services, expired).status == "active" and stored(services, expired).token_version % 2 == 0
    fake.clear_faults()
    impatient = manager(services, fake, refresh_cooldown=0.0)
    assert impatient.access_token(expired) and fake.log.refresh_count() == 1
