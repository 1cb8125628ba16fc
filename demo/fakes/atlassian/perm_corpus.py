"""Fixed-seed generators of people and restricted content, for tests and the benchmark.

``populate_people(site)`` adds groups with members, hides some e-mails (every way Atlassian does) and may
deactivate a few accounts.  ``restrict_corpus(site, percent=30)`` then restricts about ``percent`` % of the
pages, in three kinds, and returns a :class:`RestrictionPlan` saying which page is hidden how:

* **direct** — the page's own read restriction names a group;
* **inherited** — no restriction of its own, but an ancestor's restriction (a direct one) hides it;
* **personal** — restricted to exactly one person (plus ``indexer``, if given).

Space homepages stay unrestricted.  ``indexer`` (e.g. the connecting account) is added to every restriction,
the way teams grant their sync account every restricted page, so it can read the whole corpus.  Equal
arguments on equal sites give equal results.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field

from .people import ALL_USERS_GROUP, AccountStatus, EmailVisibility, Group
from .site import Site

DEFAULT_GROUPS = ("hr", "finance", "engineering", "leadership")
HIDDEN_STYLES = (EmailVisibility.ABSENT, EmailVisibility.NULL, EmailVisibility.EMPTY)


def populate_people(
    site: Site,
    *,
    groups: Sequence[str] = DEFAULT_GROUPS,
    hidden_email_every: int = 3,
    inactive: int = 0,
    seed: int = 7,
) -> list[Group]:
    """Create ``groups`` with members, hide every n-th e-mail, deactivate the last ``inactive`` users.

    The connecting user (``site.users[0]``) keeps a visible address, stays active and joins no new group;
    every other active user joins one to three groups, and each group gets at least one member."""
    rng = random.Random(seed)
    with site.lock:
        others = site.users[1:]
        made = [site.people.add_group(name) for name in groups]
        for index, user in enumerate(others, start=1):
            if hidden_email_every and index % hidden_email_every == 0:
                user.email_visibility = HIDDEN_STYLES[(index // hidden_email_every - 1) % len(HIDDEN_STYLES)]
            for group in rng.sample(made, k=min(len(made), 1 + rng.randrange(3))):
                group.members.add(user.account_id)
        for position, group in enumerate(made):
            if not group.members and others:
                group.members.add(others[position % len(others)].account_id)
        for user in others[len(others) - inactive :] if inactive else []:
            user.status = AccountStatus.INACTIVE
    return made


@dataclass
class RestrictionPlan:
    """Which pages ``restrict_corpus`` hid, and how (ids of pages)."""

    direct: dict[int, str] = field(default_factory=dict)  # page → the group id its own restriction names
    inherited: dict[int, int] = field(default_factory=dict)  # page → the restricted ancestor that hides it
    personal: dict[int, str] = field(default_factory=dict)  # page → the one account it is restricted to
    pages: int = 0  # pages considered (every page of the site)

    @property
    def restricted(self) -> set[int]:
        return set(self.direct) | set(self.inherited) | set(self.personal)

    @property
    def percent(self) -> float:
        return 100.0 * len(self.restricted) / self.pages if self.pages else 0.0


def _subtrees(site: Site, ids: list[int]) -> dict[int, list[int]]:
    """Page id → its descendants (not itself)."""
    children: dict[int, list[int]] = {}
    for content_id in ids:
        parent = site.content[content_id].parent_id
        if parent is not None:
            children.setdefault(parent, []).append(content_id)
    below: dict[int, list[int]] = {}

    def walk(node: int) -> list[int]:
        if node not in below:
            found: list[int] = []
            stack = list(children.get(node, []))
            while stack:
                current = stack.pop()
                found.append(current)
                stack.extend(children.get(current, []))
            below[node] = found
        return below[node]

    for content_id in ids:
        walk(content_id)
    return below


def restrict_corpus(
    site: Site,
    percent: float = 30.0,
    *,
    seed: int = 7,
    groups: Sequence[str] | None = None,
    people: Sequence[str] | None = None,
    indexer: str | None = None,
) -> RestrictionPlan:
    """Restrict about ``percent`` % of the site's pages (direct, inherited and personal kinds, all present
    once the target allows three or more pages).  ``groups`` (ids or names) default to every group but
    ``confluence-users``; ``people`` (account ids) to the active users other than ``site.users[0]``."""
    rng = random.Random(seed)
    with site.lock:
        ids = site.ids("page")
        homepages = {s.homepage_id for s in site.spaces.values()}
        below = _subtrees(site, ids)
        group_ids = [site.people.require_group(g).id for g in groups] if groups is not None else []
        if groups is None:
            group_ids = [g.id for g in site.people.groups.values() if g.name != ALL_USERS_GROUP]
        persons = list(people) if people is not None else [u.account_id for u in site.users[1:] if u.active]
        if not group_ids or not persons:
            raise ValueError("restrict_corpus needs at least one group and one person (see populate_people)")
        plan = RestrictionPlan(pages=len(ids))
        target = round(len(ids) * percent / 100)
        affected: set[int] = set()
        candidates = [i for i in ids if i not in homepages]
        rng.shuffle(candidates)
        # One page with descendants first, so inherited restrictions exist even in small corpora.
        parent = next((i for i in candidates if 1 < 1 + len(below[i]) <= max(2, target - 2)), None)
        if parent is not None:
            candidates.remove(parent)
            candidates.insert(0, parent)
        turn = 0
        for page in candidates:
            if len(affected) >= target:
                break
            tree = [page, *below[page]]
            if len(affected) + len(tree) > target or affected.intersection(tree) or _under(site, page, affected):
                continue
            extra = (indexer,) if indexer else ()
            if len(tree) == 1 and turn % 2 == 1:
                person = persons[len(plan.personal) % len(persons)]
                site.restrict_page(page, users=(person, *extra))
                plan.personal[page] = person
            else:
                group = group_ids[len(plan.direct) % len(group_ids)]
                site.restrict_page(page, users=extra, groups=(group,))
                plan.direct[page] = group
                plan.inherited.update(dict.fromkeys(below[page], page))
            turn += 1
            affected.update(tree)
        return plan


def _under(site: Site, page: int, affected: set[int]) -> bool:
    parent = site.content[page].parent_id
    while parent is not None:
        if parent in affected:
            return True
        node = site.content.get(parent)
        parent = node.parent_id if node else None
    return False
