"""CQL text built from untrusted values: every string is quoted and escaped, never pasted in."""

from __future__ import annotations

__all__ = ["cql_string"]


def cql_string(value: str) -> str:
    """``value`` as a CQL string literal (a space key or name from Confluence, which may hold quotes)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
