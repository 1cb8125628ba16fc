"""Confluence's view rule as data (design note §1.1). Pure: no I/O, no database.

A person may view content C iff they hold *view space* on C's space **and** satisfy C's own read restriction
(if any) **and** the read restriction of **every** restricted ancestor. A restriction is satisfied by being one
of its users or a member of one of its groups. So an ACL is a conjunction of clauses, each clause a set of
principal keys of which any one is enough:

    acl(C) = {space clause} ∪ {own(C) if restricted} ∪ {own(A) : A a restricted ancestor of C}

Missing evidence never widens access: a principal we cannot read becomes :data:`UNKNOWN`, which nobody holds,
so a clause made only of it can never be satisfied (the document is hidden), and an empty space clause
(nobody may view the space, as far as we know) becomes ``{UNKNOWN}`` too.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from storage.access_modes import AccessMode  # one definition, shared with storage and the migrations

__all__ = [
    "ALL_LICENSED",
    "ANONYMOUS",
    "AUTHENTICATED",
    "MAX_PRINCIPAL_CHARS",
    "UNKNOWN",
    "AccessMode",
    "Acl",
    "Clause",
    "effective_acl",
    "group_key",
    "group_name_key",
    "is_principal_key",
    "person_principals",
    "user_key",
    "visible_acls",
]

#: One clause: the principal keys any one of which satisfies it.
Clause = frozenset[str]

UNKNOWN: Final = "x:unknown"
ANONYMOUS: Final = "c:anonymous-users"
AUTHENTICATED: Final = "c:authenticated-users"
ALL_LICENSED: Final = "c:all-licensed-users"
_CLASSES: Final = frozenset({ANONYMOUS, AUTHENTICATED, ALL_LICENSED})
#: The width of ``acl_clauses.principal``: a longer key cannot be stored, so it is treated as unknown.
MAX_PRINCIPAL_CHARS: Final = 160
# Account ids ("5b10ac8d82e05b22cc7d4ef5", "557058:f58131cb-…"), group ids (UUIDs) and group names: printable,
# no whitespace at either end, nothing that could be mistaken for a separator.
_IDENT = re.compile(r"[^\s\x00-\x1f\x7f](?:[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f])?")
_KEY = re.compile(r"(?:u|g|gn):(.+)", re.DOTALL)


def _key(prefix: str, ident: object) -> str:
    if not isinstance(ident, str) or not _IDENT.fullmatch(ident):
        return UNKNOWN
    key = f"{prefix}:{ident}"
    return key if len(key) <= MAX_PRINCIPAL_CHARS else UNKNOWN


def user_key(account_id: object) -> str:
    """``u:<accountId>``; :data:`UNKNOWN` for anything that is not a usable id."""
    return _key("u", account_id)


def group_key(group_id: object) -> str:
    """``g:<groupId>``; :data:`UNKNOWN` for anything that is not a usable id."""
    return _key("g", group_id)


def group_name_key(name: object) -> str:
    """``gn:<name>``, only for a group Confluence sent without an id."""
    return _key("gn", name)


def is_principal_key(key: object) -> bool:
    """A key this module could have made (:data:`UNKNOWN` included)."""
    if not isinstance(key, str) or len(key) > MAX_PRINCIPAL_CHARS:
        return False
    if key == UNKNOWN or key in _CLASSES:
        return True
    match = _KEY.fullmatch(key)
    return match is not None and _IDENT.fullmatch(match.group(1)) is not None


def _clause(principals: Iterable[str]) -> Clause:
    """Keys this module understands; anything else becomes UNKNOWN, and no key at all means nobody."""
    keys = frozenset(key if is_principal_key(key) else UNKNOWN for key in principals)
    return keys or frozenset({UNKNOWN})


def _minimal(clauses: Iterable[Clause]) -> frozenset[Clause]:
    """Drop every clause that is a strict superset of another: whoever satisfies the smaller one satisfies it."""
    unique = set(clauses)
    return frozenset(c for c in unique if not any(other < c for other in unique))


@dataclass(frozen=True, slots=True)
class Acl:
    """A conjunction of clauses in canonical form (no clause empty, none a superset of another), so two
    documents with the same rule have equal ACLs and share one stored row."""

    clauses: frozenset[Clause]

    def __post_init__(self) -> None:
        if not self.clauses or any(not clause for clause in self.clauses):
            raise ValueError("an ACL has at least one clause and no empty clause")

    @classmethod
    def of(cls, clauses: Iterable[Iterable[str]]) -> Acl:
        """The canonical ACL of these clauses (unknown keys become UNKNOWN; an empty clause means nobody)."""
        made = [_clause(clause) for clause in clauses]
        return cls(_minimal(made or [frozenset({UNKNOWN})]))

    def allows(self, principals: Collection[str]) -> bool:
        """Whether someone holding ``principals`` satisfies every clause. Nobody holds UNKNOWN."""
        held = frozenset(principals) - {UNKNOWN}
        return all(not clause.isdisjoint(held) for clause in self.clauses)


def effective_acl(
    space: Iterable[str] | None,
    own: Iterable[str] | None = None,
    ancestors: Iterable[Iterable[str] | None] = (),
) -> Acl:
    """The ACL of one document.

    * ``space``: who may view its space; ``None`` when that could not be read (→ nobody);
    * ``own``: its own read restriction; ``None`` or empty when it has none (→ no clause: an unrestricted
      page is not unreadable);
    * ``ancestors``: the read restriction of each ancestor, pages and folders, in any order; ``None`` or empty
      for an unrestricted one. An ancestor whose restriction could not be read must be passed as
      ``[UNKNOWN]``: it is never skipped.
    """
    clauses: list[Iterable[str]] = [() if space is None else tuple(space)]
    for restriction in (own, *ancestors):
        principals = () if restriction is None else tuple(restriction)
        if principals:
            clauses.append(principals)
    return Acl.of(clauses)


def person_principals(
    account_id: str, groups: Iterable[str] = (), classes: Iterable[str] = (), *, group_names: Iterable[str] = ()
) -> frozenset[str]:
    """The keys one person holds: their account, their groups (by id; by name only where Confluence gave no
    id) and the access classes they belong to. An unusable id adds nothing, and nobody holds UNKNOWN."""
    keys = {user_key(account_id), *(group_key(g) for g in groups), *(group_name_key(n) for n in group_names)}
    keys |= {c for c in classes if c in _CLASSES}
    return frozenset(keys - {UNKNOWN})


def visible_acls(acls: Mapping[int, Acl], principals: Collection[str]) -> frozenset[int]:
    """The ids of the ACLs someone holding ``principals`` satisfies (empty principals satisfy none)."""
    held = frozenset(principals) - {UNKNOWN}
    if not held:
        return frozenset()
    return frozenset(acl_id for acl_id, acl in acls.items() if acl.allows(held))
