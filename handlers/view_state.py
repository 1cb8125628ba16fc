"""Reading what people typed or picked out of a submitted view's ``state.values``."""

from __future__ import annotations

from typing import Any

from handlers.ids import BlockId

__all__ = ["FIELD_BLOCKS", "Values", "selected_value", "text_value"]

#: Which input block shows the error of each field an InvalidInput names.
FIELD_BLOCKS: dict[str, str] = {
    "name": BlockId.NAME,
    "threshold": BlockId.TOPOFF_THRESHOLD,
    "amount": BlockId.TOPOFF_AMOUNT,
    "monthly_cap": BlockId.TOPOFF_CAP,
    "site_url": BlockId.SITE_URL,
    "spaces": BlockId.SPACES,
    "share": BlockId.SHARE_CHOICE,
    "top_off": BlockId.TOPOFF_CHOICE,
}

Values = dict[str, dict[str, dict[str, Any]]]


def text_value(values: Values, block: str, action: str) -> str | None:
    value = values.get(block, {}).get(action, {}).get("value")
    return value if isinstance(value, str) else None


def selected_value(values: Values, block: str, action: str) -> str | None:
    chosen = values.get(block, {}).get(action, {}).get("selected_option")
    return chosen.get("value") if isinstance(chosen, dict) else None
