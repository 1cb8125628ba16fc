"""Token-level identity answers of api.atlassian.com (not Confluence REST, so they cost no points).

* ``GET /oauth/token/accessible-resources`` — the sites the token covers: a person linked to another site
  sees only that site's cloud id here, and the gateway refuses this site's paths for their token.
* ``GET /me`` (``read:me``) — who the token belongs to, with their own e-mail (privacy settings do not hide
  your address from yourself).

Also :func:`complete_oauth`, which drives the 3LO browser dance over HTTP as one person.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlparse

import httpx

from .common import HostedSite
from .oauth import Grant, OAuthServer
from .transport import Request, Response, json_response

if TYPE_CHECKING:
    from .server import FakeAtlassian

UNAUTHORIZED = {"code": 401, "message": "Unauthorized"}
AVATAR = "https://site-admin-avatar-cdn.prod.public.atl-paas.net/avatars/240/rocket.png"


PATHS = ("/oauth/token/accessible-resources", "/me")


def answer(path: str, grant: Grant | Response, sites: Mapping[str, HostedSite], enforce_scopes: bool) -> Response:
    return accessible_resources(grant, sites) if path == PATHS[0] else me(grant, sites, enforce_scopes)


def bearer(oauth: OAuthServer, request: Request) -> Grant | Response:
    scheme, _, token = (request.header("authorization") or "").partition(" ")
    grant = oauth.check_access(token.strip()) if scheme.lower() == "bearer" else None
    return grant if grant is not None else json_response(401, UNAUTHORIZED)


def accessible_resources(grant: Grant | Response, sites: Mapping[str, HostedSite]) -> Response:
    if isinstance(grant, Response):
        return grant
    scopes = sorted(s for s in grant.scopes if s != "offline_access")
    body = [
        {"id": h.cloud_id, "url": h.url, "name": h.name, "scopes": scopes, "avatarUrl": AVATAR}
        for cid, h in sites.items()
        if cid in grant.site_ids
    ]
    response = json_response(200, body)
    response.principal = grant.token
    return response


def me(grant: Grant | Response, sites: Mapping[str, HostedSite], enforce_scopes: bool) -> Response:
    if isinstance(grant, Response):
        return grant
    if enforce_scopes and "read:me" not in grant.scopes:
        return json_response(401, {"code": 401, "message": "Unauthorized; scope does not match"})
    user = next((u for h in sites.values() if (u := h.site.people.user(grant.account_id)) is not None), None)
    if user is None or user.status.value == "closed":
        return json_response(401, UNAUTHORIZED)
    body = {
        "account_type": user.account_type,
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


def complete_oauth(fake: FakeAtlassian, account_id: str, scopes: list[str], state: str) -> dict[str, Any]:
    """Authorize as ``account_id`` (their browser session), then exchange the code: their own token pair."""
    app = fake.app
    cookies = fake.session_cookies(account_id)
    url = fake.authorize_url(scopes=scopes, state=state)
    with httpx.Client(cookies=cookies, timeout=10) as browser:
        answer = browser.get(url)
    location = answer.headers.get("location", "")
    query = parse_qs(urlparse(location).query)
    if answer.status_code != 302 or "code" not in query:
        raise RuntimeError(f"consent did not produce a code: {answer.status_code} {location or answer.text[:200]}")
    form = {
        "grant_type": "authorization_code",
        "client_id": app.client_id,
        "client_secret": app.client_secret,
        "code": query["code"][0],
        "redirect_uri": app.redirect_uris[0],
    }
    token = httpx.post(f"{fake.auth_url}/oauth/token", data=form, timeout=10)
    token.raise_for_status()
    payload: dict[str, Any] = token.json()
    return payload
