"""Which backends a generated case runs on, when running every case on both would cost more than it tells.

Every database test runs on SQLite and, where TEST_DATABASE_URL is set, on PostgreSQL (tests/conftest.py
``database_url`` and ``corpus``). Slow end-to-end matrices (a `serve` process per case) and long generated
lists whose cases differ in what they feed the bot, not in what they ask of the database, run every case on
SQLite and a fixed, spread-out sample on PostgreSQL:

* a parametrized test marked ``@pytest.mark.postgresql_sample(every=n)`` keeps, of its PostgreSQL cases, the
  first and then every n-th in collection order (:func:`keep_postgresql_sample`, run by tests/conftest.py);
* a test that loops over generated cases itself passes them through :func:`sampled` with its engine.

The sample is chosen here and nowhere else, so it is the same on every run, every machine and every
pytest-xdist worker.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import TypeVar

import pytest
from sqlalchemy import Engine

__all__ = ["keep_postgresql_sample", "sampled"]

T = TypeVar("T")
MARKER = "postgresql_sample"


def _backend(item: pytest.Item) -> str | None:
    params = getattr(getattr(item, "callspec", None), "params", {})
    backend = params.get("database_url", params.get("corpus"))
    return backend if isinstance(backend, str) else None


def keep_postgresql_sample(items: list[pytest.Item]) -> tuple[list[pytest.Item], list[pytest.Item]]:
    """(kept, left out): the PostgreSQL cases of marked tests beyond their sample are left out."""
    seen: Counter[str] = Counter()
    kept: list[pytest.Item] = []
    left_out: list[pytest.Item] = []
    for item in items:
        marker = item.get_closest_marker(MARKER)
        if marker is None or _backend(item) != "postgresql":
            kept.append(item)
            continue
        every = int(marker.kwargs["every"])
        function = item.nodeid.partition("[")[0]
        index = seen[function]
        seen[function] += 1
        (kept if index % every == 0 else left_out).append(item)
    return kept, left_out


def sampled(cases: Sequence[T], engine: Engine, *, every: int) -> list[T]:
    """All of ``cases`` on SQLite; on PostgreSQL (``engine``'s dialect) the first and then every ``every``-th."""
    return list(cases[::every]) if engine.dialect.name == "postgresql" else list(cases)
