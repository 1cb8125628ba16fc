"""DATABASE_URL as operators write it, checked and mapped to the URL SQLAlchemy is given.

Two backends are supported: SQLite (``sqlite:///path/to/file.db``) and PostgreSQL through psycopg 3. The
``postgres://`` and ``postgresql://`` spellings that hosting providers hand out get the psycopg 3 driver.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

__all__ = ["display_url", "normalize_database_url", "resolve_sqlite_path"]

_EXAMPLE = "use postgresql://user:password@host:5432/dbname or sqlite:///path/to/file.db, or leave it empty"
_POSTGRESQL = "postgresql+psycopg"
#: What operators write → what SQLAlchemy is given.
_SCHEMES = {
    "postgres": _POSTGRESQL,
    "postgresql": _POSTGRESQL,
    "postgresql+psycopg": _POSTGRESQL,
    "sqlite": "sqlite",
    "sqlite+pysqlite": "sqlite",
}


def _parse(value: str) -> URL:
    try:
        return make_url(value)
    except (ArgumentError, ValueError):
        raise ValueError(f"it is not a database URL ({_EXAMPLE} for the embedded SQLite file)") from None


def normalize_database_url(value: str) -> str:
    """The URL for SQLAlchemy; ValueError (a message for the operator) when it is not one the bot can use."""
    url = _parse(value.strip())
    driver = _SCHEMES.get(url.drivername)
    if driver is None:
        raise ValueError(f"{url.drivername}:// is not supported — {_EXAMPLE} for the embedded SQLite file")
    if url.get_backend_name() == "sqlite" and (not url.database or url.database == ":memory:"):
        raise ValueError(f"it names no database file — {_EXAMPLE}")
    if driver == _POSTGRESQL:
        if not url.database:
            raise ValueError(f"it names no database — {_EXAMPLE}")
        if url.password is not None and not url.username:
            raise ValueError(f"it has a password but no user name — {_EXAMPLE}")
    return url.set(drivername=driver).render_as_string(hide_password=False)


def resolve_sqlite_path(value: str, base: Path) -> str:
    """A SQLite URL whose relative file path is made absolute against ``base``; any other URL unchanged."""
    url = make_url(value)
    database = url.database
    if url.get_backend_name() != "sqlite" or not database or database == ":memory:" or database.startswith("file:"):
        return value
    path = Path(database).expanduser()
    if path.is_absolute():
        return value
    return url.set(database=str((base / path).resolve())).render_as_string(hide_password=False)


def display_url(value: str) -> str:
    """What the log may show: a SQLite file's absolute path, or the URL with its password masked."""
    url = make_url(value)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return str(Path(url.database).resolve())
    return url.render_as_string(hide_password=True)
