"""Reading what people typed or picked out of a submitted view's ``state.values``."""

from __future__ import annotations

from typing import Any

from handlers.ids import BlockId

__all__ = ["FIELD_BLOCKS", "Values", "selected_value", "selected_values", "state_values", "text_value"]

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
    "access": BlockId.ACCESS_MODE,
}

Values = dict[str, dict[str, dict[str, Any]]]


def state_values(view: object) -> Values:
    """A submitted view's ``state.values``; empty when the body has none (or something else there)."""
    state = view.get("state") if isinstance(view, dict) else None
    values = state.get("values") if isinstance(state, dict) else None
    return values if isinstance(values, dict) else {}


def _element(values: Values, block: str, action: str) -> dict[str, Any]:
    """One element's state; any level that is not an object reads as empty."""
    block_state = values.get(block) if isinstance(values, dict) else None
    element = block_state.get(action) if isinstance(block_state, dict) else None
    return element if isinstance(element, dict) else {}


def text_value(values: Values, block: str, action: str) -> str | None:
    value = _element(values, block, action).get("value")
    return value if isinstance(value, str) else None


def selected_value(values: Values, block: str, action: str) -> str | None:
    chosen = _element(values, block, action).get("selected_option")
    value = chosen.get("value") if isinstance(chosen, dict) else None
    return value if isinstance(value, str) else None


def selected_values(values: Values, block: str, action: str) -> list[str]:
    """The values of a multi-select's ``selected_options`` (entries that are not options are left out)."""
    chosen = _element(values, block, action).get("selected_options")
    items = chosen if isinstance(chosen, list) else []
    return [item["value"] for item in items if isinstance(item, dict) and isinstance(item.get("value"), str)]
