"""Fixtures of the token tests: the fake Atlassian, an encryption key and migrated services on each backend."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.crypto import generate_key
from bot.services import Services
from demo.fakes.atlassian import FakeAtlassian, SiteSpec
from tests.bot.atlassian.connections import make_services
from tests.harness import migrate


@pytest.fixture
def fake() -> Iterator[FakeAtlassian]:
    with FakeAtlassian(SiteSpec(spaces=1, pages_per_space=3, blogposts_per_space=0, body_bytes=200)) as server:
        yield server


@pytest.fixture
def key() -> str:
    return generate_key()


@pytest.fixture
def services(fake: FakeAtlassian, database_url: str, key: str) -> Iterator[Services]:
    built = make_services(fake, database_url, key)
    migrate(built.engine)
    yield built
    built.engine.dispose()
