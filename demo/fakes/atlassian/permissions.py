"""Who may read what: space permissions, page read restrictions with inheritance, and the caller's view.

* **Space permissions** are v2-style assignments (``principal`` user, group or ``role`` — an access class:
  ``anonymous-users``, ``authenticated-users`` or ``all-licensed-users``, the ids Confluence's role API names
  — plus ``operation`` key and target type).  An access class admits every active account (the fake has
  no anonymous callers and every user is licensed).  A space nobody configured gets the defaults: group
  ``confluence-users`` may ``read``/``create`` (so every user of the default world reads every space) and
  the space's author may ``administer`` it.
* **Read restrictions** live on each :class:`~.site.Content` (``restrictions = (account ids, group ids)``).
  Like Confluence, an empty restriction means "no restriction", and a page is readable only if the space is
  readable *and* the page's own restriction *and every ancestor's* admit the caller (inheritance is an
  intersection).  Changing restrictions never bumps ``version``.
* :class:`Viewer` answers "may this account see that?" for one request, with memoised ancestor walks; an
  unknown or deactivated account sees nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .people import ALL_USERS_GROUP, Directory

if TYPE_CHECKING:
    from .site import Content, Site

READ = "read"
SPACE = "space"
ACCESS_CLASSES = ("anonymous-users", "authenticated-users", "all-licensed-users")
MEMBER_OPERATIONS = (("read", "space"), ("create", "page"), ("create", "blogpost"), ("create", "comment"))
ADMIN_OPERATIONS = (("administer", "space"),)


@dataclass(frozen=True, slots=True)
class SpaceGrant:
    """One space permission assignment (``GET /wiki/api/v2/spaces/{id}/permissions`` item)."""

    id: str
    principal_type: str  # "user" | "group" | "role" (an access class)
    principal_id: str
    operation: str
    target: str


class Permissions:
    """Space permission assignments of a site (restrictions are on the content records themselves)."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self._grants: dict[int, list[SpaceGrant]] = {}
        self._next_id = 917_505
        self._lock = threading.RLock()

    @property
    def people(self) -> Directory:
        return self.site.people

    def _grant_id(self) -> str:
        self._next_id += 1
        return str(self._next_id)

    def _defaults(self, space_id: int) -> list[SpaceGrant]:
        space = self.site.spaces[space_id]
        everyone = self.people.group(ALL_USERS_GROUP)
        grants = [
            SpaceGrant(self._grant_id(), "group", everyone.id, op, target)
            for op, target in MEMBER_OPERATIONS
            if everyone is not None
        ]
        grants += [SpaceGrant(self._grant_id(), "user", space.author_id, op, t) for op, t in ADMIN_OPERATIONS]
        return grants

    def grants(self, space_id: int) -> list[SpaceGrant]:
        """Every assignment of the space (the defaults until something is changed), a copy."""
        with self._lock:
            if space_id not in self._grants:
                self._grants[space_id] = self._defaults(space_id)
            return list(self._grants[space_id])

    def _principal(self, principal: str) -> tuple[str, str]:
        if principal in ACCESS_CLASSES:
            return "role", principal
        group = self.people.group(principal)
        if group is not None:
            return "group", group.id
        return "user", self.people.require_user(principal).account_id

    def grant(self, space_id: int, principal: str, operations: Iterable[tuple[str, str]] = MEMBER_OPERATIONS) -> None:
        """Give a user (account id), group (id or name) or access class the operations on the space."""
        kind, ident = self._principal(principal)
        with self._lock:
            current = self.grants(space_id)
            have = {(g.principal_type, g.principal_id, g.operation, g.target) for g in current}
            for op, target in operations:
                if (kind, ident, op, target) not in have:
                    current.append(SpaceGrant(self._grant_id(), kind, ident, op, target))
            self._grants[space_id] = current

    def revoke(self, space_id: int, principal: str, operation: str | None = None) -> None:
        """Remove the principal's assignments on the space (all, or those of one operation key)."""
        kind, ident = self._principal(principal)
        with self._lock:
            self._grants[space_id] = [
                g
                for g in self.grants(space_id)
                if not (g.principal_type == kind and g.principal_id == ident and operation in (None, g.operation))
            ]

    def set_readers(self, space_id: int, principals: Iterable[str]) -> None:
        """Exactly these users/groups may read the space (member operations); the author keeps ``administer``."""
        with self._lock:
            self._grants[space_id] = [g for g in self.grants(space_id) if g.operation == "administer"]
            for principal in principals:
                self.grant(space_id, principal)

    def forget_group(self, group_id: str) -> None:
        """A deleted group disappears from every space permission (restrictions are cleaned by the site)."""
        with self._lock:
            for space_id, grants in self._grants.items():
                self._grants[space_id] = [g for g in grants if g.principal_id != group_id]

    def readers_of_space(self, space_id: int) -> tuple[set[str], set[str]]:
        """(account ids, group ids) holding ``read``/``space``; an access class holding it adds the account
        ids of every active user."""
        users: set[str] = set()
        groups: set[str] = set()
        for g in self.grants(space_id):
            if (g.operation, g.target) == (READ, SPACE):
                if g.principal_type == "role":
                    users.update(u.account_id for u in self.people.users if u.active)
                else:
                    (users if g.principal_type == "user" else groups).add(g.principal_id)
        return users, groups


class Viewer:
    """What one account may see, memoised for the length of a request."""

    def __init__(self, site: Site, account_id: str) -> None:
        self.site = site
        self.account_id = account_id
        user = site.people.user(account_id)
        self.active = user is not None and user.active
        self.groups = site.people.groups_of(account_id) if self.active else set()
        self._spaces: dict[int, bool] = {}
        self._content: dict[int, bool] = {}

    def _admits(self, users: Iterable[str], groups: Iterable[str]) -> bool:
        return self.account_id in users or not self.groups.isdisjoint(groups)

    def can_read_space(self, space_id: int) -> bool:
        if not self.active:
            return False
        known = self._spaces.get(space_id)
        if known is None:
            if space_id not in self.site.spaces:
                return False
            users, groups = self.site.permissions.readers_of_space(space_id)
            known = self._spaces[space_id] = self._admits(users, groups)
        return known

    def _own_restriction_admits(self, item: Content) -> bool:
        users, groups = item.restrictions
        return (not users and not groups) or self._admits(users, groups)

    def can_see(self, item: Content) -> bool:
        """Space readable, and the item's and every ancestor's read restriction admit the account."""
        known = self._content.get(item.id)
        if known is not None:
            return known
        chain: list[Content] = []
        node: Content | None = item
        verdict = self.can_read_space(item.space_id)
        while verdict and node is not None and len(chain) < 200:
            cached = self._content.get(node.id)
            if cached is not None:
                verdict = cached
                break
            chain.append(node)
            verdict = self._own_restriction_admits(node)
            node = self.site.content.get(node.parent_id) if node.parent_id is not None else None
        for seen in chain:  # each node below the deciding one shares its verdict
            self._content[seen.id] = verdict
        self._content[item.id] = verdict
        return verdict

    def visible(self, items: Iterable[Content]) -> list[Content]:
        return [item for item in items if self.can_see(item)]
