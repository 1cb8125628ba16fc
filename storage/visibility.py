"""Which documents a search may show (issue #12, design note §1.4): the filter :func:`storage.search.search`
requires.

There is no default and no implicit "everyone": a :class:`Visibility` is made only by
:meth:`Visibility.everyone` (every document of the datastore, the connecting account's view: "everyone" mode,
operators) or :meth:`Visibility.acls` (only documents whose ``acl_id`` is in the set; a document with no known
ACL is never in it). ``Visibility()`` itself refuses, so no code path can end up unfiltered by leaving
something out.
"""

from __future__ import annotations

from typing import Final, final

__all__ = ["Visibility"]

_TOKEN: Final = object()


@final
class Visibility:
    """Every document (:meth:`everyone`) or the documents whose ACL id is in a set (:meth:`acls`)."""

    __slots__ = ("_acl_ids",)
    _acl_ids: frozenset[int] | None

    def __init__(self, token: object, acl_ids: frozenset[int] | None) -> None:
        if token is not _TOKEN:
            raise TypeError("make a Visibility with Visibility.everyone() or Visibility.acls(frozenset_of_ids)")
        self._acl_ids = acl_ids

    @classmethod
    def everyone(cls) -> Visibility:
        """No filter: every document of the datastore (what the connecting account can see)."""
        return cls(_TOKEN, None)

    @classmethod
    def acls(cls, acl_ids: frozenset[int]) -> Visibility:
        """Only documents whose ACL is one of ``acl_ids`` (an empty set shows nothing)."""
        if not isinstance(acl_ids, frozenset):
            raise TypeError(f"Visibility.acls takes a frozenset of ACL ids, not {type(acl_ids).__name__}")
        if any(type(acl_id) is not int for acl_id in acl_ids):
            raise TypeError("Visibility.acls takes ACL ids (int)")
        return cls(_TOKEN, acl_ids)

    @property
    def is_everyone(self) -> bool:
        return self._acl_ids is None

    @property
    def acl_ids(self) -> frozenset[int]:
        """The ACL ids shown; refused for :meth:`everyone`, which has none to list."""
        if self._acl_ids is None:
            raise ValueError("Visibility.everyone() is not a set of ACL ids")
        return self._acl_ids

    @property
    def shows_nothing(self) -> bool:
        return self._acl_ids is not None and not self._acl_ids

    def allows(self, acl_id: int | None) -> bool:
        """Whether a document with this ACL id (None: unknown) may be shown."""
        return self._acl_ids is None or (acl_id is not None and acl_id in self._acl_ids)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Visibility) and other._acl_ids == self._acl_ids

    def __hash__(self) -> int:
        return hash(("Visibility", self._acl_ids))

    def __repr__(self) -> str:
        return "Visibility.everyone()" if self._acl_ids is None else f"Visibility.acls({len(self._acl_ids)} ids)"
