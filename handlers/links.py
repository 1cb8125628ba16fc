"""Person links in Slack: `/datastore unlink`, `/datastore linked NAME`, and the events that end links —
``tokens_revoked`` and ``app_uninstalled`` (the workspace's links; a user's revoked token: that user's) and
``user_change`` of a deactivated user (their links here and, on Enterprise Grid, in every workspace of the org).
The work is in bot/access/links.py; no session here.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.access.links import PersonLinks
from bot.actors import is_slack_id
from bot.datastores.queries import Queries
from bot.errors import CommandUsageError
from handlers.actors import actor_of
from handlers.ids import SLASH_COMMAND
from handlers.lookup import find_datastore
from handlers.permissions import Permissions
from handlers.views.links import linked_message, unlink_message

__all__ = ["LinkHandlers", "register"]

logger = logging.getLogger(__name__)


def _team(body: dict[str, Any]) -> str | None:
    team_id = body.get("team_id")
    return team_id if is_slack_id(team_id) else None


class LinkHandlers:
    def __init__(self, links: PersonLinks, queries: Queries, permissions: Permissions) -> None:
        self.links = links
        self.queries = queries
        self.permissions = permissions

    # ----- commands -----------------------------------------------------------------------------
    def unlink(self, args: list[str], ack: Ack, command: dict[str, Any], client: WebClient, respond: Respond) -> None:
        if args:
            raise CommandUsageError(
                f"`{SLASH_COMMAND} unlink` takes nothing more: it removes every link of yours in this workspace."
            )
        actor = actor_of(command)
        if actor is None:
            ack(response_type="ephemeral", text="Slack did not say who you are, so nothing changed.")
            return
        ack()
        removed = self.links.unlink_person(team_id=actor.team_id, slack_user_id=actor.user_id)
        respond(**unlink_message(removed))

    def linked(self, args: list[str], ack: Ack, command: dict[str, Any], client: WebClient, respond: Respond) -> None:
        if len(args) != 1:
            raise CommandUsageError(
                f'Say which datastore: `{SLASH_COMMAND} linked NAME` (quote names with spaces: "Eng Wiki").'
            )
        ack()
        team_id, user_id = command["team_id"], command["user_id"]
        info = find_datastore(self.queries, team_id, args[0])
        if not self.permissions.may_manage(client, team_id=team_id, user_id=user_id, creator_id=info.created_by):
            refusal = self.permissions.refusal(
                creator_id=info.created_by, name=info.name, action="see who is linked to"
            )
            respond(response_type="ephemeral", text=refusal.removesuffix(" Nothing changed."))
            return
        site, people = self.links.people_of_datastore(team_id=team_id, datastore_id=info.id)
        respond(**linked_message(info.name, site, people))

    # ----- events -------------------------------------------------------------------------------
    def tokens_revoked(self, event: dict[str, Any], body: dict[str, Any]) -> None:
        team_id = _team(body)
        tokens = event.get("tokens")
        if team_id is None or not isinstance(tokens, dict):
            logger.info("tokens_revoked without a team or tokens: ignored")
            return
        if tokens.get("bot"):
            self.links.unlink_team(team_id=team_id)
            return
        users = tokens.get("oauth")
        for user_id in users if isinstance(users, list) else []:
            if is_slack_id(user_id):
                self.links.unlink_person(team_id=team_id, slack_user_id=user_id)

    def app_uninstalled(self, body: dict[str, Any]) -> None:
        team_id = _team(body)
        if team_id is not None:
            self.links.unlink_team(team_id=team_id)

    def user_change(self, event: dict[str, Any], body: dict[str, Any]) -> None:
        user = event.get("user")
        team_id = _team(body)
        if not isinstance(user, dict) or user.get("deleted") is not True or team_id is None:
            return
        user_id, enterprise_id = user.get("id"), body.get("enterprise_id")
        if is_slack_id(user_id):
            self.links.unlink_everywhere(
                team_id=team_id,
                enterprise_id=enterprise_id if is_slack_id(enterprise_id) else None,
                slack_user_id=user_id,
            )


def register(app: App, handlers: LinkHandlers) -> None:
    app.event("tokens_revoked")(handlers.tokens_revoked)
    app.event("app_uninstalled")(handlers.app_uninstalled)
    app.event("user_change")(handlers.user_change)
