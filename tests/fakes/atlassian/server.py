"""``FakeAtlassian``: the auth server and the API gateway on two real sockets, plus shared state.

* ``auth_url`` (stands in for https://auth.atlassian.com): ``GET /authorize``, ``POST /oauth/token``.
* ``api_url`` (stands in for https://api.atlassian.com): ``GET /oauth/token/accessible-resources``,
  ``GET /me``, ``/ex/confluence/{cloudid}/wiki/api/v2/…`` and ``…/wiki/rest/api/…`` (Bearer;
  v1 also HTTP Basic), and a site-style prefix ``/wiki/…`` (or bare ``/rest/api/…``) for the
  first site, accepting Basic or Bearer, so peer libraries can use ``url=api_url[/wiki]``.

Every request passes through fault injection and latency, then lands in :attr:`FakeAtlassian.log`.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import threading
import uuid
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any
from urllib.parse import urlencode

from . import confluence_v1, confluence_v2
from .clock import FakeClock
from .common import ApiContext, ApiError, HostedSite, v1_error, v2_error
from .faults import FaultKind, FaultPlan, FaultRule, RequestLog, RequestRecord, apply_fault
from .oauth import Consent, Grant, OAuthApp, OAuthServer
from .site import Site, SiteSpec
from .transport import HttpServer, Outcome, Request, Response, Router, json_response

DEFAULT_SCOPES = (
    "read:space:confluence read:page:confluence read:content-details:confluence "
    "read:confluence-content.all read:confluence-space.summary search:confluence read:me offline_access"
).split()
UNAUTHORIZED = {"code": 401, "message": "Unauthorized"}
AVATAR = "https://site-admin-avatar-cdn.prod.public.atl-paas.net/avatars/240/rocket.png"


@dataclass(frozen=True)
class SiteConfig:
    """One Confluence site served by the fake."""

    name: str = "acme"
    spec: SiteSpec = field(default_factory=SiteSpec)
    cloud_id: str | None = None
    cql_tz_offset_minutes: int = 0


@dataclass(frozen=True)
class _Route:
    handler: Any
    scopes: tuple[str, ...]
    v1: bool


class FakeAtlassian:
    """Fake auth.atlassian.com + api.atlassian.com for one or more generated sites."""

    def __init__(
        self,
        spec: SiteSpec | None = None,
        *,
        sites: list[SiteConfig] | None = None,
        apps: list[OAuthApp] | None = None,
        access_ttl: float = 3600.0,
        basic_email: str = "bot@acme.example",
        api_token: str = "fake-api-token",
        enforce_scopes: bool = True,
        clock: FakeClock | None = None,
        paging: str = "both",
    ) -> None:
        if paging not in ("both", "body", "header"):
            raise ValueError("paging is both, body or header")
        self.paging = paging
        #: How the gateway answers an unknown, expired or revoked Bearer token: 401, or (see
        #: answer_refused_tokens_with) what Atlassian's gateway has been seen to send instead.
        self.refused_token_status = {"v2": 401, "v1": 401}
        self.clock = clock or FakeClock()
        configs = sites or [SiteConfig(spec=spec or SiteSpec())]
        self.sites: dict[str, HostedSite] = {}
        for config in configs:
            cloud_id = config.cloud_id or str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{config.name}.atlassian.net"))
            self.sites[cloud_id] = HostedSite(
                cloud_id, config.name, Site(config.spec, self.clock), config.cql_tz_offset_minutes
            )
        self.apps = apps or [OAuthApp()]
        self.oauth = OAuthServer(
            self.clock, self.apps, list(self.sites), self.site.users[0].account_id, access_ttl=access_ttl
        )
        self.basic_credentials = (basic_email, api_token)
        self.enforce_scopes = enforce_scopes
        self.faults = FaultPlan()
        self.log = RequestLog()
        self._stop = threading.Event()
        self._answering = threading.Event()
        self._answering.set()
        self._wiki: Router[_Route] = Router()
        confluence_v2.register(self._wiki, lambda handler, scope: _Route(handler, (scope,), False))
        confluence_v1.register(self._wiki, lambda handler, scopes: _Route(handler, scopes, True))
        self._auth_server = HttpServer(lambda r: self._serve("auth", r, self._resolve_auth), self._stop)
        self._api_server = HttpServer(lambda r: self._serve("api", r, self._resolve_api), self._stop)

    # ----- lifecycle and convenience ----------------------------------------------------------
    def start(self) -> FakeAtlassian:
        self._stop.clear()
        self._auth_server.start()
        self._api_server.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._auth_server.stop()
        self._api_server.stop()

    def __enter__(self) -> FakeAtlassian:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def auth_url(self) -> str:
        return self._auth_server.url

    @property
    def api_url(self) -> str:
        return self._api_server.url

    @property
    def hosted(self) -> HostedSite:
        return next(iter(self.sites.values()))

    @property
    def site(self) -> Site:
        return self.hosted.site

    @property
    def cloud_id(self) -> str:
        return self.hosted.cloud_id

    @property
    def app(self) -> OAuthApp:
        return self.apps[0]

    @property
    def consent(self) -> Consent:
        return self.oauth.consent

    def gateway_url(self, cloud_id: str | None = None) -> str:
        """``{api_url}/ex/confluence/{cloudid}`` — prepend to v2 ``_links.next``."""
        return f"{self.api_url}/ex/confluence/{cloud_id or self.cloud_id}"

    def wiki_url(self, cloud_id: str | None = None) -> str:
        return self.gateway_url(cloud_id) + "/wiki"

    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)

    def set_consent(
        self, *, approve: bool = True, site_ids: tuple[str, ...] | None = None, account_id: str | None = None
    ) -> None:
        self.oauth.consent = Consent(approve=approve, site_ids=site_ids, account_id=account_id)

    def authorize_url(
        self, *, scopes: list[str] | None = None, state: str = "state-123", redirect_uri: str | None = None
    ) -> str:
        params = {
            "audience": "api.atlassian.com",
            "client_id": self.app.client_id,
            "scope": " ".join(scopes or DEFAULT_SCOPES),
            "redirect_uri": redirect_uri or self.app.redirect_uris[0],
            "state": state,
            "response_type": "code",
            "prompt": "consent",
        }
        return f"{self.auth_url}/authorize?{urlencode(params)}"

    def issue_token(
        self, scopes: list[str] | None = None, *, site_ids: tuple[str, ...] | None = None
    ) -> dict[str, Any]:
        """Token response as if the OAuth dance had happened (for API-only tests)."""
        return self.oauth.issue_tokens(tuple(scopes or DEFAULT_SCOPES), site_ids=site_ids)

    def inject(
        self,
        pattern: str,
        kind: FaultKind | str,
        times: int | None = 1,
        *,
        retry_after: int = 2,
        hold: float = 5.0,
        skip: int = 0,
        **details: Any,
    ) -> FaultRule:
        """Fail matching requests; ``pattern`` is an fnmatch over the endpoint key or raw request line.

        ``details`` are the kind's own settings (see :class:`FaultRule`): ``error``, ``status`` and ``description``
        for ``oauth_error``; ``rewrite_next``, ``where`` and ``raw_link`` for ``next_link``."""
        return self.faults.add(FaultRule(pattern, FaultKind(kind), times, skip, retry_after, hold, **details))

    def answer_refused_tokens_with(self, *, v2: int = 404, v1: int = 403) -> None:
        """Answer an unknown, expired or revoked Bearer token as Atlassian's gateway has been reported to: 404 on
        v2 and 403 on v1 instead of 401."""
        self.refused_token_status = {"v2": v2, "v1": v1}

    def expire_access_tokens(self) -> None:
        """Every access token issued so far expires now (the gateway refuses them; refresh tokens still work)."""
        self.oauth.expire_access_tokens()

    def set_latency(self, seconds: float, pattern: str | None = None) -> None:
        if pattern is None:
            self.faults.default_latency = seconds
        else:
            self.faults.add_latency(pattern, seconds)

    def hold_requests(self) -> None:
        """Every request from now on waits, unanswered, until :meth:`release_requests` (or the fake stops)."""
        self._answering.clear()

    def release_requests(self) -> None:
        self._answering.set()

    def clear_faults(self) -> None:
        self.faults.clear()

    # ----- request pipeline -------------------------------------------------------------------
    def _serve(self, server: str, request: Request, resolve: Any) -> Outcome:
        while not self._answering.wait(0.05) and not self._stop.is_set():
            pass
        endpoint, respond = resolve(request)
        line = f"{request.method} {request.path}"
        delay = self.faults.latency_for(endpoint, line)
        if delay > 0:
            self._stop.wait(delay)
        rule = self.faults.take(endpoint, line)
        real = respond() if rule is None or rule.kind.needs_real else None
        outcome: Outcome = apply_fault(rule, real) if rule is not None else real  # type: ignore[assignment]
        status = outcome.status if isinstance(outcome, Response) else 0
        source = real if real is not None else Response(status)
        self.log.append(
            RequestRecord(
                server=server,
                method=request.method,
                path=request.path,
                query=request.raw_query,
                endpoint=endpoint,
                status=status,
                principal=source.principal or _presented(request),
                fault=rule.kind.value if rule else None,
                body_ids=source.body_ids if rule is None else (),
                note=source.note,
                at=self.clock.now(),
            )
        )
        return outcome

    def _resolve_auth(self, request: Request) -> tuple[str, Any]:
        if request.method == "GET" and request.path == "/authorize":
            return "GET /authorize", lambda: self.oauth.authorize(request)
        if request.method == "POST" and request.path == "/oauth/token":
            return "POST /oauth/token", lambda: self.oauth.token(request)
        return _not_found(request)

    def _resolve_api(self, request: Request) -> tuple[str, Any]:
        path = request.path
        if request.method == "GET" and path == "/oauth/token/accessible-resources":
            return "GET /oauth/token/accessible-resources", lambda: self._accessible_resources(request)
        if request.method == "GET" and path == "/me":
            return "GET /me", lambda: self._me(request)
        if path.startswith("/ex/confluence/"):
            cloud_id, _, rest = path.removeprefix("/ex/confluence/").partition("/")
            hosted = self.sites.get(cloud_id)
            if hosted is None:
                return f"{request.method} /ex/confluence/{{cloudid}}", lambda: json_response(
                    404, {"code": 404, "message": "Cloud id not found"}
                )
            return self._resolve_wiki(request, hosted, "/" + rest, gateway=True)
        if path.startswith("/rest/api/"):
            path = "/wiki" + path
        if path.startswith("/wiki/"):
            return self._resolve_wiki(request, self.hosted, path, gateway=False)
        return _not_found(request)

    def _resolve_wiki(self, request: Request, hosted: HostedSite, wiki_path: str, *, gateway: bool) -> tuple[str, Any]:
        found = self._wiki.match(request.method, wiki_path)
        if found is None:
            return _not_found(request, wiki_path)
        endpoint, route, params = found

        def respond() -> Response:
            render = v1_error if route.v1 else v2_error
            who = self._authenticate(request, hosted, route, gateway)
            if isinstance(who, Response):
                return who
            principal, account_id = who
            try:
                context = ApiContext(hosted, request, params, wiki_path, account_id, self.paging)
                response: Response = route.handler(context)
            except ApiError as exc:
                response = render(exc.status, exc.title)
            response.principal = principal
            return response

        return endpoint, respond

    # ----- authentication ---------------------------------------------------------------------
    def _authenticate(
        self, request: Request, hosted: HostedSite, route: _Route, gateway: bool
    ) -> tuple[str, str] | Response:
        header = request.header("authorization") or ""
        scheme, _, credential = header.partition(" ")
        if scheme.lower() == "basic" and (route.v1 or not gateway):
            return self._basic(credential)
        if scheme.lower() != "bearer":
            return json_response(401, UNAUTHORIZED)
        grant = self.oauth.check_access(credential.strip())
        if grant is None:
            status = self.refused_token_status["v1" if route.v1 else "v2"]
            if status == 401:
                refused = json_response(401, UNAUTHORIZED)
            else:
                refused = (v1_error if route.v1 else v2_error)(status, "Not Found" if status == 404 else "Forbidden")
            refused.note = "token refused"
            return refused
        if hosted.cloud_id not in grant.site_ids:
            return json_response(401, UNAUTHORIZED)
        if self.enforce_scopes and not grant.scopes.intersection(route.scopes):
            return json_response(401, {"code": 401, "message": "Unauthorized; scope does not match"})
        return grant.token, grant.account_id

    def _basic(self, credential: str) -> tuple[str, str] | Response:
        try:
            email, _, token = base64.b64decode(credential, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return json_response(401, UNAUTHORIZED)
        expected_email, expected_token = self.basic_credentials
        if email != expected_email or not secrets.compare_digest(token, expected_token):
            return json_response(401, UNAUTHORIZED)
        return f"basic:{email}", self.site.users[0].account_id

    def _bearer(self, request: Request) -> Grant | Response:
        scheme, _, token = (request.header("authorization") or "").partition(" ")
        grant = self.oauth.check_access(token.strip()) if scheme.lower() == "bearer" else None
        return grant if grant is not None else json_response(401, UNAUTHORIZED)

    def _accessible_resources(self, request: Request) -> Response:
        grant = self._bearer(request)
        if isinstance(grant, Response):
            return grant
        scopes = sorted(s for s in grant.scopes if s != "offline_access")
        body = [
            {"id": h.cloud_id, "url": h.url, "name": h.name, "scopes": scopes, "avatarUrl": AVATAR}
            for cid, h in self.sites.items()
            if cid in grant.site_ids
        ]
        response = json_response(200, body)
        response.principal = grant.token
        return response

    def _me(self, request: Request) -> Response:
        grant = self._bearer(request)
        if isinstance(grant, Response):
            return grant
        if self.enforce_scopes and "read:me" not in grant.scopes:
            return json_response(401, {"code": 401, "message": "Unauthorized; scope does not match"})
        user = next(u for h in self.sites.values() for u in h.site.users if u.account_id == grant.account_id)
        body = {
            "account_type": "atlassian",
            "account_id": user.account_id,
            "email": user.email,
            "name": user.display_name,
            "nickname": user.display_name.split()[0],
            "picture": f"https://avatar-management.example/{user.account_id}.png",
            "account_status": "active",
            "locale": "en-US",
            "zoneinfo": "Europe/Berlin",
            "extended_profile": {"job_title": "Engineer", "organization": "Acme"},
        }
        response = json_response(200, body)
        response.principal = grant.token
        return response


def _presented(request: Request) -> str | None:
    scheme, _, credential = (request.header("authorization") or "").partition(" ")
    return credential.strip() if scheme.lower() == "bearer" else None


def _not_found(request: Request, path: str | None = None) -> tuple[str, Any]:
    message = f"No route for {request.method} {path or request.path}"
    return f"{request.method} <unknown>", lambda: json_response(404, {"code": 404, "message": message})
