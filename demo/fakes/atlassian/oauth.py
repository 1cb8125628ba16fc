"""Atlassian OAuth 2.0 (3LO) authorization server logic with rotating refresh tokens.

HTTP-independent: :class:`OAuthServer` turns parsed requests into responses and answers
:meth:`OAuthServer.check_access` for the API gateway.  Behaviour follows the reference notes:
codes are single-use, bound to client + redirect_uri and live 10 minutes; each refresh rotates
the refresh token; the previous one keeps working for a 10 minute grace window after its rotation,
and reusing it later revokes the whole token family (403 ``invalid_grant``).
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from html import escape
from http.cookies import CookieError, SimpleCookie
from urllib.parse import urlencode

from .clock import FakeClock
from .transport import Request, Response, html_response, json_response, redirect

CODE_TTL = 600.0
REFRESH_GRACE = 600.0
REFRESH_INACTIVITY = 90 * 86_400.0
FAMILY_MAX_AGE = 365 * 86_400.0
UNKNOWN_REFRESH = "Unknown or invalid refresh token."
#: The browser's login at auth.atlassian.com: ``/authorize`` consents as the account this cookie names.
SESSION_COOKIE = "fake_atlassian_session"


@dataclass(frozen=True)
class OAuthApp:
    """A 3LO app registered in the (fake) developer console."""

    client_id: str = "fake-client-id"
    client_secret: str = "fake-client-secret"
    redirect_uris: tuple[str, ...] = ("http://localhost:3000/oauth/callback",)
    scopes: tuple[str, ...] | None = None


@dataclass
class Consent:
    """What the (simulated) user does on the consent screen."""

    approve: bool = True
    site_ids: tuple[str, ...] | None = None
    account_id: str | None = None
    error_description: str = "access_denied: the user declined the consent"


@dataclass(frozen=True)
class Grant:
    """What a valid access token allows."""

    token: str
    family_id: str
    account_id: str
    scopes: frozenset[str]
    site_ids: tuple[str, ...]


@dataclass
class _Code:
    client_id: str
    redirect_uri: str
    scopes: tuple[str, ...]
    site_ids: tuple[str, ...]
    account_id: str
    expires_at: float
    used: bool = False


@dataclass
class _Family:
    id: str
    client_id: str
    account_id: str
    scopes: tuple[str, ...]
    site_ids: tuple[str, ...]
    created_at: float
    revoked: bool = False
    access: list[str] = field(default_factory=list)


@dataclass
class _Access:
    family_id: str
    expires_at: float


@dataclass
class _Refresh:
    family_id: str
    last_used_at: float
    rotated_at: float | None = None


class OAuthError(Exception):
    """Raised internally to produce an OAuth JSON error response."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status, self.error, self.description = status, error, description


def _error_page(message: str) -> Response:
    body = "<!DOCTYPE html><html><head><title>Error</title></head><body><h1>Something went wrong</h1>"
    return html_response(400, body + f"<p>{escape(message)}</p></body></html>")


class OAuthServer:
    """State and behaviour of auth.atlassian.com for the fake."""

    def __init__(
        self,
        clock: FakeClock,
        apps: list[OAuthApp],
        site_ids: list[str],
        default_account_id: str,
        *,
        access_ttl: float = 3600.0,
        sites_of: Callable[[str], tuple[str, ...]] | None = None,
    ) -> None:
        self.clock = clock
        #: The sites an account can pick on the consent screen (default: every site).
        self.sites_of = sites_of or (lambda _account: tuple(site_ids))
        #: What a logged-in person (see SESSION_COOKIE) does on the consent screen; others follow ``consent``.
        self.user_consents: dict[str, Consent] = {}
        self.apps = {app.client_id: app for app in apps}
        self.site_ids = site_ids
        self.default_account_id = default_account_id
        self.access_ttl = access_ttl
        self.consent = Consent()
        self.require_audience = True
        self._lock = threading.Lock()
        self._codes: dict[str, _Code] = {}
        self._families: dict[str, _Family] = {}
        self._access: dict[str, _Access] = {}
        self._refresh: dict[str, _Refresh] = {}

    # ----- /authorize -------------------------------------------------------------------------
    def authorize(self, request: Request) -> Response:
        app = self.apps.get(request.param("client_id") or "")
        if app is None:
            return _error_page("Invalid client_id: the app is not registered.")
        redirect_uri = request.param("redirect_uri") or ""
        if redirect_uri not in app.redirect_uris:
            return _error_page("redirect_uri does not match a callback URL registered for the app.")
        problem = self._authorize_problem(request, app)
        if problem:
            return _error_page(problem)
        state = request.param("state") or ""
        session = _session(request)
        consent = self.user_consents.get(session, self.consent) if session else self.consent
        account = consent.account_id or session or self.default_account_id
        if consent.site_ids is not None:
            site_ids = tuple(consent.site_ids)
        else:
            site_ids = self.sites_of(account) if session else tuple(self.site_ids)
        if not consent.approve:
            query = {"error": "access_denied", "error_description": consent.error_description, "state": state}
            return redirect(_with_query(redirect_uri, query))
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._codes[code] = _Code(
                client_id=app.client_id,
                redirect_uri=redirect_uri,
                scopes=tuple((request.param("scope") or "").split()),
                site_ids=site_ids,
                account_id=account,
                expires_at=self.clock.now() + CODE_TTL,
            )
        return redirect(_with_query(redirect_uri, {"code": code, "state": state}))

    def _authorize_problem(self, request: Request, app: OAuthApp) -> str | None:
        if request.param("response_type") != "code":
            return "response_type must be 'code'."
        if self.require_audience and request.param("audience") != "api.atlassian.com":
            return "audience must be 'api.atlassian.com'."
        if not request.param("state"):
            return "state is required."
        scopes = (request.param("scope") or "").split()
        if not scopes:
            return "scope is required."
        if app.scopes is not None and not set(scopes) <= set(app.scopes):
            return "scope contains scopes that were not added to the app: " + " ".join(
                sorted(set(scopes) - set(app.scopes))
            )
        return None

    # ----- /oauth/token -----------------------------------------------------------------------
    def token(self, request: Request) -> Response:
        data = request.form_or_json()
        try:
            app = self._client(data)
            grant_type = data.get("grant_type")
            if grant_type == "authorization_code":
                payload = self._exchange_code(app, data)
            elif grant_type == "refresh_token":
                payload = self._refresh_grant(app, data)
            else:
                raise OAuthError(400, "unsupported_grant_type", f"Unsupported grant_type {grant_type!r}")
        except OAuthError as exc:
            response = json_response(exc.status, {"error": exc.error, "error_description": exc.description})
            response.note = data.get("grant_type", "")
            return response
        response = json_response(200, payload, [("Cache-Control", "no-store")])
        response.note = data.get("grant_type", "")
        return response

    def _client(self, data: dict[str, str]) -> OAuthApp:
        app = self.apps.get(data.get("client_id", ""))
        if app is None or not secrets.compare_digest(data.get("client_secret", ""), app.client_secret):
            raise OAuthError(401, "invalid_client", "Client authentication failed (client_secret_post).")
        return app

    def _exchange_code(self, app: OAuthApp, data: dict[str, str]) -> dict[str, object]:
        with self._lock:
            code = self._codes.get(data.get("code", ""))
            valid = (
                code is not None
                and not code.used
                and code.client_id == app.client_id
                and code.redirect_uri == data.get("redirect_uri")
                and code.expires_at > self.clock.now()
            )
            if code is None or not valid:
                raise OAuthError(403, "invalid_grant", "Invalid authorization code")
            code.used = True
            family = _Family(
                secrets.token_hex(8), app.client_id, code.account_id, code.scopes, code.site_ids, self.clock.now()
            )
            self._families[family.id] = family
            return self._issue(family)

    def _refresh_grant(self, app: OAuthApp, data: dict[str, str]) -> dict[str, object]:
        now = self.clock.now()
        with self._lock:
            record = self._refresh.get(data.get("refresh_token", ""))
            family = self._families.get(record.family_id) if record else None
            if record is None or family is None or family.revoked or family.client_id != app.client_id:
                raise OAuthError(403, "invalid_grant", UNKNOWN_REFRESH)
            expired = now - record.last_used_at > REFRESH_INACTIVITY or now - family.created_at > FAMILY_MAX_AGE
            reused_late = record.rotated_at is not None and now - record.rotated_at > REFRESH_GRACE
            if expired or reused_late:
                self._revoke(family)
                raise OAuthError(403, "invalid_grant", UNKNOWN_REFRESH)
            if record.rotated_at is None:
                record.rotated_at = now
            record.last_used_at = now
            return self._issue(family)

    def _issue(self, family: _Family) -> dict[str, object]:
        now = self.clock.now()
        access = secrets.token_urlsafe(32)
        self._access[access] = _Access(family.id, now + self.access_ttl)
        family.access.append(access)
        payload: dict[str, object] = {
            "access_token": access,
            "expires_in": int(self.access_ttl),
            "scope": " ".join(family.scopes),
            "token_type": "Bearer",
        }
        if "offline_access" in family.scopes:
            refresh = secrets.token_urlsafe(40)
            self._refresh[refresh] = _Refresh(family.id, now)
            payload["refresh_token"] = refresh
        return payload

    def _revoke(self, family: _Family) -> None:
        family.revoked = True

    # ----- helpers for the gateway and tests --------------------------------------------------
    def check_access(self, token: str) -> Grant | None:
        """The grant behind a live access token, or ``None`` if unknown/expired/revoked."""
        with self._lock:
            record = self._access.get(token)
            family = self._families.get(record.family_id) if record else None
            if record is None or family is None or family.revoked or record.expires_at <= self.clock.now():
                return None
            return Grant(token, family.id, family.account_id, frozenset(family.scopes), family.site_ids)

    def issue_tokens(
        self,
        scopes: tuple[str, ...],
        *,
        client_id: str | None = None,
        site_ids: tuple[str, ...] | None = None,
        account_id: str | None = None,
    ) -> dict[str, object]:
        """Skip the browser dance: create a family and return a token response payload."""
        app_id = client_id or next(iter(self.apps))
        if site_ids is None:
            site_ids = self.sites_of(account_id) if account_id else tuple(self.site_ids)
        with self._lock:
            family = _Family(
                secrets.token_hex(8), app_id, account_id or self.default_account_id, scopes, site_ids, self.clock.now()
            )
            self._families[family.id] = family
            return self._issue(family)

    def expire_access_tokens(self) -> None:
        """Every access token issued so far is expired from now on."""
        with self._lock:
            now = self.clock.now()
            for record in self._access.values():
                record.expires_at = min(record.expires_at, now)

    def issued_tokens(self) -> set[str]:
        """Every access and refresh token ever issued (tests check that none is stored in plain text)."""
        with self._lock:
            return set(self._access) | set(self._refresh)

    def family_of(self, token: str) -> str | None:
        with self._lock:
            record = self._access.get(token) or self._refresh.get(token)
            return record.family_id if record else None

    def is_family_revoked(self, family_id: str) -> bool:
        with self._lock:
            return self._families[family_id].revoked

    def revoke_family(self, family_id: str) -> None:
        with self._lock:
            self._revoke(self._families[family_id])


def _with_query(url: str, params: dict[str, str]) -> str:
    return url + ("&" if "?" in url else "?") + urlencode(params)


def _session(request: Request) -> str | None:
    cookie = SimpleCookie()
    try:
        cookie.load(request.header("cookie") or "")
    except CookieError:
        return None
    morsel = cookie.get(SESSION_COOKIE)
    return morsel.value if morsel is not None and morsel.value else None
