"""Queueing a resync from Slack: `/datastore sync NAME [--full]`, the thread's "Retry" buttons and App Home's
"Sync now" — for the datastore's creator and admins, politely refused while one is queued or running — and
`/datastore schedule NAME EVERY [--deletions EVERY]`, how often it resyncs and checks for deleted pages."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.datastores.queries import Queries
from bot.datastores.resync import queue_resync
from bot.datastores.schedule import UNCHANGED, parse_deletion_interval, parse_interval, set_schedule
from bot.errors import CommandUsageError, UserFacingError
from bot.services import Services
from bot.states import RunKind, RunTrigger
from handlers.ids import SLASH_COMMAND, ActionId
from handlers.lookup import find_datastore, shown_error
from handlers.payloads import action_value, datastore_id, team_id_of
from handlers.permissions import Permissions
from handlers.views.blocks import escape_mrkdwn

__all__ = ["SyncActions", "register"]

logger = logging.getLogger(__name__)


class SyncActions:
    def __init__(self, services: Services, queries: Queries, permissions: Permissions) -> None:
        self.services, self.queries, self.permissions = services, queries, permissions

    def request(
        self, client: WebClient, *, team_id: str, user_id: str, datastore_id: int, kind: RunKind, trigger: RunTrigger
    ) -> str:
        """Queue a run if ``user_id`` may; returns what to tell them (queued, already running, or who can)."""
        info = self.queries.get(team_id, datastore_id)
        if info is None:
            raise UserFacingError("That datastore no longer exists.")
        if not self.permissions.may_manage(client, team_id=team_id, user_id=user_id, creator_id=info.created_by):
            action = "retry" if trigger == RunTrigger.RETRY else "sync"
            return self.permissions.refusal(creator_id=info.created_by, name=info.name, action=action)
        queued = queue_resync(self.services, datastore_id=datastore_id, kind=kind, trigger=trigger)
        name = escape_mrkdwn(info.name)
        if not queued:
            return f"*{name}* is already syncing (or waiting to resume); its thread shows where it stands."
        if trigger == RunTrigger.RETRY:
            return f"Retrying *{name}*: failed pages are fetched again. Progress shows in its thread."
        what = "A full resync (every page processed again)" if kind == RunKind.FULL else "A resync"
        return f"{what} of *{name}* is queued; progress shows in its thread."

    def retry(self, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        chosen = datastore_id(action_value(body))
        if chosen is None:
            logger.info("Retry: ignored a button value the bot does not write")
            return
        user = body["user"]["id"]
        channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
        text = self.request(
            client,
            team_id=team_id_of(body),
            user_id=user,
            datastore_id=chosen,
            kind=RunKind.INCREMENTAL,
            trigger=RunTrigger.RETRY,
        )
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
        info = find_datastore(self.queries, command["team_id"], names[0])
        text = self.request(
            client,
            team_id=command["team_id"],
            user_id=command["user_id"],
            datastore_id=info.id,
            kind=RunKind.FULL if full else RunKind.INCREMENTAL,
            trigger=RunTrigger.MANUAL,
        )
        respond(response_type="ephemeral", text=text)

    def schedule(self, args: list[str], ack: Ack, command: dict[str, Any], client: WebClient, respond: Respond) -> None:
        """`/datastore schedule NAME [EVERY] [--deletions EVERY]`: how often it resyncs (`6h`, `90m`, `1d`,
        `default`) and how often a resync checks for deleted pages (default daily)."""
        name, every, deletions = _schedule_args(args)
        try:
            resync = parse_interval(every) if every is not None else UNCHANGED
            check = parse_deletion_interval(deletions) if deletions is not None else UNCHANGED
        except UserFacingError as exc:
            raise CommandUsageError(shown_error(exc)) from None
        ack()
        info = find_datastore(self.queries, command["team_id"], name)
        team_id, user_id = command["team_id"], command["user_id"]
        if not self.permissions.may_manage(client, team_id=team_id, user_id=user_id, creator_id=info.created_by):
            refused = self.permissions.refusal(creator_id=info.created_by, name=info.name, action="reschedule")
            respond(response_type="ephemeral", text=refused)
            return
        effective = set_schedule(self.services, datastore_id=info.id, resync=resync, deletions=check)
        respond(response_type="ephemeral", text=f"*{escape_mrkdwn(info.name)}* now {effective.describe()}.")


SCHEDULE_USAGE = (
    f"Say which datastore and how often: `{SLASH_COMMAND} schedule NAME 6h` (or `90m`, `1d`, `default`), and "
    "how often to check for deleted pages: `--deletions 1d`."
)


def _schedule_args(args: list[str]) -> tuple[str, str | None, str | None]:
    """NAME, the resync interval and the deletion interval of `schedule NAME [EVERY] [--deletions EVERY]`."""
    words, deletions = list(args), None
    if "--deletions" in words:
        at = words.index("--deletions")
        if at + 1 >= len(words) or words.count("--deletions") > 1:
            raise CommandUsageError(SCHEDULE_USAGE)
        deletions = words[at + 1]
        del words[at : at + 2]
    if len(words) not in (1, 2) or (len(words) == 1 and deletions is None):
        raise CommandUsageError(SCHEDULE_USAGE)
    return words[0], words[1] if len(words) == 2 else None, deletions


def register(app: App, actions: SyncActions) -> None:
    app.action(ActionId.RETRY_SYNC)(actions.retry)
