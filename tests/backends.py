"""Which backends a test runs on, and which of a generated list's cases run on PostgreSQL.

Every database test runs on SQLite and on PostgreSQL (tests/conftest.py ``database_url`` and ``corpus``, both
parametrized with :data:`BACKENDS`). Its PostgreSQL cases carry the ``postgres`` marker: ``-m "not postgres"``
leaves out exactly those, and where TEST_DATABASE_URL is not set they are deselected (:func:`without_postgres`,
run by tests/conftest.py) rather than skipped, so a fresh clone runs every test it collects.

Slow end-to-end matrices (a `serve` process per case) and long generated lists whose cases differ in what they
feed the bot, not in what they ask of the database, run every case on SQLite and a fixed, spread-out sample on
PostgreSQL:

* a parametrized test marked ``@pytest.mark.postgresql_sample(every=n)`` keeps, of its PostgreSQL cases, the
  first and then every n-th in collection order (:func:`keep_postgresql_sample`, run by tests/conftest.py);
* a test that loops over generated cases itself passes them through :func:`sampled` with its engine.

The sample is chosen here and nowhere else, so it is the same on every run, every machine and every
pytest-xdist worker.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from typing import Any, TypeVar

import pytest
from sqlalchemy import Engine

__all__ = ["BACKENDS", "keep_postgresql_sample", "postgres_base_url", "sampled", "without_postgres"]

T = TypeVar("T")
MARKER = "postgresql_sample"
POSTGRES = "postgres"

#: The params of a fixture that yields a database on each backend: its PostgreSQL cases are marked ``postgres``.
BACKENDS: list[Any] = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def postgres_base_url() -> str:
    """TEST_DATABASE_URL; a ``postgres`` test only runs where it is set (:func:`without_postgres`)."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        raise pytest.UsageError("a postgres test was collected without TEST_DATABASE_URL")
    return url


def without_postgres(items: list[pytest.Item]) -> tuple[list[pytest.Item], list[pytest.Item]]:
    """(kept, left out): without TEST_DATABASE_URL the ``postgres`` tests are left out (deselected, not skipped)."""
    if os.environ.get("TEST_DATABASE_URL"):
        return items, []
    kept = [item for item in items if item.get_closest_marker(POSTGRES) is None]
    return kept, [item for item in items if item.get_closest_marker(POSTGRES) is not None]


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
        # per="module": the sample is taken across the module's tests (for heavy end-to-end modules whose
        # tests run once per backend); by default across one test's parameters.
        key = item.nodeid.partition("::")[0] if marker.kwargs.get("per") == "module" else item.nodeid.partition("[")[0]
        index = seen[key]
        seen[key] += 1
        (kept if index % every == 0 else left_out).append(item)
    return kept, left_out


def sampled(cases: Sequence[T], engine: Engine, *, every: int) -> list[T]:
    """All of ``cases`` on SQLite; on PostgreSQL (``engine``'s dialect) the first and then every ``every``-th."""
    return list(cases[::every]) if engine.dialect.name == "postgresql" else list(cases)
