"""From ACLs to the search filter (issue #12, design note §1.4), and storing documents' ACLs.

:func:`visibility_for` is the one place a datastore's access mode becomes a
:class:`~storage.visibility.Visibility`: "everyone" → ``everyone()``, "each" → only the ACL ids the person
satisfies, and nothing at all when they are not linked. Nothing in "each" mode can reach ``everyone()``.
Not reachable yet: every datastore is in "everyone" mode until the mode can be chosen (step 6).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime

from sqlalchemy.orm import Session

from bot.access.model import AccessMode, Acl, visible_acls
from storage.acl import assign_acls, ensure_acls, load_acls
from storage.visibility import Visibility

__all__ = ["store_document_acls", "stored_acls", "visibility_for", "visible_acl_ids"]


def visibility_for(mode: AccessMode | str, visible: frozenset[int] | None) -> Visibility:
    """The filter for a datastore in ``mode``: in "each" mode only the ACL ids in ``visible`` (None, for
    someone not linked, or empty: nothing). A mode this code does not know is refused, never widened."""
    chosen = AccessMode(mode)
    if chosen is AccessMode.EACH:
        return Visibility.acls(visible if visible is not None else frozenset())
    if chosen is AccessMode.EVERYONE:
        return Visibility.everyone()
    raise ValueError(f"unknown access mode {mode!r}")  # pragma: no cover - AccessMode() refuses first


def stored_acls(session: Session, *, datastore_id: int) -> dict[int, Acl]:
    """The datastore's stored ACLs (re-read through :meth:`Acl.of`: a key it does not know becomes unknown)."""
    return {acl_id: Acl.of(clauses) for acl_id, clauses in load_acls(session, datastore_id=datastore_id).items()}


def visible_acl_ids(session: Session, *, datastore_id: int, principals: Collection[str]) -> frozenset[int]:
    """The ids of the datastore's ACLs someone holding ``principals`` satisfies."""
    return visible_acls(stored_acls(session, datastore_id=datastore_id), principals)


def store_document_acls(
    session: Session, *, datastore_id: int, acls: Mapping[str, Acl | None], checked_at: datetime
) -> int:
    """Store each document's ACL (by ``source_id``; None: unknown, hidden) and return how many were updated."""
    known = {source_id: acl for source_id, acl in acls.items() if acl is not None}
    distinct = list(dict.fromkeys(known.values()))
    ids = dict(
        zip(distinct, ensure_acls(session, datastore_id=datastore_id, acls=[a.clauses for a in distinct]), strict=True)
    )
    assignments = {source_id: (ids[acl] if acl is not None else None) for source_id, acl in acls.items()}
    return assign_acls(session, datastore_id=datastore_id, assignments=assignments, checked_at=checked_at)
