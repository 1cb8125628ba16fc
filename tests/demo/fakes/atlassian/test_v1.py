"""Confluence v1 endpoints as used by LangChain / LlamaIndex through atlassian-python-api 4.0.7."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from demo.fakes.atlassian import FakeAtlassian, SiteConfig, SiteSpec

BASIC = ("bot@acme.example", "fake-api-token")


@pytest.fixture
def wiki(fake: FakeAtlassian) -> httpx.Client:
    """Site-style client: ``url=http://127.0.0.1:PORT/wiki`` with email + API token."""
    return httpx.Client(base_url=f"{fake.api_url}/wiki", auth=BASIC)


def _join(base: str, next_link: str) -> str:
    return base.rstrip("/") + "/" + next_link.lstrip("/")


def _langchain_space_load(client: httpx.Client, key: str, limit: int = 50) -> list[dict[str, Any]]:
    """Mirror ConfluenceLoader(space_key=…): offset paging until an empty batch, then restrictions."""
    docs: list[dict[str, Any]] = []
    while True:
        params: dict[str, str | int] = {
            "spaceKey": key,
            "limit": limit,
            "status": "current",
            "expand": "body.storage,version",
            "type": "page",
        }
        if docs:
            params["start"] = len(docs)
        batch = client.get("rest/api/content", params=params).json()["results"]
        if not batch:
            break
        docs.extend(batch)
    public = []
    for page in docs:
        restrictions = client.get(f"rest/api/content/{page['id']}/restriction/byOperation").json()
        read = restrictions["read"]["restrictions"]
        if page["status"] == "current" and not read["user"]["results"] and not read["group"]["results"]:
            public.append(page)
    return public


def test_langchain_style_space_load(fake: FakeAtlassian, wiki: httpx.Client) -> None:
    eng = fake.site.space_by_key("ENG")
    assert eng is not None
    restricted = fake.site.ids("page", eng.id)[2]
    # Restricted to the loader's own account too: it sees the page and must drop it itself.  (Restricted to
    # someone else only, the fake hides the page and its descendants from the loader, as Confluence does.)
    fake.site.restrict_page(restricted, users=[fake.site.users[0].account_id, fake.site.users[1].account_id])
    with wiki:
        pages = _langchain_space_load(wiki, "ENG")
    assert len(pages) == 39 and str(restricted) not in {p["id"] for p in pages}
    page = pages[0]
    assert page["body"]["storage"]["value"].startswith("<h1>") and page["version"]["when"].endswith("Z")
    assert page["_links"]["webui"].startswith("/spaces/ENG/pages/")
    assert fake.log.count("GET /wiki/rest/api/content", principal="basic:bot@acme.example") == 2


def test_llamaindex_style_load_via_root_url(fake: FakeAtlassian) -> None:
    with httpx.Client(base_url=fake.api_url, auth=BASIC) as client:
        results: list[dict[str, Any]] = []
        start = 0
        while True:
            params: dict[str, str | int] = {
                "spaceKey": "PROD",
                "start": start,
                "limit": 100,
                "status": "current",
                "expand": "body.export_view.value",
                "type": "page",
            }
            batch = client.get("/rest/api/content", params=params).json()["results"]
            if not batch:
                break
            results.extend(batch)
            start += len(batch)
    assert len(results) == 40 and all(r["body"]["export_view"]["value"] for r in results)


def test_limit_caps_and_offset_next(fake: FakeAtlassian, wiki: httpx.Client) -> None:
    with wiki:
        body = wiki.get("rest/api/content", params={"spaceKey": "ENG", "limit": 500, "expand": "body.storage"}).json()
        assert (body["limit"] == 50 and body["size"] == 0) or body["size"] == 40
        plain = wiki.get("rest/api/content", params={"limit": 5000}).json()
        assert plain["limit"] == 1000 and plain["size"] == 120
        expanded = wiki.get("rest/api/content", params={"limit": 5000, "expand": "version"}).json()
        assert expanded["limit"] == 200
        first = wiki.get("rest/api/content", params={"spaceKey": "ENG", "limit": 15}).json()
        assert first["_links"]["next"].startswith("/rest/api/content?") and "start=15" in first["_links"]["next"]
        assert first["_links"]["base"] == "https://acme.atlassian.net/wiki" and first["_links"]["context"] == "/wiki"
        second = wiki.get(_join(str(wiki.base_url), first["_links"]["next"])).json()
        assert second["start"] == 15 and second["results"][0]["id"] != first["results"][0]["id"]


def test_cql_search_cursor_paging_covers_space(fake: FakeAtlassian, wiki: httpx.Client) -> None:
    cql = 'type=page and space="ENG" order by lastmodified asc'
    with wiki:
        page = wiki.get("rest/api/content/search", params={"cql": cql, "limit": 16, "expand": "body.storage,version"})
        seen: list[dict[str, Any]] = []
        while True:
            data = page.json()
            seen.extend(data["results"])
            if "next" not in data["_links"]:
                break
            assert "cursor=" in data["_links"]["next"]
            page = wiki.get(_join(str(wiki.base_url), data["_links"]["next"]))
    stamps = [p["version"]["when"] for p in seen]
    assert len({p["id"] for p in seen}) == 40 == len(seen) and stamps == sorted(stamps)


def test_cql_text_title_and_dates(fake: FakeAtlassian, wiki: httpx.Client) -> None:
    target = fake.site.ids("page")[9]
    hints = fake.site.page_text_hints(target)
    with wiki:
        found = wiki.get("rest/api/content/search", params={"cql": f'text ~ "{hints.tag}"'}).json()["results"]
        assert [r["id"] for r in found] == [str(target)]
        titles = wiki.get("rest/api/content/search", params={"cql": 'title ~ "home"'}).json()["results"]
        assert len(titles) == 3
        fake.site.update_page(target)
        when = fake.site.content[target].updated_at
        minute = datetime.fromtimestamp(when, tz=UTC).strftime("%Y-%m-%d %H:%M")
        recent = wiki.get("rest/api/content/search", params={"cql": f'lastmodified >= "{minute}"'}).json()
        assert [r["id"] for r in recent["results"]] == [str(target)]
        wrapped = wiki.get("rest/api/search", params={"cql": f'lastmodified >= "{minute}"'}).json()
        assert wrapped["results"][0]["content"]["id"] == str(target)
        bad = wiki.get("rest/api/content/search", params={"cql": "type = = page"})
        assert bad.status_code == 400 and bad.json()["statusCode"] == 400


def test_cql_dates_use_site_time_zone() -> None:
    site = SiteConfig("acme", SiteSpec(spaces=1, pages_per_space=3), cql_tz_offset_minutes=-8 * 60)
    with FakeAtlassian(sites=[site]) as fake, httpx.Client(base_url=f"{fake.api_url}/wiki", auth=BASIC) as wiki:
        page = fake.site.update_page(fake.site.ids("page")[0])
        utc_minute = datetime.fromtimestamp(page.updated_at, tz=UTC).strftime("%Y-%m-%d %H:%M")
        site_minute = datetime.fromtimestamp(page.updated_at - 8 * 3600, tz=UTC).strftime("%Y-%m-%d %H:%M")
        naive = wiki.get("rest/api/content/search", params={"cql": f'lastmodified >= "{utc_minute}"'}).json()
        assert naive["size"] == 0  # the classic trap: CQL dates are in the site's zone, not UTC
        local = wiki.get("rest/api/content/search", params={"cql": f'lastmodified >= "{site_minute}"'}).json()
        assert [r["id"] for r in local["results"]] == [str(page.id)]


def test_content_by_id_children_labels_spaces(fake: FakeAtlassian, wiki: httpx.Client) -> None:
    eng = fake.site.space_by_key("ENG")
    assert eng is not None and eng.homepage_id is not None
    with wiki:
        home = wiki.get(
            f"rest/api/content/{eng.homepage_id}",
            params={"expand": "body.storage,version,space,ancestors,history.lastUpdated"},
        ).json()
        assert home["space"]["key"] == "ENG" and home["history"]["lastUpdated"]["number"] == home["version"]["number"]
        children = wiki.get(f"rest/api/content/{eng.homepage_id}/child/page", params={"limit": 50}).json()
        assert len(children["results"]) == 5
        grandchild = fake.site.ids("page", eng.id)[7]
        ancestors = wiki.get(f"rest/api/content/{grandchild}", params={"expand": "ancestors"}).json()["ancestors"]
        assert ancestors[0]["id"] == str(eng.homepage_id)
        labels = wiki.get(f"rest/api/content/{grandchild}/label").json()
        assert labels["size"] >= 2
        read = wiki.get(f"rest/api/content/{grandchild}/restriction/byOperation/read").json()
        assert read["operation"] == "read" and read["restrictions"]["user"]["size"] == 0
        spaces = wiki.get("rest/api/space", params={"limit": 2}).json()
        assert [s["key"] for s in spaces["results"]] == ["ENG", "PROD"] and "start=2" in spaces["_links"]["next"]
        assert wiki.get("rest/api/space/PROD").json()["name"] == "Product"
        assert wiki.get("rest/api/content/1").status_code == 404
        assert wiki.get("rest/api/space/NOPE").json()["statusCode"] == 404


def test_v1_auth_through_gateway(fake: FakeAtlassian, token: str) -> None:
    url = f"{fake.wiki_url()}/rest/api/content"
    assert httpx.get(url, auth=BASIC).status_code == 200
    assert httpx.get(url, headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert httpx.get(url, auth=("bot@acme.example", "wrong")).status_code == 401
    assert httpx.get(url).status_code == 401
