"""App Home: publish the home tab when it is opened, and its "Create datastore" button."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from handlers.ids import ActionId
from handlers.views.home import home_view
from handlers.wizard_open import WizardDeps

__all__ = ["register"]


class HomeHandlers:
    def __init__(self, wizard: WizardDeps) -> None:
        self._wizard = wizard

    def home_opened(self, event: dict[str, Any], client: WebClient) -> None:
        if event.get("tab", "home") != "home":
            return
        client.views_publish(user_id=event["user"], view=home_view(datastore_count=0))

    def create_clicked(self, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        self._wizard.open_new(
            client,
            trigger_id=body["trigger_id"],
            team_id=body["user"]["team_id"],
            user_id=body["user"]["id"],
            channel_id=None,
        )


def register(app: App, wizard: WizardDeps) -> None:
    handlers = HomeHandlers(wizard)
    app.event("app_home_opened")(handlers.home_opened)
    app.action(ActionId.HOME_CREATE)(handlers.create_clicked)
