"""Fixtures of the Confluence client tests: a small fake site on a frozen clock and a connection to it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from demo.fakes.atlassian import FakeAtlassian, FakeClock, SiteSpec
from tests.bot.confluence.world import World, build_world


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    spec = SiteSpec(spaces=2, pages_per_space=12, blogposts_per_space=3, body_bytes=400)
    with FakeAtlassian(spec, clock=FakeClock(frozen=True)) as fake:
        yield from build_world(fake, tmp_path)
