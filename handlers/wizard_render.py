"""Pick the view for a wizard's current step."""

from __future__ import annotations

from typing import Any

from bot.atlassian.oauth import READ_SCOPES, SCOPE_DESCRIPTIONS
from bot.states import WizardPurpose
from bot.wizard.steps import Step, WizardSnapshot
from handlers.views.access_choice import confirm_access_view
from handlers.views.reconnect import reconnect_view, reconnected_view
from handlers.views.wizard import (
    connect_view,
    connection_setup_view,
    name_step_view,
    review_access_view,
    site_url_view,
)
from handlers.views.wizard_finish import grant_access_view, summary_view

__all__ = ["ACCESS_LINES", "render_step"]

ACCESS_LINES = tuple(SCOPE_DESCRIPTIONS[scope] for scope in READ_SCOPES)


def render_step(snapshot: WizardSnapshot, *, terms_url: str) -> dict[str, Any]:
    """The modal for ``snapshot.step``. For CONNECT, pass a snapshot with a fresh ``authorize_url``."""
    if snapshot.purpose == WizardPurpose.RECONNECT:
        return reconnected_view(snapshot) if snapshot.step == Step.RECONNECTED else reconnect_view(snapshot)
    match snapshot.step:
        case Step.NAME:
            return name_step_view(wizard_id=snapshot.id, name=snapshot.name or "")
        case Step.CONNECTION_SETUP:
            return connection_setup_view(snapshot)
        case Step.REVIEW_ACCESS:
            return review_access_view(snapshot, access_lines=ACCESS_LINES, terms_url=terms_url)
        case Step.SITE_URL:
            return site_url_view(snapshot)
        case Step.CONNECT:
            return connect_view(snapshot)
        case Step.GRANT_ACCESS:
            return grant_access_view(snapshot)
        case Step.CONFIRM_ACCESS:
            return confirm_access_view(snapshot)
        case Step.SUMMARY:
            return summary_view(snapshot)
        case Step.RECONNECTED:
            return reconnected_view(snapshot)
