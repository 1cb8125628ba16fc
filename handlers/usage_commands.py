"""/datastore list, status and search, and the "Share in channel" button of search results."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.datastores.queries import DatastoreInfo, PersonAccess, Queries, SearchAnswer, Searcher
from bot.errors import CommandUsageError, UserFacingError
from bot.states import AccessMode
from bot.text_policy import clean_query
from handlers.actors import actor_of
from handlers.ids import SLASH_COMMAND, ActionId
from handlers.lookup import find_datastore, shown_error
from handlers.payloads import action_value, team_id_of
from handlers.thread_links import ThreadLinks
from handlers.usage_gate import UsageGate
from handlers.views.person_search import connect_message, nothing_to_share_message, shared_links_message
from handlers.views.usage import list_message, read_share_value, search_message, status_message

__all__ = ["UsageCommands", "register"]

logger = logging.getLogger(__name__)


class UsageCommands:
    def __init__(self, queries: Queries, gate: UsageGate | None = None) -> None:
        self.queries, self.gate = queries, gate
        self.links = ThreadLinks(queries.services)

    def _may_use(
        self, client: WebClient, info: DatastoreInfo, *, team_id: str, user_id: str, channel_id: str | None
    ) -> None:
        """UserFacingError (who may use it, who can change that) when a usage limit keeps ``user_id`` out here."""
        if self.gate is None:
            return
        refused = self.gate.refusal(client, info, team_id=team_id, user_id=user_id, channel_id=channel_id)
        if refused is not None:
            raise UserFacingError(refused)

    def list_all(self, args: list[str], ack: Ack, command: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()
        respond(**list_message(self.queries.list(command["team_id"])))

    def status(self, args: list[str], ack: Ack, command: dict[str, Any], client: WebClient, respond: Respond) -> None:
        if len(args) != 1:
            raise CommandUsageError(
                f'Say which datastore: `{SLASH_COMMAND} status NAME` (quote names with spaces: "Eng Wiki").'
            )
        ack()
        info = find_datastore(self.queries, command["team_id"], args[0])
        history = self.queries.access_history(info)
        respond(**status_message(info, thread_link=self.links.link(client, info), history=history))

    def _search(self, info: DatastoreInfo, query: str, body: dict[str, Any], *, sharing: bool = False) -> SearchAnswer:
        """Search as the person in ``body`` (a command or a click): "each" datastores need to know who."""
        actor = actor_of(body)
        searcher = Searcher(actor.team_id, actor.user_id, actor.enterprise_id) if actor is not None else None
        try:
            return self.queries.search_in(info, query, searcher=searcher, sharing=sharing)
        except UserFacingError as exc:  # it names the datastore: escaped
            raise UserFacingError(shown_error(exc)) from None

    def search(self, args: list[str], ack: Ack, command: dict[str, Any], client: WebClient, respond: Respond) -> None:
        query = " ".join(args[1:])
        if not clean_query(query).text:  # nothing left once tabs, line breaks and hidden characters are gone
            raise CommandUsageError(
                f'Say where and what: `{SLASH_COMMAND} search NAME your words` (quote names with spaces: "Eng Wiki").'
            )
        ack()
        info = find_datastore(self.queries, command["team_id"], args[0])
        where = command.get("channel_id")
        self._may_use(client, info, team_id=command["team_id"], user_id=command["user_id"], channel_id=where)
        respond(**search_message(self._search(info, query, command)))

    def share(self, ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        if not body.get("response_url"):  # the button lives only in the search's ephemeral reply
            logger.info("Share in channel: ignored a click without a response_url")
            return
        shared = read_share_value(action_value(body))
        if shared is None:
            logger.info("Share in channel: ignored a button value the bot does not write")
            return
        datastore_id, query = shared
        info = self.queries.get(team_id_of(body), datastore_id)
        if info is None:
            respond(response_type="ephemeral", replace_original=False, text="That datastore no longer exists.")
            return
        channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
        try:
            self._may_use(client, info, team_id=team_id_of(body), user_id=body["user"]["id"], channel_id=channel)
        except UserFacingError as exc:
            respond(response_type="ephemeral", replace_original=False, text=str(exc))
            return
        per_person = info.access_mode is AccessMode.EACH
        answer = self._search(info, query, body, sharing=per_person)
        if not per_person:
            respond(replace_original=False, **search_message(answer, shared_by=body["user"]["id"]))
        elif answer.access is not PersonAccess.SEARCHED:
            respond(replace_original=False, **connect_message(answer))
        elif not answer.hits:
            respond(**nothing_to_share_message(answer))
        else:  # only title-free links and who shared them, never a title or a snippet
            respond(**shared_links_message(answer, shared_by=body["user"]["id"]))

    def acknowledge(self, ack: Ack) -> None:
        """The Connect button is a URL button: Slack still sends the click, which only needs an ack."""
        ack()


def register(app: App, usage: UsageCommands) -> None:
    app.action(ActionId.SHARE_RESULTS)(usage.share)
    app.action(ActionId.CONNECT_CONFLUENCE)(usage.acknowledge)
