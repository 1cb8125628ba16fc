"""The generated site: determinism, realistic bodies, hints, mutations and scale."""

from __future__ import annotations

import re
import time
import xml.etree.ElementTree as ET

import httpx

from demo.fakes.atlassian import FakeAtlassian, Site, SiteSpec

WRAP = '<root xmlns:ac="urn:ac" xmlns:ri="urn:ri">{}</root>'
SMALL = SiteSpec(spaces=2, pages_per_space=30, blogposts_per_space=2, body_bytes=6000, seed=7)


def _parse(body: str) -> ET.Element:
    """Storage format is XML with undeclared prefixes and HTML entities; make it parseable."""
    return ET.fromstring(WRAP.format(body.replace("&nbsp;", "&#160;")))


def test_generation_is_deterministic() -> None:
    first, second = Site(SMALL), Site(SMALL)
    assert [(c.id, c.title, c.version, c.created_at) for c in first.content.values()] == [
        (c.id, c.title, c.version, c.created_at) for c in second.content.values()
    ]
    page = next(iter(first.content.values()))
    assert first.body(page) == second.body(second.content[page.id])
    other = Site(SiteSpec(spaces=2, pages_per_space=30, blogposts_per_space=2, seed=8))
    assert other.body(other.content[page.id]) != first.body(page)


def test_bodies_are_well_formed_and_realistic() -> None:
    site = Site(SMALL)
    bodies = [site.body(c) for c in site.content.values()]
    sizes = [len(b.encode()) for b in bodies]
    assert min(sizes) > 5000 and max(sizes) < 12000
    for body in bodies:
        _parse(body)
    text = "".join(bodies)
    for needle in (
        "<h1>",
        "<h2>",
        "<h3>",
        "<table",
        "<ul>",
        "<ac:task-list>",
        'ac:name="code"',
        "<ri:user ri:account-id",
        "<ri:page ri:content-title",
        "<ri:attachment",
        "<ac:emoticon",
        'ac:name="info"',
        'ac:name="expand"',
        'ac:name="warning"',
        'ac:name="note"',
        "vendor-roadmap-widget",
        "]]]]><![CDATA[>",
        "日本語",
        "🚀",
        "הפריסה",
        "تم النشر",
        "&amp;",
        "&nbsp;",
    ):
        assert needle in text, needle


def test_code_macro_cdata_round_trips() -> None:
    site = Site(SMALL)
    codes = [
        node.text or "" for c in site.content.values() for node in _parse(site.body(c)).iter("{urn:ac}plain-text-body")
    ]
    assert any("<" in code and "&" in code and "]]>" in code for code in codes)


def test_hints_identify_exactly_one_page() -> None:
    site = Site(SMALL)
    bodies = {c.id: site.body(c) for c in site.content.values()}
    for content_id in list(bodies)[:10]:
        hints = site.page_text_hints(content_id)
        assert [cid for cid, b in bodies.items() if re.search(rf"\b{hints.tag}\b", b)] == [content_id]
        assert hints.phrase in bodies[content_id] and hints.version_word in bodies[content_id]
        assert hints.non_ascii_word in bodies[content_id] and not hints.non_ascii_word.isascii()
        assert [cid for cid, b in bodies.items() if hints.unique_non_ascii in b] == [content_id]
    assert sum("deployment" in b for b in bodies.values()) > len(bodies) // 2


def test_update_page_changes_version_body_and_time(fake: FakeAtlassian) -> None:
    site = fake.site
    page = site.content[site.ids("page")[5]]
    before_version, before_body, before_time = page.version, site.body(page), page.updated_at
    old_word = site.page_text_hints(page.id).version_word
    site.update_page(page.id)
    assert page.version == before_version + 1 and page.updated_at > before_time
    assert site.body(page) != before_body
    assert old_word not in site.body(page) and site.page_text_hints(page.id).version_word in site.body(page)


def test_add_trash_purge_move_delete(fake: FakeAtlassian, api: httpx.Client) -> None:
    site = fake.site
    eng, prod = site.space_by_key("ENG"), site.space_by_key("PROD")
    assert eng is not None and prod is not None
    added = site.add_page("ENG", title="Brand new")
    assert added.version == 1 and added.parent_id in site.content and added.id > max(site.ids("page", prod.id))
    assert api.get(f"/wiki/api/v2/pages/{added.id}").json()["title"] == "Brand new"
    victim = site.ids("page", eng.id)[7]
    site.purge_page(victim)
    assert api.get(f"/wiki/api/v2/pages/{victim}", params={"status": "trashed"}).status_code == 404
    moved = site.move_page(site.ids("page", eng.id)[8], "PROD")
    assert moved.space_id == prod.id and moved.parent_id == prod.homepage_id
    assert api.get(f"/wiki/api/v2/pages/{moved.id}").json()["spaceId"] == str(prod.id)
    site.delete_space("DES")
    keys = [s["key"] for s in api.get("/wiki/api/v2/spaces").json()["results"]]
    assert keys == ["ENG", "PROD"]
    assert site.stats() == {"spaces": 2, "pages": 80, "blogposts": 6}


def test_many_spaces_for_type_ahead(fake: FakeAtlassian, api: httpx.Client) -> None:
    started = time.perf_counter()
    fake.site.add_spaces(1500)
    assert time.perf_counter() - started < 1.0
    seen: list[str] = []
    url: str | None = "/wiki/api/v2/spaces?limit=250"
    while url:
        body = api.get(url).json()
        seen.extend(s["key"] for s in body["results"])
        url = body["_links"].get("next")
    assert len(seen) == 1503 and len(set(seen)) == 1503


def test_scales_to_100k_pages_cheaply() -> None:
    site = Site(SiteSpec(spaces=20, pages_per_space=5000, blogposts_per_space=0))
    assert site.stats()["pages"] == 100_000
    last = site.content[site.ids("page")[-1]]
    assert site.page_text_hints(last.id).tag in site.body(last)
