"""Everything that speaks Slack: listeners wired by ``register(app, services)`` and pure Block Kit views."""

from __future__ import annotations

from slack_bolt import App

from bot.services import Services
from handlers import commands, errors, home

__all__ = ["register"]


def register(app: App, services: Services) -> None:
    errors.register(app)
    commands.register(app, services)
    home.register(app, services)
