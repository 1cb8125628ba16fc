"""A large space served with bodies at limit=250: every page exactly once, every body present.

How fast the fake serves is measured by the benchmark script, never asserted here (machines are noisy).
"""

from __future__ import annotations

import httpx

from demo.fakes.atlassian import FakeAtlassian, SiteSpec


def test_serves_a_3000_page_space_with_bodies_at_limit_250() -> None:
    spec = SiteSpec(spaces=1, pages_per_space=3000, blogposts_per_space=0, body_bytes=6000)
    with FakeAtlassian(spec) as fake:
        headers = {"Authorization": f"Bearer {fake.issue_token()['access_token']}"}
        space_id = next(iter(fake.site.spaces))
        seen: list[str] = []
        requests = 0
        with httpx.Client(base_url=fake.gateway_url(), headers=headers) as api:
            url: str | None = f"/wiki/api/v2/spaces/{space_id}/pages?limit=250&body-format=storage"
            while url:
                body = api.get(url).json()
                requests += 1
                for page in body["results"]:
                    seen.append(page["id"])
                    assert len(page["body"]["storage"]["value"]) > 3000
                url = body["_links"].get("next")
    assert len(seen) == len(set(seen)) == 3000
    assert requests == 12
