"""Everything that speaks Slack: listeners wired by ``register(app, services)`` and pure Block Kit views."""

from __future__ import annotations

from collections.abc import Callable

from slack_bolt import App
from slack_sdk import WebClient

from bot.services import Services
from bot.web import OAuthCallback
from handlers import commands, errors, home, wizard_actions, wizard_submissions
from handlers.oauth_callback import build_oauth_callback
from handlers.wizard_open import WizardDeps

__all__ = ["register"]


def register(app: App, services: Services, client_for_team: Callable[[str], WebClient]) -> OAuthCallback:
    """Wire every listener; returns the OAuth callback the HTTP server serves.

    ``client_for_team`` gives a Web API client for a workspace outside a Slack request (the callback).
    """
    wizard = WizardDeps.build(services)
    errors.register(app)
    commands.register(app, wizard)
    home.register(app, wizard)
    wizard_submissions.register(app, wizard)
    wizard_actions.register(app, wizard)
    return build_oauth_callback(client_for_team, wizard)
