"""Which ACL ids a person satisfies, cached per process (design note §3).

Key: ``(datastore_id, acl_generation, principals)``. Stored ACLs never change (a changed rule is a new ACL),
so the answer depends only on the datastore's set of ACLs — whose generation
:func:`storage.acl.acl_generation` bumps whenever it changes — and on the person's principals, which are part of
the key themselves (a person whose groups changed gets a new entry). The short TTL only bounds memory and any
clock-free surprise; correctness comes from the key. Thread-safe (Slack listeners run in a pool).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from sqlalchemy.orm import Session

from bot.access.filter import visible_acl_ids
from storage.acl import acl_generation

__all__ = ["DEFAULT_ENTRIES", "DEFAULT_TTL_SECONDS", "VisibleAclCache"]

DEFAULT_TTL_SECONDS = 60.0
DEFAULT_ENTRIES = 1024

_Key = tuple[int, int, frozenset[str]]


class VisibleAclCache:
    """An LRU of visible ACL id sets with a TTL; :meth:`visible` reads the generation and computes on a miss."""

    def __init__(
        self,
        *,
        ttl_seconds: float = DEFAULT_TTL_SECONDS,
        entries: int = DEFAULT_ENTRIES,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl_seconds
        self._entries = max(1, entries)
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._store: OrderedDict[_Key, tuple[float, frozenset[int]]] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def visible(self, session: Session, *, datastore_id: int, principals: frozenset[str]) -> frozenset[int]:
        """The ids of the datastore's ACLs someone holding ``principals`` satisfies, as of this session."""
        key = (datastore_id, acl_generation(session, datastore_id=datastore_id), principals)
        now = self._monotonic()
        with self._lock:
            found = self._store.get(key)
            if found is not None and now - found[0] < self._ttl:
                self._store.move_to_end(key)
                self.hits += 1
                return found[1]
        ids = visible_acl_ids(session, datastore_id=datastore_id, principals=principals)
        with self._lock:
            self.misses += 1
            self._store[key] = (now, ids)
            self._store.move_to_end(key)
            while len(self._store) > self._entries:
                self._store.popitem(last=False)
        return ids

    def clear(self) -> None:
        with self._lock:
            self._store.clear()
