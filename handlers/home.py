"""App Home: publish the home tab when it is opened, and its "Create datastore" button."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.services import Services
from handlers.ids import ActionId
from handlers.views.home import home_view
from handlers.views.wizard import name_step_view

__all__ = ["register"]


class HomeHandlers:
    def __init__(self, services: Services) -> None:
        self._services = services

    def home_opened(self, event: dict[str, Any], client: WebClient) -> None:
        if event.get("tab", "home") != "home":
            return
        client.views_publish(user_id=event["user"], view=home_view(datastore_count=0))

    def create_clicked(self, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        metadata = json.dumps({"channel_id": ""}, separators=(",", ":"))
        client.views_open(trigger_id=body["trigger_id"], view=name_step_view(private_metadata=metadata))


def register(app: App, services: Services) -> None:
    handlers = HomeHandlers(services)
    app.event("app_home_opened")(handlers.home_opened)
    app.action(ActionId.HOME_CREATE)(handlers.create_clicked)
