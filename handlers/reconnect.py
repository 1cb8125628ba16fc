"""Reconnect Confluence: the button in a paused thread and `/datastore reconnect NAME` open the consent modal.

A datastore is reconnected only from its own workspace (team + organisation, ``bot.datastores.homes``): the
same user id elsewhere — even its creator's — finds nothing, is told so in the command's answer (or, for a
button, only acked) and changes nothing. The modal's wizard, and the consent link it carries, are bound to
the person who opened it.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.actors import Actor
from bot.datastores.homes import HomeDatastore, datastore_exists, find_home_datastore
from bot.datastores.queries import Queries
from bot.errors import UserFacingError
from bot.wizard.inputs import InvalidInput
from handlers.actors import actor_of
from handlers.ids import SLASH_COMMAND, ActionId
from handlers.lookup import find_datastore
from handlers.payloads import action_value, datastore_id
from handlers.permissions import Permissions
from handlers.views.wizard_finish import ended_view
from handlers.wizard_open import WizardDeps

__all__ = ["Reconnect", "register"]

logger = logging.getLogger(__name__)


class Reconnect:
    def __init__(self, deps: WizardDeps, queries: Queries, permissions: Permissions) -> None:
        self.deps, self.queries, self.permissions = deps, queries, permissions

    def _home(self, actor: Actor, datastore_id: int) -> HomeDatastore | None:
        return find_home_datastore(self.deps.services, datastore_id=datastore_id, actor=actor)

    def open_for(self, client: WebClient, *, trigger_id: str, actor: Actor, datastore: HomeDatastore) -> None:
        """Open the consent modal for ``datastore`` (one of the actor's workspace) if the actor may."""
        allowed = self.permissions.may_manage(
            client, team_id=actor.team_id, user_id=actor.user_id, creator_id=datastore.created_by
        )
        if not allowed:
            refused = self.permissions.refusal(creator_id=datastore.created_by, name=datastore.name, action="reconnect")
            raise UserFacingError(refused)
        try:
            snapshot = self.deps.finish.start_reconnect(actor=actor, datastore_id=datastore.id)
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
        actor, trigger_id = actor_of(body), body.get("trigger_id")
        if actor is None or not isinstance(trigger_id, str) or not trigger_id:
            logger.info("Reconnect refused: no trigger or identity in the body")
            return
        datastore = self._home(actor, chosen)
        if datastore is None:
            if not datastore_exists(self.deps.services, chosen):
                raise UserFacingError("That datastore no longer exists.")
            logger.info("Reconnect refused: datastore %s lives elsewhere than %s", chosen, actor)
            return
        self.open_for(client, trigger_id=trigger_id, actor=actor, datastore=datastore)

    def command(self, args: list[str], ack: Ack, command: dict[str, Any], client: WebClient, _respond: Any) -> None:
        if len(args) != 1:
            ack(
                response_type="ephemeral",
                text=f'Say which datastore: `{SLASH_COMMAND} reconnect NAME` (quote names with spaces: "Eng Wiki").',
            )
            return
        actor = actor_of(command)
        try:
            info = find_datastore(self.queries, command["team_id"], args[0])
        except UserFacingError as exc:
            ack(response_type="ephemeral", text=str(exc))
            return
        datastore = self._home(actor, info.id) if actor is not None else None
        if actor is None or datastore is None:
            logger.info("/datastore reconnect refused: the datastore lives elsewhere than %s", actor)
            ack(response_type="ephemeral", text="There is no datastore by that name here. Nothing changed.")
            return
        ack()
        self.open_for(client, trigger_id=command["trigger_id"], actor=actor, datastore=datastore)


def register(app: App, reconnect: Reconnect) -> None:
    app.action(ActionId.RECONNECT)(reconnect.clicked)
