"""Per-datastore resync intervals: what people may type, and what the scheduler does with it."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.datastores.schedule import describe_interval, parse_deletion_interval, parse_interval
from bot.errors import UserFacingError
from demo.fakes.atlassian import SiteSpec
from tests.bot.datastores.test_deletion import _cli
from tests.bot.sync.conftest import make_world

# Heavy end to end: of this module's PostgreSQL cases every other one runs (SQLite runs them all).
pytestmark = pytest.mark.postgresql_sample(every=2, per="module")


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("90m", 90),
        ("6h", 360),
        ("every 6 hours", 360),
        ("1d", 1440),
        ("2 days", 2880),
        ("15min", 15),
        ("default", None),
    ],
)
def test_intervals_people_type(text: str, minutes: int | None) -> None:
    assert parse_interval(text) == minutes


@pytest.mark.parametrize("text", ["often", "6", "-1h", "5m", "8d", "1.5h"])
def test_unreadable_or_out_of_range_intervals_are_refused(text: str) -> None:
    with pytest.raises(UserFacingError):
        parse_interval(text)


@pytest.mark.parametrize(
    ("text", "minutes"), [("1h", 60), ("12h", 720), ("1d", 1440), ("30d", 43200), ("default", None)]
)
def test_deletion_intervals_people_type(text: str, minutes: int | None) -> None:
    assert parse_deletion_interval(text) == minutes


@pytest.mark.parametrize("text", ["30m", "31d", "often", "99999999999999d"])
def test_deletion_intervals_out_of_range_are_refused(text: str) -> None:
    with pytest.raises(UserFacingError):
        parse_deletion_interval(text)


def test_intervals_read_naturally() -> None:
    assert [describe_interval(m) for m in (60, 180, 1440, 2880, 90)] == [
        "every hour",
        "every 3 hours",
        "every day",
        "every 2 days",
        "every 90 minutes",
    ]


def test_the_cli_sets_the_interval(database_url: str, tmp_path: Path) -> None:
    for world in make_world(database_url, SiteSpec(spaces=1, pages_per_space=1, blogposts_per_space=0)):
        result = _cli(["schedule", "eng-wiki", "1d"], world, tmp_path)
        assert result.returncode == 0, result.stderr
        assert "eng-wiki resyncs every day" in result.stdout and world.datastore().sync_interval_minutes == 1440
        result = _cli(["schedule", "eng-wiki", "--deletions", "6h"], world, tmp_path)
        assert result.returncode == 0, result.stderr
        assert "checks for pages deleted in Confluence every 6 hours" in result.stdout
        assert (world.datastore().sync_interval_minutes, world.datastore().deletion_interval_minutes) == (1440, 360)
        nothing = _cli(["schedule", "eng-wiki"], world, tmp_path)
        assert nothing.returncode == 1 and "--deletions 1d" in nothing.stderr
        refused = _cli(["schedule", "eng-wiki", "often"], world, tmp_path)
        assert refused.returncode == 1 and "can't read “often” as an interval" in refused.stderr
