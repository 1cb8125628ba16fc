"""Confluence paging: only ever follow a ``_links.next`` that is a relative ``/wiki/…`` path."""

from __future__ import annotations

from bot.errors import AtlassianError

__all__ = ["next_path"]


def next_path(payload: object) -> str | None:
    """The relative ``/wiki/…`` path of the next page, None at the end; anything else is an error."""
    links = payload.get("_links") if isinstance(payload, dict) else None
    nxt = links.get("next") if isinstance(links, dict) else None
    if nxt is None or nxt == "":
        return None
    if not isinstance(nxt, str) or not nxt.startswith("/wiki/") or "//" in nxt:
        raise AtlassianError("Confluence sent a next-page link that is not a relative /wiki/ path.")
    return nxt
