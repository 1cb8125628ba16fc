"""The app-wide points budget shared through the database: two processes spend one hour's points, a restart does
not refill them, the hour rolls over at the top of the UTC hour, and Atlassian's headers correct the count."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.confluence.budget import RequestBudget
from bot.confluence.shared_budget import SharedBudget, used_from_headers
from bot.errors import RateLimited
from storage.db import make_engine, make_sessionmaker
from storage.points import points_spent

HOUR = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def sessions(migrated_sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    return migrated_sessions


def _process(sessions: sessionmaker[Session], clock: Clock, points: int = 1_000) -> SharedBudget:
    """One process's budget on the shared database (its own pacing bucket made roomy: the hour is what is tested)."""
    budget = SharedBudget(sessions, points, clock=clock, metered=False)
    budget.local = RequestBudget(10**9, clock=clock)
    return budget


def _spent(sessions: sessionmaker[Session], window: datetime = HOUR) -> int:
    with sessions() as session:
        return points_spent(session, window=window)


def _take_all(budget: SharedBudget) -> int:
    taken = 0
    while True:
        try:
            budget.take(1)
        except RateLimited as exc:
            assert exc.quota and exc.until == HOUR + timedelta(hours=1)
            assert "Atlassian's hourly quota — resuming at 10:00 UTC" in str(exc)
            return taken
        taken += 1


def test_two_processes_spend_one_hour_of_points_between_them(sessions: sessionmaker[Session]) -> None:
    clock = Clock(HOUR + timedelta(minutes=10))
    one, two = _process(sessions, clock), _process(sessions, clock)
    for _ in range(300):
        one.take(1)
        two.take(1)
    taken = 600 + _take_all(one) + _take_all(two)
    assert taken <= 1_000  # never more than the hour's points between them …
    assert taken >= 1_000 - 2 * 25  # … and at most a chunk each left unused
    assert _spent(sessions) == 1_000


def test_a_restart_does_not_refill_the_hour(sessions: sessionmaker[Session]) -> None:
    clock = Clock(HOUR + timedelta(minutes=5))
    first = _process(sessions, clock)
    assert _take_all(first) >= 975
    restarted = _process(sessions, clock)  # a new process: its pacing bucket is full, the hour is not
    with pytest.raises(RateLimited):
        restarted.take(1)
    assert restarted.available == 0


def test_the_pacing_budget_still_paces_the_process(sessions: sessionmaker[Session]) -> None:
    budget = SharedBudget(sessions, 1_000, clock=Clock(HOUR), metered=False)
    for _ in range(1_000):
        budget.take(1)
    with pytest.raises(RateLimited) as refused:
        budget.take(1)
    assert not refused.value.quota  # this process's own pace, not the hour: it refills within seconds


def test_the_next_utc_hour_starts_from_nothing(sessions: sessionmaker[Session]) -> None:
    clock = Clock(HOUR + timedelta(minutes=59))
    budget = _process(sessions, clock, points=100_000)
    budget.spend(99_990)  # objects counted after a request: charged past what was claimed
    with pytest.raises(RateLimited):
        budget.take(50)
    clock.now = HOUR + timedelta(hours=1, seconds=1)
    budget.take(50)
    assert _spent(sessions, HOUR + timedelta(hours=1)) >= 50


def test_objects_counted_after_a_request_are_charged_past_the_limit(sessions: sessionmaker[Session]) -> None:
    clock = Clock(HOUR)
    budget = _process(sessions, clock)
    budget.take(1)
    budget.spend(1_500)  # a listing that returned more than the hour had left
    assert _spent(sessions) >= 1_501
    with pytest.raises(RateLimited):
        _process(sessions, clock).take(1)


def test_atlassians_headers_raise_the_count_at_most_every_half_minute(sessions: sessionmaker[Session]) -> None:
    clock = Clock(HOUR + timedelta(minutes=20))
    budget = _process(sessions, clock, points=65_000)
    budget.observe({"x-ratelimit-limit": "65000", "x-ratelimit-remaining": "15000"}, clock.now)
    assert _spent(sessions) == 50_000  # another deployment of the app spent them
    budget.observe({"x-ratelimit-limit": "65000", "x-ratelimit-remaining": "5000"}, clock.now)
    assert _spent(sessions) == 50_000  # not again so soon
    clock.now += timedelta(seconds=31)
    budget.observe({"x-ratelimit-limit": "65000", "x-ratelimit-remaining": "5000"}, clock.now)
    assert _spent(sessions) == 60_000
    clock.now += timedelta(seconds=31)
    budget.observe({"x-ratelimit-limit": "65000", "x-ratelimit-remaining": "64000"}, clock.now)  # never lowers it
    assert _spent(sessions) == 60_000


def test_an_answer_of_the_hour_before_does_not_fill_the_new_one(sessions: sessionmaker[Session]) -> None:
    clock = Clock(HOUR + timedelta(hours=1, seconds=1))
    budget = _process(sessions, clock, points=65_000)
    sent = HOUR + timedelta(minutes=59, seconds=59)  # Atlassian's Date: still the last hour
    budget.observe({"x-ratelimit-limit": "65000", "x-ratelimit-remaining": "500"}, sent)
    assert _spent(sessions, HOUR + timedelta(hours=1)) == 0
    budget.take(1)


def test_an_unreachable_count_leaves_the_process_to_its_own_pace(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'unmigrated.db'}")  # no points table: every claim fails
    try:
        budget = _process(make_sessionmaker(engine), Clock(HOUR))
        with caplog.at_level(logging.WARNING, logger="bot.confluence.shared_budget"):
            for _ in range(100):
                budget.take(1)
            budget.spend(10)
            budget.observe({"x-ratelimit-limit": "65000", "x-ratelimit-remaining": "5"}, HOUR)
        warned = [r for r in caplog.records if "points count is unreachable" in r.getMessage()]
        assert len(warned) == 1  # said once a minute, not once a request
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("headers", "used"),
    [
        ({"x-ratelimit-limit": "65000", "x-ratelimit-remaining": "1000"}, 64_000),
        ({"x-ratelimit-limit": "65000"}, None),
        ({"x-ratelimit-limit": "65000", "x-ratelimit-remaining": "70000"}, None),
        ({"x-ratelimit-limit": "-1", "x-ratelimit-remaining": "0"}, None),
        ({"x-ratelimit-limit": "0", "x-ratelimit-remaining": "0"}, None),
        ({"x-ratelimit-limit": "9" * 40, "x-ratelimit-remaining": "1"}, None),
        ({"x-ratelimit-limit": "65 000", "x-ratelimit-remaining": "1"}, None),
        ({"x-ratelimit-limit": "65000", "x-ratelimit-remaining": "²"}, None),  # a digit to isdigit(), not to int()
        ({"x-ratelimit-limit": "65000", "x-ratelimit-remaining": "1" * 5000}, None),
        (
            {"x-ratelimit-limit": "65000", "x-ratelimit-remaining": "1", "ratelimit-reason": "quota-tenant-based"},
            None,
        ),
    ],
)
def test_only_sensible_rate_limit_headers_count(headers: dict[str, str], used: int | None) -> None:
    assert used_from_headers(headers) == used


DRAW = """
import sys
from datetime import UTC, datetime
from bot.confluence.budget import RequestBudget
from bot.confluence.shared_budget import SharedBudget
from bot.errors import RateLimited
from storage.db import make_engine, make_sessionmaker

engine = make_engine(sys.argv[1])
hour = datetime.fromisoformat(sys.argv[2])
budget = SharedBudget(make_sessionmaker(engine), 2_000, clock=lambda: hour, metered=False)
budget.local = RequestBudget(10**9, clock=lambda: hour)  # the hour, not this process's pace, is what is tested
print("ready", flush=True)
sys.stdin.readline()  # both processes start drawing together
taken = 0
try:
    while True:
        budget.take(1)
        taken += 1
except RateLimited as exc:
    assert exc.quota, exc
print(taken, flush=True)
engine.dispose()
"""


def test_two_real_processes_and_a_restart_share_the_hour(sessions: sessionmaker[Session], database_url: str) -> None:
    """Two OS processes draw at once from one database's hour, each with its own budget object: between them
    they take exactly the hour's points; a third process started afterwards (a restart) gets none."""
    import subprocess
    import sys

    repo = str(Path(__file__).resolve().parents[3])

    def start() -> subprocess.Popen[str]:
        child = subprocess.Popen(
            [sys.executable, "-c", DRAW, database_url, (HOUR + timedelta(minutes=30)).isoformat()],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={"PYTHONPATH": repo, "PATH": "/usr/bin:/bin"},
        )
        assert child.stdin is not None and child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        return child

    def go(child: subprocess.Popen[str]) -> None:
        assert child.stdin is not None
        child.stdin.write("go\n")
        child.stdin.flush()

    def taken(child: subprocess.Popen[str]) -> int:
        out, _err = child.communicate(timeout=120)
        assert child.returncode == 0, out
        return int(out.strip())

    one, two = start(), start()
    go(one)
    go(two)
    counts = [taken(one), taken(two)]
    assert sum(counts) == 2_000, counts  # never more than the hour between them, and none of it lost
    assert _spent(sessions, HOUR) == 2_000
    restarted = start()
    go(restarted)
    assert taken(restarted) == 0
