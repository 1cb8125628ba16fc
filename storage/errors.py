"""The root of the bot's error tree and the one error storage raises (the tree is drawn in ``bot/errors.py``).

They live here because ``storage`` imports nothing from ``bot``; ``bot.errors`` re-exports both, so code above
storage names them from there as before.
"""

from __future__ import annotations

__all__ = ["BotError", "StorageError"]


class BotError(Exception):
    """Base class of the bot's own errors."""


class StorageError(BotError):
    """The database could not be reached or brought up to date."""
