"""Fault injection, latency and the request log."""

from __future__ import annotations

import json
import threading
import time

import httpx
import pytest

from demo.fakes.atlassian import FakeAtlassian, FaultKind

PAGES = "GET /wiki/api/v2/pages"


def test_rate_limit_with_retry_after_then_success(fake: FakeAtlassian, api: httpx.Client) -> None:
    rule = fake.inject(PAGES, "429", times=2, retry_after=7)
    first = api.get("/wiki/api/v2/pages")
    assert first.status_code == 429 and first.headers["retry-after"] == "7"
    assert api.get("/wiki/api/v2/pages").status_code == 429
    assert api.get("/wiki/api/v2/pages").status_code == 200
    assert rule.hits == 2 and [r.fault for r in fake.log][-3:] == ["429", "429", None]


@pytest.mark.parametrize("kind", [FaultKind.SERVER_ERROR, FaultKind.BAD_GATEWAY, FaultKind.UNAVAILABLE])
def test_server_errors(fake: FakeAtlassian, api: httpx.Client, kind: FaultKind) -> None:
    fake.inject("GET /wiki/api/v2/pages/{id}", kind)
    page_id = fake.site.ids("page")[0]
    assert api.get(f"/wiki/api/v2/pages/{page_id}").status_code == int(kind.value)
    assert api.get(f"/wiki/api/v2/pages/{page_id}").status_code == 200
    assert api.get("/wiki/api/v2/pages").status_code == 200


def test_skip_lets_first_requests_through(fake: FakeAtlassian, api: httpx.Client) -> None:
    fake.inject(PAGES, "503", times=1, skip=2)
    assert [api.get("/wiki/api/v2/pages").status_code for _ in range(4)] == [200, 200, 503, 200]


def test_timeout_holds_connection(fake: FakeAtlassian, api: httpx.Client) -> None:
    fake.inject("*/api/v2/spaces", "timeout", hold=2.0)
    with pytest.raises(httpx.ReadTimeout):
        api.get("/wiki/api/v2/spaces", timeout=0.2)
    assert api.get("/wiki/api/v2/spaces").status_code == 200


def test_timeout_released_on_stop() -> None:
    fake = FakeAtlassian().start()
    fake.inject("*", "timeout", hold=30)
    errors: list[BaseException] = []

    def call() -> None:
        try:
            httpx.get(f"{fake.api_url}/me", timeout=10)
        except httpx.HTTPError as exc:
            errors.append(exc)

    worker = threading.Thread(target=call)
    worker.start()
    time.sleep(0.2)
    started = time.perf_counter()
    fake.stop()
    worker.join(5)
    assert not worker.is_alive() and errors and time.perf_counter() - started < 3


def test_malformed_json(fake: FakeAtlassian, api: httpx.Client) -> None:
    fake.inject(PAGES, FaultKind.MALFORMED_JSON)
    response = api.get("/wiki/api/v2/pages")
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        response.json()


def test_latency_does_not_serialise_requests(fake: FakeAtlassian, token: str) -> None:
    fake.set_latency(0.3)
    url = f"{fake.wiki_url()}/api/v2/spaces"
    results: list[int] = []

    def call() -> None:
        results.append(httpx.get(url, headers={"Authorization": f"Bearer {token}"}).status_code)

    threads = [threading.Thread(target=call) for _ in range(8)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    assert results == [200] * 8 and 0.3 <= elapsed < 1.5


def test_latency_by_pattern(fake: FakeAtlassian, api: httpx.Client) -> None:
    fake.set_latency(0.25, pattern="*/spaces")
    started = time.perf_counter()
    api.get("/wiki/api/v2/pages")
    fast = time.perf_counter() - started
    started = time.perf_counter()
    api.get("/wiki/api/v2/spaces")
    assert fast < 0.2 <= time.perf_counter() - started


def test_request_log_counts_per_endpoint_and_token(fake: FakeAtlassian, api: httpx.Client, token: str) -> None:
    other = fake.issue_token()["access_token"]
    listing = api.get("/wiki/api/v2/pages", params={"limit": 3}).json()["results"]
    for page in listing:
        api.get(f"/wiki/api/v2/pages/{page['id']}", params={"body-format": "storage"})
    api.get(f"/wiki/api/v2/pages/{listing[0]['id']}")
    httpx.get(f"{fake.wiki_url()}/api/v2/spaces", headers={"Authorization": f"Bearer {other}"})
    assert fake.log.count("GET /wiki/api/v2/pages/{id}") == 4
    assert fake.log.by_endpoint()[PAGES] == 1
    assert fake.log.by_principal()[token] == 5 and fake.log.by_principal()[str(other)] == 1
    assert fake.log.body_fetches() == {p["id"]: 1 for p in listing}
    assert fake.log.count(status=200) == 6
    fake.log.clear()
    assert len(fake.log) == 0
