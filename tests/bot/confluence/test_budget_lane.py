"""The permission lane: at most its share of the hour, and never what the app-wide budget no longer has."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.confluence.budget import PermissionLane, RequestBudget
from bot.errors import RateLimited


class _Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def test_lane_takes_at_most_its_share_of_the_hour() -> None:
    clock = _Clock()
    budget = RequestBudget(1000, clock=clock)
    lane = PermissionLane(budget, 1000, share=0.2, clock=clock)
    for _ in range(200):
        lane.take(1)
    with pytest.raises(RateLimited):
        lane.take(1)
    assert budget.available == pytest.approx(800)
    budget.take(800)  # the rest of the hour is still there for syncs


def test_lane_refills_at_its_share_of_the_rate() -> None:
    clock = _Clock()
    lane = PermissionLane(RequestBudget(3600, clock=clock), 3600, share=0.5, clock=clock)
    lane.take(1800)
    clock.now += timedelta(seconds=10)
    assert lane.available == pytest.approx(5)


def test_lane_refused_by_the_app_budget_keeps_its_own_points() -> None:
    clock = _Clock()
    budget = RequestBudget(1000, clock=clock)
    lane = PermissionLane(budget, 1000, share=0.2, clock=clock)
    budget.take(1000)  # syncs used the whole hour
    with pytest.raises(RateLimited):
        lane.take(5)
    clock.now += timedelta(seconds=36)  # 10 points back in the app budget, lane untouched at 200
    lane.take(10)
    assert lane.available == pytest.approx(0, abs=1e-6)


def test_lane_spend_charges_both() -> None:
    clock = _Clock()
    budget = RequestBudget(1000, clock=clock)
    lane = PermissionLane(budget, 1000, share=0.2, clock=clock)
    lane.spend(50)
    assert budget.available == pytest.approx(950)
    assert lane.available == pytest.approx(150)


@pytest.mark.parametrize("share", [0, -0.1, 1.5])
def test_lane_share_must_be_a_fraction(share: float) -> None:
    with pytest.raises(ValueError, match="share"):
        PermissionLane(RequestBudget(10), 10, share=share)
