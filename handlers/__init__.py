"""Everything that speaks Slack: listeners wired by ``register(app, services)`` and pure Block Kit views."""

from __future__ import annotations

from slack_bolt import App

from bot.services import Services
from bot.web import OAuthCallback
from handlers import commands, errors, home, wizard_actions, wizard_submissions
from handlers.oauth_callback import build_oauth_callback
from handlers.wizard_open import WizardDeps

__all__ = ["register"]


def register(app: App, services: Services) -> OAuthCallback:
    """Wire every listener; returns the OAuth callback the HTTP server serves."""
    wizard = WizardDeps.build(services)
    errors.register(app)
    commands.register(app, wizard)
    home.register(app, wizard)
    wizard_submissions.register(app, wizard)
    wizard_actions.register(app, wizard)
    return build_oauth_callback(app.client, wizard)
