"""Valid access tokens for stored connections, refreshed once per expiry across threads and processes.

Atlassian refresh tokens rotate: each refresh returns a new one, the old one keeps working for 10 minutes,
and reusing it after that revokes the whole token family. So a refresh must happen exactly once, with the
newest refresh token, and the rotated token must be stored before the new access token is used.

How (``connections.token_version``, see ``storage.connections``; ``person_links.token_version`` alike — the rows
are a :class:`~bot.atlassian.token_stores.TokenStore`):

* even version = settled tokens; a caller that needs a refresh claims it by compare-and-swap even → odd,
  reads the refresh token in that same transaction, closes the session and calls the token endpoint;
* the winner stores the new pair and moves odd → even in one transaction, then uses the new token;
  everyone else sees the odd version, keeps using the old access token while it is still valid, or
  waits and re-reads; a claim older than ``lease_timeout`` (a crashed process) is taken over (odd → odd+2);
* a permanent refusal (``invalid_grant``, ``invalid_client``, ``unauthorized_client``, ``access_denied``, any
  other 4xx but 408/425/429) marks the connection ``needs_reconnect`` (a person link: deletes it), and nothing
  calls the endpoint for it again until someone reconnects (links again); transient trouble (unreachable,
  timeouts, 5xx, 408/425/429, no usable JSON) is tried REFRESH_TRIES times with backoff, then releases the
  claim and leaves the stored tokens untouched (the previous refresh token keeps working for 10 minutes, so
  asking again is safe); for REFRESH_COOLDOWN after that, refreshes of that owner in this process fail at once.

Tokens never appear in log lines or exception messages raised from here.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

import httpx

from bot.atlassian.oauth import HTTP_TIMEOUT, AtlassianOAuth, TokenSet, token_set_from
from bot.atlassian.token_stores import RECONNECT_MESSAGE, ConnectionTokens, StoredTokens, TokenStore
from bot.errors import (
    AtlassianUnavailable,
    ConfigurationError,
    OAuthExchangeError,
    ReconnectRequired,
)
from bot.metrics import atlassian_call, http_outcome
from bot.services import Services
from storage.models import utcnow

__all__ = ["AccessToken", "TokenManager", "TokenSource", "refresh_tokens", "retry_after"]

logger = logging.getLogger(__name__)

#: While another process refreshes, the old access token is still handed out if it lives at least this long.
STILL_VALID_FOR = timedelta(seconds=30)
#: A token read this recently is handed out again without reading the database (see TokenManager.current).
REUSE_SECONDS = 5.0
_ERROR_CODE = re.compile(r"[a-z_]{1,40}")
#: Atlassian's documented access-token lifetime: how old a stored token is, is judged from its expiry.
ACCESS_TOKEN_LIFETIME = timedelta(hours=1)
#: Token endpoint answers worth asking again (the rest of the 4xx are permanent refusals).
TRANSIENT_STATUSES = frozenset({408, 425, 429})
TRANSIENT_OAUTH_ERRORS = frozenset({"temporarily_unavailable", "server_error"})
#: Tries of one refresh against a failing token endpoint, and the backoff between them (seconds, doubled).
REFRESH_TRIES = 3
REFRESH_BACKOFF = 1.0
REFRESH_WAIT_MAX = 10.0
#: After a refresh failed every try, callers in this process fail at once for this long (no storm of retries
#: from every listing thread and every page of a sync while the token endpoint is down).
REFRESH_COOLDOWN = 30.0


@dataclass(frozen=True)
class AccessToken:
    """A decrypted access token and the ``token_version`` it was read at (for :meth:`TokenManager.force_refresh`)."""

    value: str = field(repr=False)
    version: int
    expires_at: datetime

    @property
    def issued_at(self) -> datetime:
        """When Atlassian issued it, judged from its expiry (access tokens live ACCESS_TOKEN_LIFETIME)."""
        return self.expires_at - ACCESS_TOKEN_LIFETIME


class TokenSource(Protocol):
    """What a :class:`~bot.confluence.gateway.Gateway` needs from whoever holds its tokens, keyed by an id:
    :class:`TokenManager` for connections (the connecting account), a person-link store for linked people."""

    def current(self, owner_id: int) -> AccessToken: ...

    def force_refresh(self, owner_id: int, seen_version: int) -> AccessToken: ...

    def lost_access(self, owner_id: int, reason: str) -> None: ...


def _oauth_error(payload: object) -> str | None:
    """The OAuth ``error`` code when it looks like one, in lower case (``INVALID_GRANT`` is ``invalid_grant``,
    ``Temporarily_Unavailable`` still transient); never any other text from Atlassian."""
    error = payload.get("error") if isinstance(payload, dict) else None
    code = error.lower() if isinstance(error, str) else None
    return code if code is not None and _ERROR_CODE.fullmatch(code) else None


def refresh_tokens(
    client_id: str,
    client_secret: str,
    token_url: str,
    refresh_token: str,
    *,
    now: datetime,
    transport: httpx.BaseTransport | None = None,
) -> TokenSet:
    """One ``grant_type=refresh_token`` call (client_secret_post).

    * ReconnectRequired on a permanent refusal: any 4xx but 408, 425 and 429 (``invalid_grant``,
      ``invalid_client``, ``unauthorized_client``, ``access_denied``, a bare 401 or 403…), and any answer
      carrying an OAuth ``error`` other than the transient ones;
    * AtlassianUnavailable (retry it) when the endpoint is unreachable, times out, answers 5xx, 408, 425 or
      429 (with its Retry-After), ``temporarily_unavailable`` / ``server_error``, or 200 without usable JSON.
    """
    data = {
        "grant_type": "refresh_token",
        "client_id": client_id,
        "client_secret": client_secret,
        "refresh_token": refresh_token,
    }
    try:
        with httpx.Client(timeout=HTTP_TIMEOUT, transport=transport) as client:
            response = client.post(token_url, data=data, headers={"Accept": "application/json"})
    except httpx.HTTPError as exc:
        atlassian_call("token", http_outcome(None))
        raise AtlassianUnavailable(f"Atlassian's token endpoint could not be reached ({type(exc).__name__}).") from None
    status = response.status_code
    atlassian_call("token", http_outcome(status))
    try:
        payload = response.json()
    except (ValueError, RecursionError):  # not JSON, or nested beyond reason
        payload = None
    error = payload.get("error") if isinstance(payload, dict) else None
    code = _oauth_error(payload)
    if code in TRANSIENT_OAUTH_ERRORS or status in TRANSIENT_STATUSES or status >= 500:
        detail = f" ({code})" if code else ""
        raise AtlassianUnavailable(
            f"Atlassian's token endpoint answered {status}{detail}.", retry_after=retry_after(response)
        )
    if error or 400 <= status < 500:  # (an empty or null ``error`` beside a token is no refusal)
        raise ReconnectRequired(f"Atlassian refused to renew the Confluence connection ({code or f'HTTP {status}'}).")
    if status != 200 or not isinstance(payload, dict):
        raise AtlassianUnavailable(f"Atlassian's token endpoint answered {status} without a token.")
    try:
        return token_set_from(payload, now=now)
    except OAuthExchangeError:
        # The old refresh token stays good for 10 minutes after a rotation: asking again soon is safe.
        raise AtlassianUnavailable("Atlassian's token endpoint answered without a usable token.") from None


def retry_after(response: httpx.Response) -> float | None:
    """An Atlassian answer's Retry-After in seconds; None when absent, not a number, negative or infinite."""
    try:
        seconds = float(response.headers.get("Retry-After", ""))
    except ValueError:
        return None
    return seconds if 0 <= seconds < float("inf") else None


class TokenManager:
    """Hands out valid access tokens for the owners of a :class:`~bot.atlassian.token_stores.TokenStore` —
    connections by default, or person links — see the module docstring for the refresh protocol."""

    def __init__(
        self,
        services: Services,
        oauth: AtlassianOAuth,
        *,
        clock: Callable[[], datetime] = utcnow,
        refresh_margin: timedelta = timedelta(minutes=5),
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        poll_interval: float = 0.05,
        lease_timeout: float = 45.0,
        wait_timeout: float = 60.0,
        refresh_cooldown: float = REFRESH_COOLDOWN,
        store: TokenStore | None = None,
    ) -> None:
        self._services = services
        self._store: TokenStore = store or ConnectionTokens()
        self._oauth = oauth
        self._clock = clock
        self._margin = refresh_margin
        self._transport = transport
        self._sleep = sleep
        self._poll_interval = poll_interval
        self._lease_timeout = lease_timeout
        self._wait_timeout = wait_timeout
        self._refresh_cooldown = refresh_cooldown
        self._recent: dict[int, tuple[float, AccessToken]] = {}
        self._recent_lock = threading.Lock()
        self._cooldown: dict[int, float] = {}  # connection id → monotonic time until which refreshes fail at once

    def access_token(self, connection_id: int) -> str:
        """A valid decrypted access token, refreshed first when it expires within the margin."""
        return self.current(connection_id).value

    def current(self, connection_id: int) -> AccessToken:
        """Like :meth:`access_token`, with the version to pass to :meth:`force_refresh` after a 401.

        A token read in the last few seconds is reused while it stays valid beyond the refresh margin (a
        sync asks for it on every request); a connection marked for reconnect is noticed within that time."""
        now = time.monotonic()
        with self._recent_lock:
            read_at, token = self._recent.get(connection_id, (0.0, None))
        if token is not None and now - read_at < REUSE_SECONDS and token.expires_at > self._clock() + self._margin:
            return token
        token = self._obtain(connection_id, rejected_version=None)
        with self._recent_lock:
            self._recent[connection_id] = (now, token)
        return token

    def lost_access(self, connection_id: int, reason: str) -> None:
        """The API refuses the connection even with a freshly refreshed token: mark it for reconnect, so no sync
        tries it again before someone has consented again."""
        with self._recent_lock:
            self._recent.pop(connection_id, None)
        with self._services.sessions.begin() as session:
            self._store.refused(session, connection_id, expected_version=None)
        logger.warning("%s %s lost its access: %s", self._store.noun, connection_id, reason)

    def force_refresh(self, connection_id: int, seen_version: int) -> AccessToken:
        """After a 401 with the token read at ``seen_version``: a newer token, refreshing once if nobody has."""
        with self._recent_lock:
            self._recent.pop(connection_id, None)
        return self._obtain(connection_id, rejected_version=seen_version)

    # ----- the protocol ------------------------------------------------------------------------
    def _obtain(self, connection_id: int, *, rejected_version: int | None) -> AccessToken:
        deadline = time.monotonic() + self._wait_timeout
        watched_version, watched_since = -1, 0.0
        while True:
            stored = self._read(connection_id)
            now = self._clock()
            if stored.version % 2 == 0:
                if stored.version != rejected_version and self._lives(stored, now + self._margin):
                    return self._token(stored)
                refreshed = self._refresh(connection_id, stored.version)
                if refreshed is not None:
                    return refreshed
                continue  # somebody else claimed it first: look again
            if rejected_version is None and self._lives(stored, now + STILL_VALID_FOR):
                return self._token(stored)
            if stored.version != watched_version:
                watched_version, watched_since = stored.version, time.monotonic()
            elif time.monotonic() - watched_since > self._lease_timeout:
                logger.warning("taking over a stale token refresh of %s %s", self._store.noun, connection_id)
                refreshed = self._refresh(connection_id, stored.version)
                if refreshed is not None:
                    return refreshed
                continue
            if time.monotonic() > deadline:
                raise AtlassianUnavailable("Timed out waiting for another process to refresh the Confluence token.")
            self._sleep(self._poll_interval)

    def _read(self, connection_id: int) -> StoredTokens:
        with self._services.sessions.begin() as session:
            return self._store.read(session, connection_id)

    @staticmethod
    def _lives(stored: StoredTokens, until: datetime) -> bool:
        return stored.access_token_enc is not None and stored.expires_at is not None and stored.expires_at > until

    def _token(self, stored: StoredTokens) -> AccessToken:
        assert stored.access_token_enc is not None and stored.expires_at is not None
        value = self._services.cipher.decrypt(stored.access_token_enc)
        return AccessToken(value=value, version=stored.version, expires_at=stored.expires_at)

    def _refresh(self, connection_id: int, seen_version: int) -> AccessToken | None:
        """Claim the refresh at ``seen_version``, refresh and store; None when another caller claimed it first."""
        with self._recent_lock:
            failing = self._cooldown.get(connection_id, 0.0) > time.monotonic()
        if failing:
            raise AtlassianUnavailable("Atlassian's token endpoint kept failing moments ago; not asking it again yet.")
        claim = seen_version + 1 if seen_version % 2 == 0 else seen_version + 2
        with self._services.sessions.begin() as session:
            if not self._store.claim(session, connection_id, expected_version=seen_version, new_version=claim):
                return None
            refresh_enc = self._store.refresh_token_enc(session, connection_id)
        # No session is open from here while Atlassian is called.
        try:
            if refresh_enc is None:
                raise ReconnectRequired(RECONNECT_MESSAGE)
            tokens = self._call_token_endpoint(self._services.cipher.decrypt(refresh_enc))
        except ReconnectRequired as exc:
            with self._services.sessions.begin() as session:
                self._store.refused(session, connection_id, expected_version=claim)
            logger.warning("%s %s was refused for good: %s", self._store.noun, connection_id, exc)
            raise
        except BaseException as exc:  # released whatever happened (re-raised): another caller may refresh then
            if isinstance(exc, AtlassianUnavailable):
                with self._recent_lock:
                    self._cooldown[connection_id] = time.monotonic() + self._refresh_cooldown
            with self._services.sessions.begin() as session:
                self._store.claim(session, connection_id, expected_version=claim, new_version=claim + 1)
            raise
        cipher = self._services.cipher
        new_refresh = cipher.encrypt(tokens.refresh_token) if tokens.refresh_token else refresh_enc
        with self._services.sessions.begin() as session:
            stored = self._store.store(
                session,
                connection_id,
                expected_version=claim,
                access_token_enc=cipher.encrypt(tokens.access_token),
                refresh_token_enc=new_refresh,
                access_expires_at=tokens.expires_at,
                scopes=tokens.scope or None,
            )
        if not stored:
            logger.warning("a refresh of %s %s was taken over; using the other one", self._store.noun, connection_id)
            return None
        logger.info("refreshed the token of %s %s (version %d)", self._store.noun, connection_id, claim + 1)
        return AccessToken(value=tokens.access_token, version=claim + 1, expires_at=tokens.expires_at)

    def _call_token_endpoint(self, refresh_token: str) -> TokenSet:
        settings = self._services.settings
        secret = settings.atlassian_client_secret
        if not self._oauth.configured or settings.atlassian_client_id is None or secret is None:
            raise ConfigurationError(
                "ATLASSIAN_CLIENT_ID", "ATLASSIAN_CLIENT_ID and ATLASSIAN_CLIENT_SECRET are needed to refresh tokens."
            )
        attempt = 1
        while True:
            try:
                return refresh_tokens(
                    settings.atlassian_client_id,
                    secret.get_secret_value(),
                    f"{settings.atlassian_auth_url}/oauth/token",
                    refresh_token,
                    now=self._clock(),
                    transport=self._transport,
                )
            except AtlassianUnavailable as exc:
                if attempt >= REFRESH_TRIES:
                    raise
                asked = exc.retry_after
                wait = min(REFRESH_WAIT_MAX, asked if asked is not None else REFRESH_BACKOFF * 2 ** (attempt - 1))
                logger.info("refreshing a Confluence token failed (%s); trying again in %.1fs", exc, wait)
                self._sleep(wait)
                attempt += 1
