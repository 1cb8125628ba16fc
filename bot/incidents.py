"""Error ids: the short id an unexpected failure is logged with (with its traceback) and shown to people, so
what a user or the thread reports can be found in the log."""

from __future__ import annotations

import uuid

__all__ = ["new_error_id"]


def new_error_id() -> str:
    return uuid.uuid4().hex[:8]
