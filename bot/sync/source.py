"""What the sync engine needs from a content source, so Data Center or attachments can be added later
without touching the engine.

Enumeration is checkpointed: each call lists one page of results for one space and content kind and returns
the opaque cursor of the next one, which the engine stores with the items in one transaction. A space is
listed whole (every id: new spaces, full syncs and the deletion check) or by what changed since a time in the
source's own clock (``as_of`` of an earlier listing), most recent first, ending at the first older item. A
listing may bring its items' bodies along (``Listing.fetched``: a full sync in one pass, and every listing of
changes); the engine indexes those as they arrive and fetches only the rest. Fetching yields a document or a
per-item failure for every reference asked for: failures are values, not exceptions, so one broken page fails
only itself. ``estimate`` is a cheap, approximate count for the progress thread ("about N pages").
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

__all__ = ["ContentRef", "FetchedContent", "ItemFailure", "ItemGone", "Listing", "Source", "SpaceRef"]


@dataclass(frozen=True)
class SpaceRef:
    id: str
    key: str
    name: str


@dataclass(frozen=True)
class ContentRef:
    """Metadata of one page or blog post: enough to decide whether it changed, without its body."""

    source_id: str
    kind: str  # page | blogpost
    space_id: str
    title: str
    version: int
    last_modified: datetime | None
    webui: str | None


@dataclass(frozen=True)
class FetchedContent:
    ref: ContentRef
    url: str
    body: str = field(repr=False)


@dataclass(frozen=True)
class Listing:
    refs: list[ContentRef]
    next_cursor: str | None  # None: this space and kind are fully listed (or every change is)
    as_of: datetime | None = None  # the source's clock when it answered; None when it did not say
    #: The listed items that came with their bodies (each also in ``refs``): nothing to fetch for them.
    fetched: list[FetchedContent] = field(default_factory=list)


@dataclass(frozen=True)
class ItemFailure:
    source_id: str
    title: str
    reason: str


@dataclass(frozen=True)
class ItemGone:
    """Listed a moment ago, gone now (deleted, trashed, or no longer visible): not a failure, a deletion."""

    source_id: str


class Source(Protocol):
    """One connected site. Methods raise ReconnectRequired / RateLimited / AtlassianError for the whole run."""

    @property
    def kinds(self) -> Sequence[str]:
        """The content kinds this source lists, e.g. ("page", "blogpost")."""
        ...

    def spaces(self, space_ids: Sequence[str] | None) -> list[SpaceRef]:
        """The spaces to sync: the given ids (those still visible), or every space the account can see."""
        ...

    def estimate(self, spaces: Sequence[SpaceRef]) -> int | None:
        """About how many items of ``self.kinds`` these spaces hold (cheap: no listing); None when unknown."""
        ...

    def list_page(self, space_id: str, kind: str, cursor: str | None, *, with_bodies: bool = False) -> Listing:
        """One page of ``space_id``'s items, with their bodies in ``fetched`` when ``with_bodies`` (as far as
        the source sends them); ``cursor`` None starts at the beginning."""
        ...

    def list_changed(self, space_id: str, kind: str, since: datetime, cursor: str | None) -> Listing:
        """One page of the items of ``space_id`` modified at or after ``since`` (the source's clock), the most
        recently modified first, with their bodies where it can; ``next_cursor`` is None once an item older
        than ``since`` was reached."""
        ...

    def fetch(self, refs: Sequence[ContentRef]) -> Iterator[FetchedContent | ItemFailure | ItemGone]:
        """Bodies for ``refs`` (all of one kind), one result per ref."""
        ...

    def close(self) -> None:
        """Release connections; the engine calls it once the run stops."""
        ...
