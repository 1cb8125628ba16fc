"""The demo's one error: a step that did not happen as it should (the bot's own errors are in bot/errors.py)."""

from __future__ import annotations

__all__ = ["DemoError"]


class DemoError(Exception):
    """A step of the demo did not happen as it should; its message is the one line the demo prints."""
