"""Every row of every table, to prove a request changed nothing: ``assert snapshot(engine) == before``.

Bookkeeping tables that a refused request may still touch are named by the caller in ``ignore`` (for example
``home_viewers`` when the case opens App Home), never silently skipped here.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable

from sqlalchemy import Connection, Engine, MetaData, Table, inspect, select, text

__all__ = ["TableRows", "TableSnapshots", "changed_tables", "snapshot"]

TableRows = dict[str, list[tuple[object, ...]]]

#: Reflected tables per engine (reflection costs far more than reading the rows): a table is reflected again
#: only when the set of table names changes, so a test that alters a table's columns between two snapshots
#: must take them through a fresh engine.
_REFLECTED: weakref.WeakKeyDictionary[Engine, dict[str, Table]] = weakref.WeakKeyDictionary()


def _table(engine: Engine, connection: Connection, name: str, names: frozenset[str]) -> Table:
    cached = _REFLECTED.get(engine)
    if cached is None or set(cached) - names:
        cached = _REFLECTED[engine] = {}
    if name not in cached:
        cached[name] = Table(name, MetaData(), autoload_with=connection)
    return cached[name]


def _table_names(connection: Connection) -> frozenset[str]:
    """The tables of the connection's schema, from the catalog directly (SQLAlchemy's inspector takes several
    catalog queries for this, which made it most of a snapshot's time on PostgreSQL)."""
    if connection.dialect.name == "postgresql":
        found = connection.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"))
    elif connection.dialect.name == "sqlite":
        found = connection.execute(
            text("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'")
        )
    else:
        return frozenset(inspect(connection).get_table_names())
    return frozenset(str(row[0]) for row in found)


def snapshot(engine: Engine, *, ignore: Iterable[str] = ()) -> TableRows:
    """Each table's rows as sorted tuples of reprs (so any column type compares), minus ``ignore``."""
    skipped = set(ignore)
    rows: TableRows = {}
    with engine.connect() as connection:
        existing = _table_names(connection)
        if connection.dialect.name == "postgresql":
            return _postgresql_rows(connection, sorted(existing - skipped))
        for name in sorted(existing - skipped):
            table = _table(engine, connection, name, existing)
            rows[name] = sorted(tuple(repr(value) for value in row) for row in connection.execute(select(table)))
    return rows


def _postgresql_rows(connection: Connection, names: list[str]) -> TableRows:
    """Every table's rows in one round trip (each row as its JSON text), as one query per table costs a
    round trip each."""
    if not names:
        return {}
    parts = [
        f"SELECT {index} AS t, row_to_json(r)::text AS row FROM {connection.dialect.identifier_preparer.quote(name)} r"
        for index, name in enumerate(names)
    ]
    rows: TableRows = {name: [] for name in names}
    for index, row in connection.execute(text(" UNION ALL ".join(parts))):
        rows[names[index]].append((row,))
    return {name: sorted(found) for name, found in rows.items()}


class TableSnapshots:
    """``snapshot`` bound to one database and one ``ignore`` list, for a corpus of many cases."""

    def __init__(self, engine: Engine, *, ignore: Iterable[str] = ()) -> None:
        self._engine, self._ignore = engine, frozenset(ignore)

    def take(self) -> TableRows:
        return snapshot(self._engine, ignore=self._ignore)


def changed_tables(before: TableRows, after: TableRows) -> list[str]:
    """The tables whose rows differ between two snapshots (for a readable assertion message)."""
    return sorted(name for name in before.keys() | after.keys() if before.get(name) != after.get(name))
