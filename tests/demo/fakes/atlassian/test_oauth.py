"""OAuth 2.0 (3LO) behaviour of the fake auth server, over real sockets."""

from __future__ import annotations

import warnings
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from authlib.deprecate import AuthlibDeprecationWarning
from authlib.integrations.base_client import OAuthError

with warnings.catch_warnings():
    # authlib >= 1.7 warns at import time that it prefers the (not installed) ``httpx2`` package.
    warnings.simplefilter("ignore", AuthlibDeprecationWarning)
    from authlib.integrations.httpx_client import OAuth2Client

from demo.fakes.atlassian import DEFAULT_SCOPES, FakeAtlassian, SiteConfig, SiteSpec

REDIRECT = "http://localhost:3000/oauth/callback"


def _code(fake: FakeAtlassian, **kwargs: str) -> str:
    response = httpx.get(fake.authorize_url(**kwargs))  # type: ignore[arg-type]
    assert response.status_code == 302
    query = parse_qs(urlsplit(response.headers["location"]).query)
    return query["code"][0]


def _token_call(fake: FakeAtlassian, **data: str) -> httpx.Response:
    body = {"client_id": fake.app.client_id, "client_secret": fake.app.client_secret, **data}
    return httpx.post(f"{fake.auth_url}/oauth/token", json=body)


def _exchange(fake: FakeAtlassian, code: str) -> dict[str, object]:
    response = _token_call(fake, grant_type="authorization_code", code=code, redirect_uri=REDIRECT)
    assert response.status_code == 200, response.text
    return dict(response.json())


def _refresh(fake: FakeAtlassian, refresh_token: object) -> httpx.Response:
    return _token_call(fake, grant_type="refresh_token", refresh_token=str(refresh_token))


def _resources(fake: FakeAtlassian, access_token: object) -> httpx.Response:
    headers = {"Authorization": f"Bearer {access_token}"}
    return httpx.get(f"{fake.api_url}/oauth/token/accessible-resources", headers=headers)


def test_authorize_approve_redirects_with_code_and_state(fake: FakeAtlassian) -> None:
    response = httpx.get(fake.authorize_url(state="xyz"))
    assert response.status_code == 302
    location = urlsplit(response.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    query = parse_qs(location.query)
    assert query["state"] == ["xyz"] and query["code"][0]


@pytest.mark.parametrize(
    ("param", "value"),
    [("client_id", "nope"), ("redirect_uri", "http://evil.example/cb"), ("audience", "x"), ("response_type", "token")],
)
def test_authorize_rejects_bad_parameters_with_html_400(fake: FakeAtlassian, param: str, value: str) -> None:
    url = fake.authorize_url()
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    query[param] = value
    response = httpx.get(f"{fake.auth_url}/authorize", params=query)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")


def test_authorize_deny_redirects_with_access_denied(fake: FakeAtlassian) -> None:
    fake.set_consent(approve=False)
    response = httpx.get(fake.authorize_url(state="s1"))
    query = parse_qs(urlsplit(response.headers["location"]).query)
    assert query["error"] == ["access_denied"] and query["state"] == ["s1"] and query["error_description"]
    assert "code" not in query


def test_code_exchange_json_and_form_bodies(fake: FakeAtlassian) -> None:
    token = _exchange(fake, _code(fake))
    assert token["token_type"] == "Bearer" and token["expires_in"] == 3600
    assert set(str(token["scope"]).split()) == set(DEFAULT_SCOPES)
    form = {
        "grant_type": "authorization_code",
        "code": _code(fake),
        "redirect_uri": REDIRECT,
        "client_id": fake.app.client_id,
        "client_secret": fake.app.client_secret,
    }
    response = httpx.post(f"{fake.auth_url}/oauth/token", data=form)
    assert response.status_code == 200 and response.json()["refresh_token"]


def test_code_is_single_use_bound_and_expiring(fake: FakeAtlassian) -> None:
    code = _code(fake)
    _exchange(fake, code)
    reused = _token_call(fake, grant_type="authorization_code", code=code, redirect_uri=REDIRECT)
    assert reused.status_code == 403 and reused.json()["error"] == "invalid_grant"
    wrong_redirect = _token_call(
        fake, grant_type="authorization_code", code=_code(fake), redirect_uri="http://localhost:3000/other"
    )
    assert wrong_redirect.json()["error"] == "invalid_grant"
    late = _code(fake)
    fake.advance(601)
    expired = _token_call(fake, grant_type="authorization_code", code=late, redirect_uri=REDIRECT)
    assert expired.json()["error"] == "invalid_grant"


def test_wrong_secret_is_invalid_client(fake: FakeAtlassian) -> None:
    response = httpx.post(
        f"{fake.auth_url}/oauth/token",
        json={
            "grant_type": "authorization_code",
            "code": _code(fake),
            "redirect_uri": REDIRECT,
            "client_id": fake.app.client_id,
            "client_secret": "wrong",
        },
    )
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"


def test_no_refresh_token_without_offline_access(fake: FakeAtlassian) -> None:
    token = _exchange(fake, _code(fake, scopes=["read:page:confluence"]))  # type: ignore[arg-type]
    assert "refresh_token" not in token


def test_refresh_rotates_and_old_token_has_grace(fake: FakeAtlassian) -> None:
    first = _exchange(fake, _code(fake))
    second = _refresh(fake, first["refresh_token"]).json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    fake.advance(540)
    in_grace = _refresh(fake, first["refresh_token"])
    assert in_grace.status_code == 200
    assert _refresh(fake, second["refresh_token"]).status_code == 200


def test_reuse_after_grace_revokes_whole_family(fake: FakeAtlassian) -> None:
    first = _exchange(fake, _code(fake))
    second = _refresh(fake, first["refresh_token"]).json()
    fake.advance(601)
    late = _refresh(fake, first["refresh_token"])
    assert late.status_code == 403
    assert late.json() == {"error": "invalid_grant", "error_description": "Unknown or invalid refresh token."}
    assert _refresh(fake, second["refresh_token"]).status_code == 403
    assert _resources(fake, second["access_token"]).status_code == 401


def test_access_token_expires(fake: FakeAtlassian) -> None:
    token = fake.issue_token()
    assert _resources(fake, token["access_token"]).status_code == 200
    fake.advance(3601)
    response = _resources(fake, token["access_token"])
    assert response.status_code == 401 and response.json()["code"] == 401


def test_unknown_refresh_token_and_grant_type(fake: FakeAtlassian) -> None:
    assert _refresh(fake, "nope").json()["error"] == "invalid_grant"
    assert _token_call(fake, grant_type="password").status_code == 400


def test_accessible_resources_and_me(fake: FakeAtlassian) -> None:
    token = fake.issue_token()
    resources = _resources(fake, token["access_token"]).json()
    assert resources == [
        {
            "id": fake.cloud_id,
            "url": "https://acme.atlassian.net",
            "name": "acme",
            "scopes": sorted(s for s in DEFAULT_SCOPES if s != "offline_access"),
            "avatarUrl": resources[0]["avatarUrl"],
        }
    ]
    me = httpx.get(f"{fake.api_url}/me", headers={"Authorization": f"Bearer {token['access_token']}"}).json()
    assert me["account_id"] == fake.site.users[0].account_id and me["email"] and me["name"]


def test_consent_picks_sites_and_tokens_are_site_bound() -> None:
    sites = [
        SiteConfig("acme", SiteSpec(spaces=1, pages_per_space=2)),
        SiteConfig("globex", SiteSpec(spaces=1, pages_per_space=2, seed=2)),
    ]
    with FakeAtlassian(sites=sites) as fake:
        acme, globex = list(fake.sites)
        assert len(_resources(fake, fake.issue_token()["access_token"]).json()) == 2
        fake.set_consent(site_ids=(globex,))
        token = _exchange(fake, _code(fake))
        assert [r["name"] for r in _resources(fake, token["access_token"]).json()] == ["globex"]
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        ok = httpx.get(f"{fake.wiki_url(globex)}/api/v2/spaces", headers=headers)
        other = httpx.get(f"{fake.wiki_url(acme)}/api/v2/spaces", headers=headers)
        assert ok.status_code == 200 and other.status_code == 401


def test_authlib_code_exchange_and_refresh(fake: FakeAtlassian) -> None:
    with OAuth2Client(
        fake.app.client_id,
        fake.app.client_secret,
        scope=" ".join(DEFAULT_SCOPES),
        redirect_uri=REDIRECT,
        token_endpoint_auth_method="client_secret_post",
    ) as client:
        url, state = client.create_authorization_url(
            f"{fake.auth_url}/authorize", audience="api.atlassian.com", prompt="consent"
        )
        callback = httpx.get(url).headers["location"]
        token = client.fetch_token(f"{fake.auth_url}/oauth/token", authorization_response=callback, state=state)
        assert token["access_token"] and token["refresh_token"]
        refreshed = client.refresh_token(f"{fake.auth_url}/oauth/token", refresh_token=token["refresh_token"])
        assert refreshed["refresh_token"] != token["refresh_token"]
        fake.advance(601)
        with pytest.raises(OAuthError) as caught:
            client.refresh_token(f"{fake.auth_url}/oauth/token", refresh_token=token["refresh_token"])
        assert caught.value.error == "invalid_grant"
    assert fake.log.refresh_count() == 2
    bodies = [r for r in fake.log if r.endpoint == "POST /oauth/token"]
    assert [r.note for r in bodies] == ["authorization_code", "refresh_token", "refresh_token"]
