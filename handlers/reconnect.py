"""Reconnect Confluence: the button in a paused thread and `/datastore reconnect NAME` open the consent modal."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.datastores.queries import Queries
from bot.errors import UserFacingError
from bot.wizard.inputs import InvalidInput
from handlers.ids import SLASH_COMMAND, ActionId
from handlers.lookup import find_datastore
from handlers.payloads import action_value, datastore_id, team_id_of
from handlers.permissions import Permissions
from handlers.views.wizard_finish import ended_view
from handlers.wizard_open import WizardDeps
from storage.models import Datastore

__all__ = ["Reconnect", "register"]

logger = logging.getLogger(__name__)


class Reconnect:
    def __init__(self, deps: WizardDeps, queries: Queries, permissions: Permissions) -> None:
        self.deps, self.queries, self.permissions = deps, queries, permissions

    def open_for(self, client: WebClient, *, trigger_id: str, team_id: str, user_id: str, datastore_id: int) -> None:
        with self.deps.services.sessions() as session:
            datastore = session.get(Datastore, datastore_id)
            if datastore is None or datastore.team_id != team_id:
                raise UserFacingError("That datastore no longer exists.")
            session.expunge(datastore)
        if not self.permissions.may_manage(client, user_id=user_id, creator_id=datastore.created_by):
            refused = self.permissions.refusal(creator_id=datastore.created_by, name=datastore.name, action="reconnect")
            raise UserFacingError(refused)
        try:
            snapshot = self.deps.finish.start_reconnect(team_id=team_id, user_id=user_id, datastore_id=datastore_id)
        except InvalidInput as exc:
            client.views_open(trigger_id=trigger_id, view=ended_view(exc.message))
            return
        opened = client.views_open(trigger_id=trigger_id, view=self.deps.render(snapshot))
        self.deps.wizards.attach_view(snapshot.id, opened["view"]["id"])

    def clicked(self, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        chosen = datastore_id(action_value(body))
        if chosen is None:
            logger.info("Reconnect: ignored a button value the bot does not write")
            return
        self.open_for(
            client,
            trigger_id=body["trigger_id"],
            team_id=team_id_of(body),
            user_id=body["user"]["id"],
            datastore_id=chosen,
        )

    def command(self, args: list[str], ack: Ack, command: dict[str, Any], client: WebClient, _respond: Any) -> None:
        if len(args) != 1:
            ack(
                response_type="ephemeral",
                text=f'Say which datastore: `{SLASH_COMMAND} reconnect NAME` (quote names with spaces: "Eng Wiki").',
            )
            return
        ack()
        datastore_id = find_datastore(self.queries, command["team_id"], args[0]).id
        self.open_for(
            client,
            trigger_id=command["trigger_id"],
            team_id=command["team_id"],
            user_id=command["user_id"],
            datastore_id=datastore_id,
        )


def register(app: App, reconnect: Reconnect) -> None:
    app.action(ActionId.RECONNECT)(reconnect.clicked)
