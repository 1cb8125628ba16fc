"""Buttons in a sync's thread: "Retry" and "Retry failed" queue a new run (creator or admins only)."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.services import Services
from handlers.ids import ActionId
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


def register(app: App, services: Services) -> None:
    app.action(ActionId.RETRY_SYNC)(SyncActions(services).retry)
