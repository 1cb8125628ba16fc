"""The /datastore slash command: parse the text, route to a subcommand, answer within 3 s."""

from __future__ import annotations

import difflib
import logging
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.errors import CommandUsageError
from handlers.actors import actor_of
from handlers.credits import CreditsHandlers
from handlers.delete import DeleteHandlers
from handlers.ids import SLASH_COMMAND
from handlers.reconnect import Reconnect
from handlers.sync_actions import SyncActions
from handlers.usage_commands import UsageCommands
from handlers.views.help import SubcommandHelp, help_message
from handlers.wizard_open import WizardDeps

__all__ = ["CommandDeps", "ParsedCommand", "parse_command", "register"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ParsedCommand:
    subcommand: str
    args: list[str]


def parse_command(text: str) -> ParsedCommand:
    """Split the command text on spaces; double quotes (straight or curly, as Slack clients type them) group
    words, so names with spaces work: `search "Eng Wiki" x`. Apostrophes and backslashes are plain text."""
    normalized = text.replace("\u201c", '"').replace("\u201d", '"')
    lexer = shlex.shlex(normalized, posix=True)
    lexer.whitespace_split = True
    lexer.quotes = '"'
    lexer.escape = ""
    lexer.commenters = ""
    try:
        words = list(lexer)
    except ValueError:
        raise CommandUsageError(
            f"I couldn't read `{SLASH_COMMAND} {text}`: a quote is not closed. "
            f'Put names with spaces in quotes, like `{SLASH_COMMAND} create "Eng Wiki"`.'
        ) from None
    if not words:
        return ParsedCommand(subcommand="help", args=[])
    return ParsedCommand(subcommand=words[0].lower(), args=words[1:])


Subcommand = Callable[[list[str], Ack, dict[str, Any], WebClient, Respond], None]


@dataclass(frozen=True)
class CommandDeps:
    wizard: WizardDeps
    usage: UsageCommands
    reconnect: Reconnect
    sync: SyncActions
    delete: DeleteHandlers
    credits: CreditsHandlers


class DatastoreCommand:
    """Routes `/datastore <subcommand>`; each subcommand acks first and does slow work after."""

    def __init__(self, deps: CommandDeps) -> None:
        self._wizard = deps.wizard
        usage, reconnect, sync = deps.usage, deps.reconnect, deps.sync
        self._routes: dict[str, tuple[SubcommandHelp, Subcommand]] = {
            "create": (
                SubcommandHelp("create", "create [name]", "connect a Confluence site as a new datastore"),
                self._create,
            ),
            "list": (SubcommandHelp("list", "list", "every datastore here, with its status"), usage.list_all),
            "status": (SubcommandHelp("status", "status NAME", "where a datastore's sync stands"), usage.status),
            "search": (
                SubcommandHelp(
                    "search", "search NAME words", 'search a datastore (quote names with spaces: "Eng Wiki")'
                ),
                usage.search,
            ),
            "sync": (SubcommandHelp("sync", "sync NAME [--full]", "resync a datastore now"), sync.command),
            "schedule": (
                SubcommandHelp("schedule", "schedule NAME 6h", "how often it resyncs by itself (90m, 6h, 1d, default)"),
                sync.schedule,
            ),
            "delete": (
                SubcommandHelp("delete", "delete NAME", "delete a datastore and everything it holds (asks first)"),
                deps.delete.command,
            ),
            "credits": (
                SubcommandHelp("credits", "credits", "ingestion credits: balance, latest entries, auto top-off"),
                deps.credits.command,
            ),
            "reconnect": (
                SubcommandHelp("reconnect", "reconnect NAME", "connect Confluence again when its access expired"),
                reconnect.command,
            ),
            "help": (SubcommandHelp("help", "help", "show this help"), self._help),
        }

    @property
    def help_entries(self) -> list[SubcommandHelp]:
        return [entry for entry, _ in self._routes.values()]

    def __call__(self, ack: Ack, command: dict[str, Any], client: WebClient, respond: Respond) -> None:
        try:
            parsed = parse_command(command.get("text", ""))
        except CommandUsageError as exc:
            ack(response_type="ephemeral", text=str(exc))
            return
        route = self._routes.get(parsed.subcommand)
        if route is None:
            self._unknown(parsed, ack)
            return
        try:
            route[1](parsed.args, ack, command, client, respond)
        except CommandUsageError as exc:
            ack(response_type="ephemeral", text=str(exc))

    def _help(
        self, _args: list[str], ack: Ack, _command: dict[str, Any], _client: WebClient, _respond: Respond
    ) -> None:
        ack(**help_message(self.help_entries))

    def _unknown(self, parsed: ParsedCommand, ack: Ack) -> None:
        matches = difflib.get_close_matches(parsed.subcommand, list(self._routes), n=1, cutoff=0.5)
        ack(**help_message(self.help_entries, unknown=parsed.subcommand, suggestion=matches[0] if matches else None))

    def _create(self, args: list[str], ack: Ack, command: dict[str, Any], client: WebClient, _respond: Respond) -> None:
        actor = actor_of(command)
        if actor is None:
            ack(response_type="ephemeral", text="Slack did not say who you are, so no setup was started.")
            return
        ack()
        self._wizard.open_new(
            client,
            trigger_id=command["trigger_id"],
            actor=actor,
            channel_id=command.get("channel_id"),
            name=" ".join(args).strip(),
        )


def register(app: App, deps: CommandDeps) -> None:
    app.command(SLASH_COMMAND)(DatastoreCommand(deps))
