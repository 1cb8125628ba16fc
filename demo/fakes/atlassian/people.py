"""Users and groups of one fake Confluence site (its directory).

Users have Atlassian account ids, display names and an e-mail address that privacy settings may hide
from other people: :class:`EmailVisibility` says how a hidden address is left out of v1 answers (the key
absent, ``null`` or ``""``, all seen in the wild); v2 answers, whose schema types ``email`` as a string, send
``""``.  The owner of an address always sees it (``/me``, ``/user/current``).  Accounts are active,
``inactive`` (deactivated by an admin: their tokens stop working) or ``closed`` (shown as "Former user").

Groups have Cloud's UUID-style ids and unique names; group ``confluence-users`` holds every user ever
added (the default space permissions grant it read access, so the default world reads everything).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

USER_NAMES = ("Ada Lovelace", "Grace Hopper", "Åsa Lindström", "李 小龍", "José Núñez", "Zoë O'Brien")
ALL_USERS_GROUP = "confluence-users"


class AccountStatus(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"
    CLOSED = "closed"


class EmailVisibility(StrEnum):
    """How a user's address appears to *other* people in v1 answers."""

    SHOWN = "shown"
    ABSENT = "absent"  # the key is missing
    NULL = "null"
    EMPTY = "empty"


class PeopleError(KeyError):
    """Unknown user or group, or a duplicate group name."""


@dataclass(slots=True)
class User:
    account_id: str
    display_name: str
    email: str
    email_visibility: EmailVisibility = EmailVisibility.SHOWN
    status: AccountStatus = AccountStatus.ACTIVE
    account_type: str = "atlassian"

    @property
    def active(self) -> bool:
        return self.status is AccountStatus.ACTIVE

    @property
    def email_hidden(self) -> bool:
        return self.email_visibility is not EmailVisibility.SHOWN or self.status is AccountStatus.CLOSED

    @property
    def public_name(self) -> str:
        return "Former user" if self.status is AccountStatus.CLOSED else self.display_name


@dataclass(slots=True)
class Group:
    id: str
    name: str
    members: set[str] = field(default_factory=set)


def account_id_for(index: int, seed: int) -> str:
    """The generated account id of user ``index`` (equal seeds give equal ids, as one person on two sites)."""
    return f"5b10ac8d82e05b22cc7d{(index * 2654435761 + seed) & 0xFFFF:04x}"


def group_id_for(name: str, seed: int) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"fake-atlassian-group:{seed}:{name}"))


class Directory:
    """All users and groups of a site.  Not locked on its own: callers hold ``Site.lock`` for mutations."""

    def __init__(self, seed: int, users: int) -> None:
        self.seed = seed
        self.users: list[User] = []
        self._by_id: dict[str, User] = {}
        self.groups: dict[str, Group] = {}
        self.removed_groups: dict[str, Group] = {}
        self.add_group(ALL_USERS_GROUP)
        for _ in range(max(1, users)):
            self.add_user()

    # ----- queries ----------------------------------------------------------------------------
    def user(self, account_id: str) -> User | None:
        return self._by_id.get(account_id)

    def require_user(self, account_id: str) -> User:
        user = self._by_id.get(account_id)
        if user is None:
            raise PeopleError(f"no user {account_id}")
        return user

    def group(self, id_or_name: str) -> Group | None:
        found = self.groups.get(id_or_name)
        return found or next((g for g in self.groups.values() if g.name == id_or_name), None)

    def require_group(self, id_or_name: str) -> Group:
        group = self.group(id_or_name)
        if group is None:
            raise PeopleError(f"no group {id_or_name!r}")
        return group

    def known_group(self, group_id: str) -> Group | None:
        """A group by id, including deleted ones (read restrictions may still name them)."""
        return self.groups.get(group_id) or self.removed_groups.get(group_id)

    def groups_of(self, account_id: str) -> set[str]:
        """Ids of the groups the account belongs to."""
        return {g.id for g in self.groups.values() if account_id in g.members}

    @property
    def all_users_group(self) -> Group:
        return self.require_group(ALL_USERS_GROUP)

    # ----- mutations --------------------------------------------------------------------------
    def add_user(
        self,
        display_name: str | None = None,
        *,
        email: str | None = None,
        email_visibility: EmailVisibility = EmailVisibility.SHOWN,
        status: AccountStatus = AccountStatus.ACTIVE,
        account_id: str | None = None,
    ) -> User:
        index = len(self.users)
        name = display_name or USER_NAMES[index % len(USER_NAMES)] + ("" if index < len(USER_NAMES) else f" {index}")
        account = account_id or account_id_for(index, self.seed)
        if account in self._by_id:
            raise PeopleError(f"user {account} already exists")
        user = User(account, name, email or f"user{index}@acme.example", email_visibility, status)
        self.users.append(user)
        self._by_id[account] = user
        self.all_users_group.members.add(account)
        return user

    def add_group(self, name: str, members: Iterable[str | User] = ()) -> Group:
        if self.group(name) is not None:
            raise PeopleError(f"group {name!r} already exists")
        again = sum(1 for g in self.removed_groups.values() if g.name == name)  # a re-created group gets a new id
        group = Group(group_id_for(name + "#" * again, self.seed), name)
        self.groups[group.id] = group
        for member in members:
            self.add_member(group.id, member)
        return group

    def add_member(self, group: str, member: str | User) -> None:
        account = member.account_id if isinstance(member, User) else member
        self.require_user(account)
        self.require_group(group).members.add(account)

    def remove_member(self, group: str, member: str | User) -> None:
        account = member.account_id if isinstance(member, User) else member
        self.require_group(group).members.discard(account)

    def remove_group(self, group: str) -> Group:
        found = self.require_group(group)
        del self.groups[found.id]
        found.members.clear()
        self.removed_groups[found.id] = found
        return found

    def set_status(self, account_id: str, status: AccountStatus) -> User:
        user = self.require_user(account_id)
        user.status = status
        return user

    def hide_email(self, account_id: str, how: EmailVisibility = EmailVisibility.ABSENT) -> User:
        user = self.require_user(account_id)
        user.email_visibility = how
        return user
