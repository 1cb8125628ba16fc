"""The bot's clock: timezone-aware UTC now (the default of every injectable ``clock``), for code above storage."""

from __future__ import annotations

from storage.models import utcnow

__all__ = ["utcnow"]
