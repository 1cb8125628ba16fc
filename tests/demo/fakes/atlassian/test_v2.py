"""Confluence v2 endpoints of the fake, over real sockets."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from demo.fakes.atlassian import FakeAtlassian, SiteSpec

V2 = "/wiki/api/v2"


def _space_id(api: httpx.Client, key: str = "ENG") -> str:
    return str(api.get(f"{V2}/spaces", params={"keys": key}).json()["results"][0]["id"])


def _walk(api: httpx.Client, url: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    next_url: str | None = url
    while next_url:
        page = api.get(next_url)
        assert page.status_code == 200, page.text
        items.extend(page.json()["results"])
        next_url = page.json()["_links"].get("next")
    return items


def test_spaces_list_filters_and_links(api: httpx.Client, fake: FakeAtlassian) -> None:
    body = api.get(f"{V2}/spaces").json()
    assert [s["key"] for s in body["results"]] == ["ENG", "PROD", "DES"]
    assert body["_links"] == {"base": "https://acme.atlassian.net/wiki"}
    ids = ",".join(s["id"] for s in body["results"][:2])
    assert len(api.get(f"{V2}/spaces", params={"ids": ids}).json()["results"]) == 2
    assert api.get(f"{V2}/spaces", params={"keys": "PROD"}).json()["results"][0]["name"] == "Product"
    fake.site.add_space("ARCH", "Archive", type="collaboration", status="archived")
    assert [s["key"] for s in api.get(f"{V2}/spaces", params={"status": "archived"}).json()["results"]] == ["ARCH"]
    assert len(api.get(f"{V2}/spaces", params={"type": "collaboration"}).json()["results"]) == 1
    single = api.get(f"{V2}/spaces/{body['results'][0]['id']}").json()
    assert single["key"] == "ENG" and single["_links"]["base"] == "https://acme.atlassian.net/wiki"


@pytest.mark.parametrize("limit", ["0", "251", "abc"])
def test_limit_out_of_range_is_400(api: httpx.Client, limit: str) -> None:
    response = api.get(f"{V2}/pages", params={"limit": limit})
    assert response.status_code == 400
    assert response.json()["errors"][0]["status"] == 400


def test_limit_250_allowed_and_next_link_header(api: httpx.Client) -> None:
    response = api.get(f"{V2}/pages", params={"limit": 250})
    assert response.status_code == 200 and len(response.json()["results"]) == 120
    small = api.get(f"{V2}/pages", params={"limit": 7})
    next_link = small.json()["_links"]["next"]
    assert next_link.startswith(f"{V2}/pages?") and "cursor=" in next_link and "limit=7" in next_link
    assert small.headers["link"] == f'<{next_link}>; rel="next", <https://acme.atlassian.net/wiki>; rel="base"'


def test_cursor_is_opaque_not_an_offset(api: httpx.Client) -> None:
    cursor = httpx.URL(api.get(f"{V2}/pages", params={"limit": 5}).json()["_links"]["next"]).params["cursor"]
    assert not cursor.isdigit()
    assert api.get(f"{V2}/pages", params={"cursor": "5"}).status_code == 400
    assert api.get(f"{V2}/pages", params={"cursor": base64.b64encode(b"offset=5").decode()}).status_code == 400


def test_enumerate_600_page_space_exactly_once() -> None:
    with FakeAtlassian(SiteSpec(spaces=2, pages_per_space=600, blogposts_per_space=0, body_bytes=800)) as fake:
        headers = {"Authorization": f"Bearer {fake.issue_token()['access_token']}"}
        with httpx.Client(base_url=fake.gateway_url(), headers=headers) as api:
            space_id = _space_id(api)
            pages = _walk(api, f"{V2}/spaces/{space_id}/pages?limit=250&body-format=storage")
            ids = [p["id"] for p in pages]
            assert len(ids) == 600 and len(set(ids)) == 600
            assert all(p["spaceId"] == space_id and p["body"]["storage"]["value"] for p in pages)
        assert fake.log.count("GET /wiki/api/v2/spaces/{id}/pages") == 3
        assert sum(fake.log.body_fetches().values()) == 600


def test_pages_global_list_with_space_filter_and_sort(api: httpx.Client) -> None:
    eng, prod = _space_id(api, "ENG"), _space_id(api, "PROD")
    both = _walk(api, f"{V2}/pages?space-id={eng},{prod}&limit=33")
    assert len(both) == 80 and {p["spaceId"] for p in both} == {eng, prod}
    newest = _walk(api, f"{V2}/pages?space-id={eng}&sort=-modified-date&limit=9")
    stamps = [p["version"]["createdAt"] for p in newest]
    assert len(newest) == 40 and stamps == sorted(stamps, reverse=True)
    titles = _walk(api, f"{V2}/spaces/{eng}/pages?sort=title&limit=7")
    assert [p["title"] for p in titles] == sorted(p["title"] for p in titles)


def test_body_format_storage_in_list_and_single(api: httpx.Client, fake: FakeAtlassian) -> None:
    listed = api.get(f"{V2}/pages", params={"limit": 2, "body-format": "storage"}).json()["results"][0]
    assert listed["body"]["storage"]["representation"] == "storage"
    single = api.get(f"{V2}/pages/{listed['id']}", params={"body-format": "storage"}).json()
    assert single["body"]["storage"]["value"] == listed["body"]["storage"]["value"]
    assert single["_links"]["base"] == "https://acme.atlassian.net/wiki"
    assert api.get(f"{V2}/pages/{listed['id']}").json()["body"] == {}
    assert api.get(f"{V2}/pages", params={"body-format": "view"}).status_code == 400
    assert api.get(f"{V2}/pages/{listed['id']}", params={"body-format": "view"}).status_code == 200
    hints = fake.site.page_text_hints(int(listed["id"]))
    assert hints.tag in listed["body"]["storage"]["value"]


def test_page_shape(api: httpx.Client, fake: FakeAtlassian) -> None:
    home_id = fake.site.space_by_key("ENG").homepage_id  # type: ignore[union-attr]
    child = api.get(f"{V2}/pages", params={"limit": 2}).json()["results"][1]
    assert child["parentId"] == str(home_id) and child["parentType"] == "page"
    assert set(child["version"]) == {"number", "message", "minorEdit", "authorId", "createdAt"}
    assert child["_links"]["webui"].startswith(f"/spaces/ENG/pages/{child['id']}/")
    assert set(child["_links"]) == {"webui", "editui", "tinyui"}
    home = api.get(f"{V2}/pages/{home_id}").json()
    assert "parentId" not in home and home["title"] == "ENG Home"


def test_trashed_and_archived_need_status(api: httpx.Client, fake: FakeAtlassian) -> None:
    eng = _space_id(api)
    ids = fake.site.ids("page", int(eng))
    fake.site.trash_page(ids[3])
    fake.site.archive_page(ids[4])
    default = {p["id"] for p in _walk(api, f"{V2}/spaces/{eng}/pages?limit=250")}
    assert str(ids[3]) not in default and str(ids[4]) in default
    current = {p["id"] for p in _walk(api, f"{V2}/spaces/{eng}/pages?status=current&limit=250")}
    assert str(ids[4]) not in current
    trashed = _walk(api, f"{V2}/spaces/{eng}/pages?status=trashed")
    assert [p["id"] for p in trashed] == [str(ids[3])] and trashed[0]["status"] == "trashed"
    assert api.get(f"{V2}/pages/{ids[3]}").status_code == 404
    assert api.get(f"{V2}/pages/{ids[3]}", params={"status": "trashed"}).status_code == 200


def test_title_filter_and_blogposts(api: httpx.Client, fake: FakeAtlassian) -> None:
    found = api.get(f"{V2}/pages", params={"title": "ENG Home"}).json()["results"]
    assert len(found) == 1
    eng = _space_id(api)
    blogs = _walk(api, f"{V2}/spaces/{eng}/blogposts?body-format=storage")
    assert len(blogs) == 3 and "/blog/" in blogs[0]["_links"]["webui"] and "parentId" not in blogs[0]
    assert len(_walk(api, f"{V2}/blogposts?limit=4")) == 9
    assert api.get(f"{V2}/blogposts/{blogs[0]['id']}").json()["title"] == blogs[0]["title"]
    assert api.get(f"{V2}/pages/{blogs[0]['id']}").status_code == 404


def test_auth_failures(fake: FakeAtlassian, token: str) -> None:
    url = f"{fake.wiki_url()}/api/v2/spaces"
    assert httpx.get(url).status_code == 401
    assert httpx.get(url, headers={"Authorization": "Bearer bogus"}).json() == {"code": 401, "message": "Unauthorized"}
    basic = httpx.get(url, auth=("bot@acme.example", "fake-api-token"))
    assert basic.status_code == 401
    unknown = httpx.get(
        f"{fake.api_url}/ex/confluence/00000000-0000-0000-0000-000000000000/wiki/api/v2/spaces",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert unknown.status_code == 404
    narrow = fake.issue_token(["read:space:confluence"])["access_token"]
    pages = httpx.get(f"{fake.wiki_url()}/api/v2/pages", headers={"Authorization": f"Bearer {narrow}"})
    assert pages.status_code == 401 and "scope" in pages.json()["message"]


def test_wrong_base_and_unknown_paths_are_404(fake: FakeAtlassian, token: str) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    assert (
        httpx.get(f"{fake.auth_url}/ex/confluence/{fake.cloud_id}/wiki/api/v2/spaces", headers=headers).status_code
        == 404
    )
    missing = httpx.get(f"{fake.wiki_url()}/api/v2/whiteboards/1", headers=headers)
    assert missing.status_code == 404 and missing.json()["code"] == 404
    assert httpx.get(f"{fake.api_url}/nothing", headers=headers).status_code == 404
    assert httpx.get(f"{fake.wiki_url()}/api/v2/pages/999", headers=headers).status_code == 404
    assert httpx.get(f"{fake.wiki_url()}/api/v2/spaces/1", headers=headers).status_code == 404


def test_site_prefix_serves_v2_with_basic_auth(fake: FakeAtlassian) -> None:
    response = httpx.get(f"{fake.api_url}/wiki/api/v2/spaces", auth=("bot@acme.example", "fake-api-token"))
    assert response.status_code == 200 and len(response.json()["results"]) == 3
    assert httpx.get(f"{fake.api_url}/wiki/api/v2/spaces", auth=("bot@acme.example", "x")).status_code == 401


def test_pages_by_id_batch_with_bodies(fake: FakeAtlassian, api: httpx.Client) -> None:
    ids = fake.site.ids("page")[:30]
    response = api.get(
        "/wiki/api/v2/pages", params={"id": ",".join(map(str, ids)), "body-format": "storage", "limit": 250}
    )
    assert response.status_code == 200
    results = response.json()["results"]
    assert sorted(int(r["id"]) for r in results) == sorted(ids)
    assert all(r["body"]["storage"]["value"] for r in results)
    too_many = ",".join(str(i) for i in range(1, 252))
    assert api.get("/wiki/api/v2/pages", params={"id": too_many}).status_code == 400
