"""Every row of every table, to prove a request changed nothing: ``assert snapshot(engine) == before``.

Bookkeeping tables that a refused request may still touch are named by the caller in ``ignore`` (for example
``home_viewers`` when the case opens App Home), never silently skipped here.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Engine, MetaData, Table, inspect, select

__all__ = ["TableRows", "TableSnapshots", "changed_tables", "snapshot"]

TableRows = dict[str, list[tuple[object, ...]]]


def snapshot(engine: Engine, *, ignore: Iterable[str] = ()) -> TableRows:
    """Each table's rows as sorted tuples of reprs (so any column type compares), minus ``ignore``."""
    return TableSnapshots(engine, ignore=ignore).take()


class TableSnapshots:
    """``snapshot`` for many cases against one database: its tables are reflected once, here, and each
    ``take()`` reads their rows (and the list of table names, so a table created or dropped later shows)."""

    def __init__(self, engine: Engine, *, ignore: Iterable[str] = ()) -> None:
        skipped = set(ignore)
        names = [name for name in inspect(engine).get_table_names() if name not in skipped]
        metadata = MetaData()
        with engine.connect() as connection:
            self._tables = [Table(name, metadata, autoload_with=connection) for name in sorted(names)]
        self._engine, self._skipped = engine, skipped

    def take(self) -> TableRows:
        names = sorted(name for name in inspect(self._engine).get_table_names() if name not in self._skipped)
        rows: TableRows = {"(tables)": [tuple(names)]}
        with self._engine.connect() as connection:
            for table in self._tables:
                found = connection.execute(select(table))
                rows[table.name] = sorted(tuple(repr(value) for value in row) for row in found)
        return rows


def changed_tables(before: TableRows, after: TableRows) -> list[str]:
    """The tables whose rows differ between two snapshots (for a readable assertion message)."""
    return sorted(name for name in before.keys() | after.keys() if before.get(name) != after.get(name))
