"""List the spaces a connection can see (v2 ``/spaces``), following ``_links.next`` only."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from bot.errors import AtlassianError

__all__ = ["MAX_PAGES", "SpaceSummary", "list_spaces", "next_path"]

#: 250 per page × 400 pages = 100,000 spaces: far beyond any real site, and a bound on a looping ``next``.
MAX_PAGES = 400
PAGE_LIMIT = 250


@dataclass(frozen=True)
class SpaceSummary:
    id: str
    key: str
    name: str


def next_path(payload: object) -> str | None:
    """The relative ``/wiki/…`` path of the next page, None at the end; anything else is an error."""
    links = payload.get("_links") if isinstance(payload, dict) else None
    nxt = links.get("next") if isinstance(links, dict) else None
    if nxt is None or nxt == "":
        return None
    if not isinstance(nxt, str) or not nxt.startswith("/wiki/") or "//" in nxt:
        raise AtlassianError("Confluence sent a next-page link that is not a relative /wiki/ path.")
    return nxt


def list_spaces(client: httpx.Client, cloud_id: str, access_token: str) -> list[SpaceSummary]:
    """Every current space the token can see; ``client`` has ATLASSIAN_API_URL as its base URL."""
    base = f"/ex/confluence/{cloud_id}"
    path: str | None = f"/wiki/api/v2/spaces?limit={PAGE_LIMIT}&status=current&sort=name"
    spaces: list[SpaceSummary] = []
    for _ in range(MAX_PAGES):
        if path is None:
            return spaces
        response = client.get(base + path, headers={"Authorization": f"Bearer {access_token}"})
        if response.status_code != 200:
            raise AtlassianError(f"Confluence answered {response.status_code} when listing spaces.")
        try:
            payload = response.json()
        except ValueError:
            raise AtlassianError("Confluence answered the space list with something that is not JSON.") from None
        for item in payload.get("results") or []:
            spaces.append(SpaceSummary(id=str(item["id"]), key=str(item.get("key") or ""), name=str(item["name"])))
        path = next_path(payload)
    raise AtlassianError(f"Confluence kept sending next-page links after {MAX_PAGES} pages of spaces.")
