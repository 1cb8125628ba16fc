"""Every row of every table, to prove a request changed nothing: ``assert snapshot(engine) == before``.

Bookkeeping tables that a refused request may still touch are named by the caller in ``ignore`` (for example
``home_viewers`` when the case opens App Home), never silently skipped here.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Engine, MetaData, Table, inspect, select

__all__ = ["TableRows", "changed_tables", "snapshot"]

TableRows = dict[str, list[tuple[object, ...]]]


def snapshot(engine: Engine, *, ignore: Iterable[str] = ()) -> TableRows:
    """Each table's rows as sorted tuples of reprs (so any column type compares), minus ``ignore``."""
    skipped = set(ignore)
    names = [name for name in inspect(engine).get_table_names() if name not in skipped]
    metadata = MetaData()
    rows: TableRows = {}
    with engine.connect() as connection:
        for name in sorted(names):
            table = Table(name, metadata, autoload_with=connection)
            rows[name] = sorted(tuple(repr(value) for value in row) for row in connection.execute(select(table)))
    return rows


def changed_tables(before: TableRows, after: TableRows) -> list[str]:
    """The tables whose rows differ between two snapshots (for a readable assertion message)."""
    return sorted(name for name in before.keys() | after.keys() if before.get(name) != after.get(name))
