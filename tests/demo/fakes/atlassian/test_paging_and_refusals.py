"""The fake's paging mechanisms, injected next links, token-endpoint refusals and the gateway's refused-token quirk."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from demo.fakes.atlassian import FakeAtlassian, FaultKind, SiteSpec
from demo.fakes.atlassian.faults import OAUTH_ERROR_STATUS

V2 = "/wiki/api/v2"
SPEC = SiteSpec(spaces=1, pages_per_space=30, blogposts_per_space=0, body_bytes=200)


def _client(fake: FakeAtlassian) -> httpx.Client:
    token = fake.issue_token()["access_token"]
    return httpx.Client(base_url=fake.gateway_url(), headers={"Authorization": f"Bearer {token}"}, timeout=10)


def _refresh(fake: FakeAtlassian, refresh_token: str) -> httpx.Response:
    data = {
        "grant_type": "refresh_token",
        "client_id": fake.app.client_id,
        "client_secret": fake.app.client_secret,
        "refresh_token": refresh_token,
    }
    return httpx.post(f"{fake.auth_url}/oauth/token", data=data, timeout=10)


@pytest.mark.parametrize("paging", ["both", "body", "header"])
def test_lists_name_their_next_page_where_the_paging_mode_says(paging: str) -> None:
    with FakeAtlassian(SPEC, paging=paging) as fake, _client(fake) as api:
        first = api.get(f"{V2}/pages", params={"limit": 10})
        body_next = first.json()["_links"].get("next")
        header = first.headers.get("link")
        assert (body_next is not None) == (paging != "header")
        assert (header is not None) == (paging != "body")
        following = body_next or header.split(">")[0].removeprefix("<")
        if body_next and header:
            assert header == f'<{body_next}>; rel="next", <https://acme.atlassian.net/wiki>; rel="base"'
        seen = [r["id"] for r in first.json()["results"]]
        while following:
            page = api.get(following)
            seen += [r["id"] for r in page.json()["results"]]
            link = page.headers.get("link")
            following = page.json()["_links"].get("next") or (link.split(">")[0].removeprefix("<") if link else None)
        assert len(seen) == len(set(seen)) == 30
        assert "next" not in page.json()["_links"] and "link" not in page.headers


def test_an_unknown_paging_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="paging"):
        FakeAtlassian(SPEC, paging="sometimes")


@pytest.mark.parametrize(
    ("where", "body_next", "header_next"),
    [("body", "/evil", "real"), ("header", "real", "/evil"), ("both", "/evil", "/evil")],
)
def test_next_link_faults_rewrite_the_body_the_header_or_both(where: str, body_next: str, header_next: str) -> None:
    with FakeAtlassian(SPEC) as fake, _client(fake) as api:
        real = api.get(f"{V2}/pages", params={"limit": 10}).json()["_links"]["next"]
        rule = fake.inject(f"GET {V2}/pages", FaultKind.NEXT_LINK, rewrite_next=lambda _n: "/evil", where=where)
        answer = api.get(f"{V2}/pages", params={"limit": 10})
        expected = {"real": real, "/evil": "/evil"}
        assert answer.status_code == 200 and len(answer.json()["results"]) == 10
        assert answer.json()["_links"]["next"] == expected[body_next]
        assert answer.headers["link"].startswith(f'<{expected[header_next]}>; rel="next"')
        assert rule.hits == 1 and fake.log.snapshot()[-1].fault == "next_link"
        assert api.get(f"{V2}/pages", params={"limit": 10}).json()["_links"]["next"] == real  # one time only


def test_next_link_faults_add_drop_or_replace_links() -> None:
    with FakeAtlassian(SPEC) as fake, _client(fake) as api:
        fake.inject(f"GET {V2}/pages", FaultKind.NEXT_LINK, rewrite_next=lambda _n: None)
        dropped = api.get(f"{V2}/pages", params={"limit": 10})
        assert "next" not in dropped.json()["_links"] and "link" not in dropped.headers
        fake.inject(f"GET {V2}/pages", FaultKind.NEXT_LINK, rewrite_next=lambda n: {"href": n}, where="body")
        assert isinstance(api.get(f"{V2}/pages", params={"limit": 10}).json()["_links"]["next"], dict)
        last: dict[str, Any] = api.get(f"{V2}/pages", params={"limit": 250}).json()
        assert "next" not in last["_links"]
        fake.inject(f"GET {V2}/pages", FaultKind.NEXT_LINK, rewrite_next=lambda n: n or "/wiki/loop?cursor=1")
        looped = api.get(f"{V2}/pages", params={"limit": 250})
        assert looped.json()["_links"]["next"] == "/wiki/loop?cursor=1"  # a next page added to the last one
        fake.inject(f"GET {V2}/pages", FaultKind.NEXT_LINK, raw_link="</x; rel=next")
        assert api.get(f"{V2}/pages", params={"limit": 10}).headers["link"] == "</x; rel=next"


@pytest.mark.parametrize("error", sorted(OAUTH_ERROR_STATUS))
def test_the_token_endpoint_refuses_with_each_oauth_error(error: str) -> None:
    with FakeAtlassian(SPEC) as fake:
        refresh = str(fake.issue_token()["refresh_token"])
        rule = fake.inject("POST /oauth/token", FaultKind.OAUTH_ERROR, error=error, description="<!channel> no")
        refused = _refresh(fake, refresh)
        assert refused.status_code == OAUTH_ERROR_STATUS[error]
        assert refused.json() == {"error": error, "error_description": "<!channel> no"}
        assert rule.hits == 1 and fake.log.count("POST /oauth/token", status=refused.status_code) == 1
        # The refusal was injected: the refresh token was not used, so it still works.
        assert _refresh(fake, refresh).status_code == 200


def test_oauth_errors_with_another_status_and_bare_refusals() -> None:
    with FakeAtlassian(SPEC) as fake:
        refresh = str(fake.issue_token()["refresh_token"])
        fake.inject("POST /oauth/token", FaultKind.OAUTH_ERROR, error="access_denied", status=403)
        assert _refresh(fake, refresh).status_code == 403
        for kind in (FaultKind.UNAUTHORIZED, FaultKind.FORBIDDEN, FaultKind.NOT_FOUND):
            fake.inject("POST /oauth/token", kind)
            bare = _refresh(fake, refresh)
            assert bare.status_code == int(kind.value) and "error" not in bare.json()


def test_refused_tokens_get_401_unless_the_gateway_quirk_is_on() -> None:
    with FakeAtlassian(SPEC) as fake, _client(fake) as api:
        page_id = fake.site.ids("page")[0]
        assert api.get(f"{V2}/spaces").status_code == 200
        fake.expire_access_tokens()
        assert api.get(f"{V2}/spaces").status_code == 401
        fake.answer_refused_tokens_with(v2=404, v1=403)
        v2 = api.get(f"{V2}/spaces")
        v1 = api.get(f"/wiki/rest/api/content/{page_id}")
        assert v2.status_code == 404 and v2.json()["errors"][0]["status"] == 404
        assert v1.status_code == 403 and v1.json()["statusCode"] == 403
        assert [r.note for r in fake.log.snapshot()[-2:]] == ["token refused", "token refused"]
        # A live token is not affected: 404 means what it says then.
        with _client(fake) as fresh:
            assert fresh.get(f"{V2}/spaces").status_code == 200
            assert fresh.get(f"{V2}/pages/999999999").status_code == 404
            assert fake.log.snapshot()[-1].note == ""


def test_expiring_access_tokens_leaves_refresh_tokens_working() -> None:
    with FakeAtlassian(SPEC) as fake:
        issued = fake.issue_token()
        fake.expire_access_tokens()
        assert fake.oauth.check_access(str(issued["access_token"])) is None
        renewed = _refresh(fake, str(issued["refresh_token"]))
        assert renewed.status_code == 200
        assert fake.oauth.check_access(renewed.json()["access_token"]) is not None


def test_api_refusal_faults() -> None:
    with FakeAtlassian(SPEC) as fake, _client(fake) as api:
        for kind in (FaultKind.UNAUTHORIZED, FaultKind.FORBIDDEN, FaultKind.NOT_FOUND):
            fake.inject(f"GET {V2}/spaces", kind)
            assert api.get(f"{V2}/spaces").status_code == int(kind.value)
            assert api.get(f"{V2}/spaces").status_code == 200
