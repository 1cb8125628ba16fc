"""App Home: publish the home tab (every datastore) when it is opened, and its "Create datastore" button."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.datastores.queries import Queries
from handlers.ids import ActionId
from handlers.views.home import home_view
from handlers.wizard_open import WizardDeps

__all__ = ["register"]


class HomeHandlers:
    def __init__(self, wizard: WizardDeps, queries: Queries) -> None:
        self._wizard, self._queries = wizard, queries

    def home_opened(self, event: dict[str, Any], body: dict[str, Any], client: WebClient) -> None:
        if event.get("tab", "home") != "home":
            return
        team_id = body.get("team_id") or event.get("view", {}).get("team_id", "")
        client.views_publish(user_id=event["user"], view=home_view(self._queries.list(team_id)))

    def create_clicked(self, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        self._wizard.open_new(
            client,
            trigger_id=body["trigger_id"],
            team_id=body["user"]["team_id"],
            user_id=body["user"]["id"],
            channel_id=None,
        )


def register(app: App, wizard: WizardDeps, queries: Queries) -> None:
    handlers = HomeHandlers(wizard, queries)
    app.event("app_home_opened")(handlers.home_opened)
    app.action(ActionId.HOME_CREATE)(handlers.create_clicked)
