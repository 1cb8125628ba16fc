"""Fixtures for the fake Atlassian's own tests."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from demo.fakes.atlassian import FakeAtlassian, SiteSpec


@pytest.fixture
def fake() -> Iterator[FakeAtlassian]:
    with FakeAtlassian(SiteSpec(spaces=3, pages_per_space=40, blogposts_per_space=3, body_bytes=3000)) as server:
        yield server


@pytest.fixture
def token(fake: FakeAtlassian) -> str:
    return str(fake.issue_token()["access_token"])


@pytest.fixture
def api(fake: FakeAtlassian, token: str) -> Iterator[httpx.Client]:
    """A client bound to the gateway base of the first site, with a valid bearer token."""
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=fake.gateway_url(), headers=headers, timeout=10) as client:
        yield client
