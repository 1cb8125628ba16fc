"""`/datastore delete NAME` and App Home's "Delete…": a modal where the name must be typed, then the deletion."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackRequestError
from slack_sdk.webhook import WebhookClient

from bot.datastores.deletion import DatastoreDeletion
from bot.datastores.queries import Queries
from bot.errors import UserFacingError
from bot.text_policy import refusal
from bot.wizard.inputs import name_key
from handlers.home import HomeTabs
from handlers.ids import SLASH_COMMAND, ActionId, BlockId, CallbackId
from handlers.lookup import find_datastore
from handlers.notices import NoticeDelivery
from handlers.payloads import datastore_id, metadata_object, team_id_of
from handlers.permissions import Permissions
from handlers.view_state import Values, text_value
from handlers.views.delete import delete_confirm_view, deleted_text, deleting_text, notice_view
from handlers.views.fallback import UNREADABLE_FORM_TEXT, ended_form_view

__all__ = ["DeleteHandlers", "register"]

logger = logging.getLogger(__name__)


class DeleteHandlers:
    def __init__(
        self,
        deletion: DatastoreDeletion,
        queries: Queries,
        permissions: Permissions,
        notices: NoticeDelivery,
        tabs: HomeTabs,
    ) -> None:
        self.deletion, self.queries, self.permissions = deletion, queries, permissions
        self.notices, self.tabs = notices, tabs

    def open_confirm(
        self,
        client: WebClient,
        *,
        trigger_id: str,
        team_id: str,
        user_id: str,
        datastore_id: int,
        response_url: str | None,
    ) -> str | None:
        """Open the confirmation modal; returns the refusal instead when this user may not delete it. The
        outcome is told through ``response_url`` (a slash command's) or, without one, on App Home."""
        preview = self.deletion.preview(datastore_id=datastore_id, team_id=team_id)
        if not self.permissions.may_manage(client, team_id=team_id, user_id=user_id, creator_id=preview.creator_id):
            return self.permissions.refusal(creator_id=preview.creator_id, name=preview.name, action="delete")
        client.views_open(trigger_id=trigger_id, view=delete_confirm_view(preview, response_url=response_url))
        return None

    def command(self, args: list[str], ack: Ack, command: dict[str, Any], client: WebClient, respond: Respond) -> None:
        if len(args) != 1:
            ack(
                response_type="ephemeral",
                text=f'Say which datastore: `{SLASH_COMMAND} delete NAME` (quote names with spaces: "Eng Wiki").',
            )
            return
        ack()
        info = find_datastore(self.queries, command["team_id"], args[0])
        refusal = self.open_confirm(
            client,
            trigger_id=command["trigger_id"],
            team_id=command["team_id"],
            user_id=command["user_id"],
            datastore_id=info.id,
            response_url=command.get("response_url"),
        )
        if refusal is not None:
            respond(response_type="ephemeral", text=refusal)

    def submitted(self, ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        """Checks first (the typed name, the permission), answering within 3 s; the deletion runs after."""
        metadata = metadata_object(view.get("private_metadata")) or {}
        chosen, reply_to = datastore_id(metadata.get("d")), metadata.get("r")
        if chosen is None or not (reply_to is None or (isinstance(reply_to, str) and reply_to.startswith("http"))):
            logger.info("delete: the form's metadata is not what the bot writes")
            ack(response_action="update", view=ended_form_view(UNREADABLE_FORM_TEXT))
            return
        team_id, user_id = team_id_of(body), body["user"]["id"]
        values: Values = view["state"]["values"]
        typed = text_value(values, BlockId.DELETE_NAME, ActionId.DELETE_NAME_INPUT) or ""
        hidden = refusal(typed, "name")
        if hidden is not None:
            ack(response_action="errors", errors={BlockId.DELETE_NAME: hidden})
            return
        try:
            preview = self.deletion.preview(datastore_id=chosen, team_id=team_id)
        except UserFacingError as exc:
            ack(response_action="update", view=notice_view(str(exc)))
            return
        if name_key(typed.strip()) != name_key(preview.name):
            error = f"That is not its name. Type {preview.name} to delete it, or Cancel to keep it."
            ack(response_action="errors", errors={BlockId.DELETE_NAME: error})
            return
        if not self.permissions.may_manage(client, team_id=team_id, user_id=user_id, creator_id=preview.creator_id):
            refused = self.permissions.refusal(creator_id=preview.creator_id, name=preview.name, action="delete")
            ack(response_action="update", view=notice_view(refused))
            return
        ack(response_action="clear")
        self._tell(client, team_id, user_id, reply_to, deleting_text(preview.name))
        try:
            text = deleted_text(
                self.deletion.delete(datastore_id=preview.datastore_id, team_id=team_id, deleted_by=user_id)
            )
        except UserFacingError as exc:
            text = str(exc)
        self.notices.deliver(team_id)
        self.tabs.refresh_team(team_id)
        self._tell(client, team_id, user_id, reply_to, text)

    def _tell(self, client: WebClient, team_id: str, user_id: str, response_url: str | None, text: str) -> None:
        """In the channel the command came from (replacing the previous word), or on the person's App Home."""
        if response_url is None:
            self.tabs.publish(client, team_id=team_id, user_id=user_id, notice=text)
            return
        try:
            WebhookClient(response_url).send(text=text, response_type="ephemeral", replace_original=True)
        except (SlackRequestError, OSError) as exc:
            logger.info("could not tell %s about the deletion: %s", user_id, exc)


def register(app: App, handlers: DeleteHandlers) -> None:
    app.view(CallbackId.DELETE_CONFIRM)(handlers.submitted)
