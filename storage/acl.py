"""Stored ACLs (issue #12, design note §2): each datastore's distinct ACLs, their clauses, and which ACL each
document has.

An ACL is stored once per datastore however many documents share it (``acls.digest`` is the SHA-256 of its
canonical clauses), as one ``acl_clauses`` row per principal of each clause. ``documents.acl_id`` NULL means the
document's ACL is unknown, so per-person search hides it. Stored ACLs never change: a document whose rule
changed gets another ACL id. So which ACL ids a person satisfies depends only on the datastore's set of ACLs
and the person's principals, and :func:`acl_generation` (bumped whenever that set changes) is the datastore's
half of the cache key of that answer; assigning ACLs to documents does not bump it.

Nothing here knows what a principal means (that is ``bot.access.model``): keys are opaque strings. Functions
never commit.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Table, UniqueConstraint, delete, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage.db import upsert_into
from storage.documents import Document
from storage.models import Base

__all__ = [
    "MAX_PRINCIPAL_CHARS",
    "Acl",
    "AclClause",
    "AclGeneration",
    "acl_digest",
    "acl_generation",
    "assign_acls",
    "count_unknown_acl",
    "ensure_acls",
    "load_acls",
    "prune_unused_acls",
]

MAX_PRINCIPAL_CHARS = 160
_BATCH = 500

#: An ACL as storage sees it: a conjunction of non-empty clauses, each a set of opaque principal keys.
StoredAcl = Collection[Collection[str]]


class Acl(Base):
    """One distinct ACL of a datastore."""

    __tablename__ = "acls"
    __table_args__ = (UniqueConstraint("datastore_id", "digest", name="uq_acls_datastore_digest"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    datastore_id: Mapped[int] = mapped_column(ForeignKey("datastores.id", ondelete="CASCADE"))
    digest: Mapped[str] = mapped_column(String(64))  # sha256 hex of the canonical clauses (acl_digest)


class AclClause(Base):
    """One principal of one clause of an ACL (``clause`` is the clause's own digest)."""

    __tablename__ = "acl_clauses"

    acl_id: Mapped[int] = mapped_column(ForeignKey("acls.id", ondelete="CASCADE"), primary_key=True)
    clause: Mapped[str] = mapped_column(String(64), primary_key=True)
    principal: Mapped[str] = mapped_column(String(MAX_PRINCIPAL_CHARS), primary_key=True)


class AclGeneration(Base):
    """Bumped whenever a datastore's set of ACLs changes (a cache key for visible ACL ids)."""

    __tablename__ = "acl_generations"

    datastore_id: Mapped[int] = mapped_column(ForeignKey("datastores.id", ondelete="CASCADE"), primary_key=True)
    generation: Mapped[int] = mapped_column(default=0)


_ACLS: Table = Acl.__table__  # type: ignore[assignment]
_CLAUSES: Table = AclClause.__table__  # type: ignore[assignment]
_GENERATIONS: Table = AclGeneration.__table__  # type: ignore[assignment]
_DOCUMENTS: Table = Document.__table__  # type: ignore[assignment]


def _canonical(acl: StoredAcl) -> list[list[str]]:
    if isinstance(acl, str) or not acl:
        raise ValueError("an ACL has at least one clause")
    clauses = []
    for clause in acl:
        if isinstance(clause, str) or not clause:
            raise ValueError("an ACL clause is a non-empty set of principal keys")
        keys = sorted(set(clause))
        if any(not isinstance(key, str) or not key or len(key) > MAX_PRINCIPAL_CHARS for key in keys):
            raise ValueError(f"a principal key is a string of 1 to {MAX_PRINCIPAL_CHARS} characters")
        clauses.append(keys)
    return sorted({json.dumps(keys): keys for keys in clauses}.values())


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()).hexdigest()


def acl_digest(acl: StoredAcl) -> str:
    """The content digest two equal ACLs share (order and repetition of clauses and keys do not matter)."""
    return _digest(_canonical(acl))


def acl_generation(session: Session, *, datastore_id: int) -> int:
    """The datastore's ACL generation: 0 until it has stored an ACL."""
    value = session.scalar(select(_GENERATIONS.c.generation).where(_GENERATIONS.c.datastore_id == datastore_id))
    return int(value or 0)


def _bump_generation(session: Session, datastore_id: int) -> None:
    insert = upsert_into(session, _GENERATIONS).values(datastore_id=datastore_id, generation=1)
    session.execute(
        insert.on_conflict_do_update(
            index_elements=["datastore_id"], set_={"generation": _GENERATIONS.c.generation + 1}
        )
    )


def _ids_by_digest(session: Session, datastore_id: int, digests: Sequence[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for start in range(0, len(digests), _BATCH):
        rows = session.execute(
            select(_ACLS.c.digest, _ACLS.c.id).where(
                _ACLS.c.datastore_id == datastore_id, _ACLS.c.digest.in_(digests[start : start + _BATCH])
            )
        )
        found.update({digest: int(acl_id) for digest, acl_id in rows})
    return found


def ensure_acls(session: Session, *, datastore_id: int, acls: Iterable[StoredAcl]) -> list[int]:
    """The id of each ACL (in order), storing those the datastore does not have yet. Safe against another
    process storing the same ACL at once: the unique digest decides, and the loser reads the winner's id."""
    canonical = [_canonical(acl) for acl in acls]
    digests = [_digest(clauses) for clauses in canonical]
    wanted = dict(zip(digests, canonical, strict=True))
    known = _ids_by_digest(session, datastore_id, list(wanted))
    missing = [digest for digest in wanted if digest not in known]
    if missing:
        insert = upsert_into(session, _ACLS).on_conflict_do_nothing(index_elements=["datastore_id", "digest"])
        created: dict[str, int] = {}
        for start in range(0, len(missing), _BATCH):
            rows = [{"datastore_id": datastore_id, "digest": d} for d in missing[start : start + _BATCH]]
            result = session.execute(insert.returning(_ACLS.c.digest, _ACLS.c.id), rows)
            created.update({digest: int(acl_id) for digest, acl_id in result})
        clause_rows = [
            {"acl_id": acl_id, "clause": _digest(keys), "principal": key}
            for digest, acl_id in created.items()
            for keys in wanted[digest]
            for key in keys
        ]
        for start in range(0, len(clause_rows), _BATCH):
            session.execute(_CLAUSES.insert(), clause_rows[start : start + _BATCH])
        if created:
            _bump_generation(session, datastore_id)
        known.update(created)
        known.update(_ids_by_digest(session, datastore_id, [d for d in missing if d not in known]))
    return [known[digest] for digest in digests]


def load_acls(session: Session, *, datastore_id: int) -> dict[int, frozenset[frozenset[str]]]:
    """Every stored ACL of the datastore as clauses of principal keys."""
    rows = session.execute(
        select(_CLAUSES.c.acl_id, _CLAUSES.c.clause, _CLAUSES.c.principal)
        .join(_ACLS, _ACLS.c.id == _CLAUSES.c.acl_id)
        .where(_ACLS.c.datastore_id == datastore_id)
    )
    clauses: dict[int, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for acl_id, clause, principal in rows:
        clauses[int(acl_id)][clause].add(principal)
    return {acl_id: frozenset(frozenset(keys) for keys in by.values()) for acl_id, by in clauses.items()}


def assign_acls(
    session: Session, *, datastore_id: int, assignments: Mapping[str, int | None], checked_at: datetime
) -> int:
    """Give each document (by ``source_id``) its ACL id, or None for unknown; one UPDATE per ACL. Returns the
    number of documents updated. An ACL id of another datastore (or none at all) is refused."""
    by_acl: dict[int | None, list[str]] = defaultdict(list)
    for source_id, acl_id in assignments.items():
        by_acl[acl_id].append(source_id)
    ids = [acl_id for acl_id in by_acl if acl_id is not None]
    if ids:
        owned = set(
            session.scalars(select(_ACLS.c.id).where(_ACLS.c.datastore_id == datastore_id, _ACLS.c.id.in_(ids)))
        )
        if stray := sorted(set(ids) - owned):
            raise ValueError(f"ACL ids {stray} are not ACLs of datastore {datastore_id}")
    updated = 0
    for acl_id, source_ids in by_acl.items():
        for start in range(0, len(source_ids), _BATCH):
            result = session.execute(
                update(_DOCUMENTS)
                .where(
                    _DOCUMENTS.c.datastore_id == datastore_id,
                    _DOCUMENTS.c.source_id.in_(source_ids[start : start + _BATCH]),
                )
                .values(acl_id=acl_id, acl_checked_at=checked_at)
            )
            updated += int(getattr(result, "rowcount", 0) or 0)
    return updated


def prune_unused_acls(session: Session, *, datastore_id: int) -> int:
    """Delete the datastore's ACLs no document has any more (bumping the generation when any went)."""
    used = select(_DOCUMENTS.c.acl_id).where(
        _DOCUMENTS.c.datastore_id == datastore_id, _DOCUMENTS.c.acl_id.is_not(None)
    )
    unused = select(_ACLS.c.id).where(_ACLS.c.datastore_id == datastore_id, _ACLS.c.id.not_in(used))
    doomed = list(session.scalars(unused))
    for start in range(0, len(doomed), _BATCH):
        batch = doomed[start : start + _BATCH]
        session.execute(delete(_CLAUSES).where(_CLAUSES.c.acl_id.in_(batch)))
        session.execute(delete(_ACLS).where(_ACLS.c.id.in_(batch)))
    if doomed:
        _bump_generation(session, datastore_id)
    return len(doomed)


def count_unknown_acl(session: Session, *, datastore_id: int) -> int:
    """How many of the datastore's documents have no known ACL (hidden in per-person mode)."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(_DOCUMENTS)
            .where(_DOCUMENTS.c.datastore_id == datastore_id, _DOCUMENTS.c.acl_id.is_(None))
        )
        or 0
    )
