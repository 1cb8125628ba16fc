"""From what Confluence said to each document's ACL, and when the next pass is due. Pure: no I/O.

* :func:`document_acls`: a document's ACL is its space's view clause, its own read restriction and the read
  restriction of every ancestor (bot/access/model.effective_acl). An ancestor's restriction comes from the
  same listing, or from ``lookup`` (a read of its own), or — when neither knows it — is unknown, and then the
  document is hidden: an ancestor is never skipped.
* :func:`finished_acls`: for an incomplete listing, only the documents whose whole chain was listed.
* :func:`next_pass_in`: at least the freshness bound apart, and spaced so all passes together never take more
  than the permission lane's hourly points.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from datetime import timedelta
from typing import Final

from bot.access.model import UNKNOWN, Acl, effective_acl
from bot.confluence.permissions import ContentFacts

__all__ = ["FRESHNESS_BOUND", "acl_of", "document_acls", "finished_acls", "next_pass_in"]

#: The freshness bound of synced ACLs (design note): passes are never closer together than this, and the live
#: check at search covers documents checked longer ago.
FRESHNESS_BOUND: Final = timedelta(minutes=60)
UNREADABLE: Final = (UNKNOWN,)

Lookup = Callable[[str], tuple[str, ...]]


def acl_of(
    fact: ContentFacts,
    space: Collection[str] | None,
    listed: Mapping[str, ContentFacts],
    lookup: Lookup | None = None,
) -> Acl:
    """The ACL of one document (``space``: who may view its space, None when unreadable)."""
    if fact.ancestors is None:
        return effective_acl(space, fact.own, [UNREADABLE])
    chain: list[tuple[str, ...]] = []
    for ancestor in fact.ancestors:
        known = listed.get(ancestor)
        if known is not None:
            chain.append(known.own)
        elif lookup is not None:
            chain.append(lookup(ancestor))
        else:
            chain.append(UNREADABLE)
    return effective_acl(space, fact.own, chain)


def document_acls(
    facts: Mapping[str, ContentFacts],
    space: Collection[str] | None,
    wanted: Collection[str],
    lookup: Lookup | None = None,
) -> dict[str, Acl]:
    """The ACL of each listed document in ``wanted`` (the datastore's documents)."""
    return {cid: acl_of(fact, space, facts, lookup) for cid, fact in facts.items() if cid in wanted}


def finished_acls(
    facts: Mapping[str, ContentFacts], space: Collection[str] | None, wanted: Collection[str]
) -> dict[str, Acl]:
    """Of an unfinished listing, the ACLs of documents whose every ancestor was listed already (the others wait
    for the pass to resume)."""
    done = {
        cid: fact
        for cid, fact in facts.items()
        if fact.ancestors is not None and all(a in facts for a in fact.ancestors)
    }
    return {cid: acl_of(fact, space, facts) for cid, fact in done.items() if cid in wanted}


def next_pass_in(all_points: int, lane_points_per_hour: float, bound: timedelta = FRESHNESS_BOUND) -> timedelta:
    """How long after a pass the next is due: ``all_points`` (the last pass of every datastore, together) spread
    over the lane, and never less than ``bound``."""
    if lane_points_per_hour <= 0:
        return bound
    return max(bound, timedelta(hours=all_points / lane_points_per_hour))
