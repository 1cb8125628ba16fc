"""Buttons in a sync's thread: "Retry" and "Retry failed" queue a new run (creator or admins only)."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from sqlalchemy import select

from bot.services import Services
from bot.wizard.inputs import name_key
from handlers.ids import SLASH_COMMAND, ActionId
from handlers.permissions import may_manage, refusal
from storage.models import Datastore
from storage.sync_runs import queue_run

__all__ = ["register"]


class SyncActions:
    def __init__(self, services: Services) -> None:
        self.services = services

    def retry(self, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        user = body["user"]["id"]
        channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
        with self.services.sessions() as session:
            found = session.get(Datastore, int(body["actions"][0]["value"]))
            creator, name = (found.created_by, found.name) if found is not None else ("", "")
        if found is not None and not may_manage(client, user_id=user, creator_id=creator):
            if channel:
                client.chat_postEphemeral(
                    channel=channel, user=user, text=refusal(creator_id=creator, name=name, action="retry")
                )
            return
        with self.services.sessions.begin() as session:
            datastore = session.get(Datastore, int(body["actions"][0]["value"]))
            if datastore is None or datastore.team_id != body["user"].get("team_id", datastore.team_id):
                text = "That datastore no longer exists."
            elif queue_run(session, datastore_id=datastore.id, kind="incremental", trigger="retry") is None:
                text = f"A sync of *{datastore.name}* is already queued or running."
            else:
                text = f"Retrying *{datastore.name}*: failed pages are fetched again. Progress shows in this thread."
        if channel:
            client.chat_postEphemeral(channel=channel, user=user, text=text)

    def command(self, args: list[str], ack: Ack, command: dict[str, Any], client: WebClient, respond: Respond) -> None:
        """`/datastore sync NAME [--full]`: queue a resync now (creator or admins), politely refused if one runs."""
        full = "--full" in args
        names = [arg for arg in args if arg != "--full"]
        if len(names) != 1:
            ack(response_type="ephemeral", text=f"Say which datastore: `{SLASH_COMMAND} sync NAME [--full]`.")
            return
        ack()
        with self.services.sessions() as session:
            found = session.scalars(
                select(Datastore).where(
                    Datastore.team_id == command["team_id"], Datastore.name_key == name_key(names[0])
                )
            ).first()
            creator, datastore_name = (found.created_by, found.name) if found is not None else ("", names[0])
        if found is None:
            respond(response_type="ephemeral", text=f"There is no datastore named *{names[0]}* here.")
            return
        if not may_manage(client, user_id=command["user_id"], creator_id=creator):
            respond(response_type="ephemeral", text=refusal(creator_id=creator, name=datastore_name, action="sync"))
            return
        with self.services.sessions.begin() as session:
            run = queue_run(session, datastore_id=found.id, kind="full" if full else "incremental", trigger="manual")
        if run is None:
            text = f"*{datastore_name}* is already syncing (or waiting to resume); its thread shows where it stands."
        else:
            what = "A full resync (every page processed again)" if full else "A resync"
            text = f"{what} of *{datastore_name}* is queued; progress shows in its thread."
        respond(response_type="ephemeral", text=text)


def register(app: App, services: Services) -> SyncActions:
    actions = SyncActions(services)
    app.action(ActionId.RETRY_SYNC)(actions.retry)
    return actions
