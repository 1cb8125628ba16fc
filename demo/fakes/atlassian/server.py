"""``FakeAtlassian``: the auth server and the API gateway on two real sockets, plus shared state.

* ``auth_url`` (stands in for https://auth.atlassian.com): ``GET /authorize``, ``POST /oauth/token``.
* ``api_url`` (stands in for https://api.atlassian.com): ``GET /oauth/token/accessible-resources``,
  ``GET /me``, ``/ex/confluence/{cloudid}/wiki/api/v2/…`` and ``…/wiki/rest/api/…`` (Bearer;
  v1 also HTTP Basic), and a site-style prefix ``/wiki/…`` (or bare ``/rest/api/…``) for the
  first site, accepting Basic or Bearer, so peer libraries can use ``url=api_url[/wiki]``.

Every request passes through fault injection and latency, then lands in :attr:`FakeAtlassian.log` with
its Atlassian points (``points.py``).  Answers are the calling account's view: the Bearer token's owner,
or ``site.users[0]`` for HTTP Basic (see ``permissions.py``, ``confluence_acl.py``, ``account_api.py``).
"""

from __future__ import annotations

import base64
import binascii
import secrets
import threading
import uuid
from dataclasses import dataclass, field
from email.utils import formatdate
from types import TracebackType
from typing import Any
from urllib.parse import urlencode

from . import account_api, confluence_acl, confluence_v1, confluence_v2
from .clock import FakeClock
from .common import ApiContext, ApiError, HostedSite, v1_error, v2_error
from .faults import FaultKind, FaultPlan, FaultRule, RequestLog, RequestRecord, apply_fault
from .oauth import SESSION_COOKIE, Consent, OAuthApp, OAuthServer
from .points import PointsBudget
from .site import Site, SiteSpec
from .transport import HttpServer, Outcome, Request, Response, Router, json_response

DEFAULT_SCOPES = (
    "read:space:confluence read:page:confluence read:content-details:confluence "
    "read:confluence-content.all read:confluence-space.summary search:confluence read:me offline_access"
).split()
#: DEFAULT_SCOPES plus what a permission sync reads (users, groups, restrictions, space permissions).
PERMISSION_SCOPES = [
    *DEFAULT_SCOPES,
    *"read:user:confluence read:group:confluence read:confluence-user read:confluence-groups".split(),
    *"read:content.restriction:confluence read:space.permission:confluence".split(),
]
UNAUTHORIZED = {"code": 401, "message": "Unauthorized"}


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
            self.clock,
            self.apps,
            list(self.sites),
            self.site.users[0].account_id,
            access_ttl=access_ttl,
            sites_of=self.sites_of,
        )
        self.points = PointsBudget()
        self.basic_credentials = (basic_email, api_token)
        self.enforce_scopes = enforce_scopes
        self.faults = FaultPlan()
        self.log = RequestLog()
        self._stop = threading.Event()
        self._wiki: Router[_Route] = Router()
        confluence_v2.register(self._wiki, lambda handler, scope: _Route(handler, (scope,), False))
        confluence_v1.register(self._wiki, lambda handler, scopes: _Route(handler, scopes, True))
        for method, template, handler, scopes in confluence_acl.V1_ROUTES:
            self._wiki.add(method, template, _Route(handler, scopes, True))
        for method, template, handler, scope in confluence_acl.V2_ROUTES:
            self._wiki.add(method, template, _Route(handler, (scope,), False))
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
        self,
        scopes: list[str] | None = None,
        *,
        site_ids: tuple[str, ...] | None = None,
        account_id: str | None = None,
    ) -> dict[str, Any]:
        """Token response as if the OAuth dance had happened (for API-only tests); ``account_id`` picks whose
        token it is (default: the connecting user, ``site.users[0]``) and then the sites default to theirs."""
        return self.oauth.issue_tokens(tuple(scopes or DEFAULT_SCOPES), site_ids=site_ids, account_id=account_id)

    def sites_of(self, account_id: str) -> tuple[str, ...]:
        """Cloud ids of the sites whose directory has this account (what their consent screen offers)."""
        return tuple(cid for cid, hosted in self.sites.items() if hosted.site.people.user(account_id) is not None)

    def session_cookies(self, account_id: str) -> dict[str, str]:
        """Cookies of a browser logged in to Atlassian as ``account_id``: ``/authorize`` then consents as them."""
        return {SESSION_COOKIE: account_id}

    def set_user_consent(
        self, account_id: str, *, approve: bool = True, site_ids: tuple[str, ...] | None = None
    ) -> None:
        """What this person (logged in through session_cookies) does on the consent screen."""
        self.oauth.user_consents[account_id] = Consent(approve=approve, site_ids=site_ids)

    def complete_oauth(self, account_id: str, *, scopes: list[str] | None = None, state: str = "s") -> dict[str, Any]:
        """Run the 3LO dance over HTTP as ``account_id`` (authorize with their session, exchange the code)."""
        return account_api.complete_oauth(self, account_id, scopes or DEFAULT_SCOPES, state)

    def set_points_quota(self, points_per_hour: int | None) -> None:
        """Enforce an hourly points budget for the whole app (None: count only)."""
        self.points.quota = points_per_hour

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

    def clear_faults(self) -> None:
        self.faults.clear()

    # ----- request pipeline -------------------------------------------------------------------
    def _serve(self, server: str, request: Request, resolve: Any) -> Outcome:
        self.faults.wait_while_held(self._stop)
        endpoint, respond = resolve(request)
        line = f"{request.method} {request.path}"
        delay = self.faults.latency_for(endpoint, line, request.raw_query)
        if delay > 0:
            self._stop.wait(delay)
        rule = self.faults.take(endpoint, line, request.raw_query)
        real = respond() if rule is None or rule.kind.needs_real else None
        outcome: Outcome = apply_fault(rule, real) if rule is not None else real  # type: ignore[assignment]
        status = outcome.status if isinstance(outcome, Response) else 0
        if isinstance(outcome, Response):  # Atlassian's clock, not this machine's: the fake's own time
            outcome.headers.append(("Date", formatdate(self.clock.now(), usegmt=True)))
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
                points=real.points if real is not None else 0,
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
        if request.method == "GET" and path in account_api.PATHS:
            return f"GET {path}", lambda: account_api.answer(
                path, account_api.bearer(self.oauth, request), self.sites, self.enforce_scopes
            )
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
            now = self.clock.now()
            spent = self.points.refusal(now)
            if spent is not None:
                return spent
            who = self._authenticate(request, hosted, route, gateway)
            if isinstance(who, Response):
                return who
            principal, account_id = who
            context = ApiContext(hosted, request, params, wiki_path, account_id, self.paging)
            try:
                response: Response = route.handler(context)
                response.points = context.meter.points
            except ApiError as exc:
                response = render(exc.status, exc.title)
                response.points = 1
            self.points.charge(now, response.points)
            response.headers += self.points.headers(now)
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
        owner = hosted.site.people.user(grant.account_id) if grant is not None else None
        if grant is None or (owner is not None and not owner.active):  # a deactivated person's tokens stop working
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


def _presented(request: Request) -> str | None:
    scheme, _, credential = (request.header("authorization") or "").partition(" ")
    return credential.strip() if scheme.lower() == "bearer" else None


def _not_found(request: Request, path: str | None = None) -> tuple[str, Any]:
    message = f"No route for {request.method} {path or request.path}"
    return f"{request.method} <unknown>", lambda: json_response(404, {"code": 404, "message": message})
