"""The auto top-off inputs, shared by the wizard's Connection Setup step and the credits modal."""

from __future__ import annotations

from typing import Any, Protocol

from handlers.ids import ActionId, BlockId
from handlers.views.blocks import text_input

__all__ = ["TopOffValues", "top_off_fields"]


class TopOffValues(Protocol):
    """Current settings to prefill (the wizard's snapshot or the workspace's)."""

    @property
    def threshold(self) -> int: ...
    @property
    def amount(self) -> int: ...
    @property
    def monthly_cap(self) -> int | None: ...


def top_off_fields(current: TopOffValues | None, *, required: bool = True) -> list[dict[str, Any]]:
    """Threshold, amount and monthly cap; with ``required=False`` leaving the first two empty turns it off."""
    cap = str(current.monthly_cap) if current and current.monthly_cap else None
    return [
        text_input(
            BlockId.TOPOFF_THRESHOLD,
            ActionId.TOPOFF_THRESHOLD,
            "When the balance drops below",
            initial=str(current.threshold) if current else None,
            placeholder="e.g. 1000",
            hint="Credits. Whole number." if required else "Credits. Leave this and the amount empty to turn it off.",
            optional=not required,
        ),
        text_input(
            BlockId.TOPOFF_AMOUNT,
            ActionId.TOPOFF_AMOUNT,
            "Add this many credits",
            initial=str(current.amount) if current else None,
            placeholder="e.g. 10000",
            optional=not required,
        ),
        text_input(
            BlockId.TOPOFF_CAP,
            ActionId.TOPOFF_CAP,
            "Monthly cap (optional)",
            initial=cap,
            placeholder="e.g. 50000",
            optional=True,
            hint="Top-offs stop for the month once they add up to this. Must be at least the amount.",
        ),
    ]
