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
from bot.text_policy import refusal
from handlers.access_commands import AccessCommands, access_routes
from handlers.actors import actor_of
from handlers.credits import CreditsHandlers
from handlers.delete import DeleteHandlers
from handlers.ids import SLASH_COMMAND
from handlers.links import LinkHandlers
from handlers.reconnect import Reconnect
from handlers.sync_actions import SyncActions
from handlers.usage_commands import UsageCommands
from handlers.views.blocks import escape_mrkdwn
from handlers.views.help import SubcommandHelp, help_message
from handlers.views.limits import clip_plain
from handlers.wizard_open import WizardDeps

__all__ = ["CommandDeps", "ParsedCommand", "argument_refusal", "parse_command", "register", "typed_text"]

logger = logging.getLogger(__name__)

#: How much of an unreadable command is echoed back.
ECHOED_COMMAND = 200
#: The subcommands whose arguments name a datastore.
_NAMING_SUBCOMMANDS = frozenset(
    {"create", "status", "search", "sync", "schedule", "delete", "reconnect", "access", "limit", "linked"}
)


@dataclass(frozen=True)
class ParsedCommand:
    subcommand: str
    args: list[str]


#: The longest command text read: Slack's own message limit. (shlex takes quadratic time on one long word, so
#: a megabyte of text would hold a listener for most of a minute and miss Slack's 3 s.)
MAX_COMMAND_TEXT = 40_000


def typed_text(text: str) -> str:
    """The command text as it was typed: Slack sends ``&``, ``<`` and ``>`` as ``&amp;``, ``&lt;`` and ``&gt;``
    (and nothing else as an entity), so ``R&D`` arrives as ``R&amp;D``; ``&amp;`` is decoded last, so a typed
    ``&lt;`` stays ``&lt;``."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def parse_command(text: str) -> ParsedCommand:
    """Split the command text (as Slack sends it, see :func:`typed_text`) on spaces; double quotes (straight or
    curly, as Slack clients type them) group words, so names with spaces work: `search "Eng Wiki" x`.
    Apostrophes and backslashes are plain text."""
    text = typed_text(text)
    if len(text) > MAX_COMMAND_TEXT:
        raise CommandUsageError(
            f"That is {len(text):,} characters: `{SLASH_COMMAND}` reads at most {MAX_COMMAND_TEXT:,}. Nothing changed."
        )
    normalized = text.replace("\u201c", '"').replace("\u201d", '"')
    lexer = shlex.shlex(normalized, posix=True)
    lexer.whitespace_split = True
    lexer.quotes = '"'
    lexer.escape = ""
    lexer.commenters = ""
    try:
        words = list(lexer)
    except ValueError:
        shown = escape_mrkdwn(clip_plain(text, ECHOED_COMMAND))
        raise CommandUsageError(
            f"I couldn't read `{SLASH_COMMAND} {shown}`: a quote is not closed. "
            f'Put names with spaces in quotes, like `{SLASH_COMMAND} create "Eng Wiki"`.'
        ) from None
    if not words:
        return ParsedCommand(subcommand="help", args=[])
    return ParsedCommand(subcommand=words[0].lower(), args=words[1:])


def _argument_roles(parsed: ParsedCommand) -> list[tuple[str, str]]:
    """Each word that must be typed exactly, with what it is; a search's query words are free text (cleaned
    by the search, never refused) and ``--full`` is a flag."""
    words = [arg for arg in parsed.args if arg not in ("--full", "--deletions")]
    if parsed.subcommand == "search":
        words = words[:1]
    roles = [("command", parsed.subcommand)]
    for index, word in enumerate(words):
        if parsed.subcommand == "schedule" and index >= 1:
            role = "interval"
        elif parsed.subcommand in _NAMING_SUBCOMMANDS:
            role = "datastore name"
        else:
            role = "command"
        roles.append((role, word))
    return roles


def argument_refusal(parsed: ParsedCommand) -> str | None:
    """Why the command is refused for a hidden character in the subcommand, a datastore name or an interval
    (see :func:`bot.text_policy.refusal`), or None. Shown in the ack: nothing runs, nothing is looked up."""
    for role, word in _argument_roles(parsed):
        message = refusal(word, role)
        if message is not None:
            return message
    return None


Subcommand = Callable[[list[str], Ack, dict[str, Any], WebClient, Respond], None]


@dataclass(frozen=True)
class CommandDeps:
    wizard: WizardDeps
    usage: UsageCommands
    reconnect: Reconnect
    sync: SyncActions
    delete: DeleteHandlers
    credits: CreditsHandlers
    access: AccessCommands | None = None
    links: LinkHandlers | None = None


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
                SubcommandHelp(
                    "schedule",
                    "schedule NAME 6h [--deletions 1d]",
                    "how often it resyncs by itself (90m, 6h, 1d, default) and checks for deleted pages",
                ),
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
        if deps.access is not None:
            self._routes.update(access_routes(deps.access))
        if deps.links is not None:
            self._routes["unlink"] = (
                SubcommandHelp("unlink", "unlink", "unlink your Atlassian account (per-person datastores ask again)"),
                deps.links.unlink,
            )
            self._routes["linked"] = (
                SubcommandHelp("linked", "linked NAME", "who has linked their Atlassian account (creator or admins)"),
                deps.links.linked,
            )
        self._routes["help"] = self._routes.pop("help")  # help stays last

    @property
    def help_entries(self) -> list[SubcommandHelp]:
        return [entry for entry, _ in self._routes.values()]

    def __call__(self, ack: Ack, command: dict[str, Any], client: WebClient, respond: Respond) -> None:
        try:
            parsed = parse_command(command.get("text", ""))
        except CommandUsageError as exc:
            ack(response_type="ephemeral", text=str(exc))
            return
        refused = argument_refusal(parsed)
        if refused is not None:
            ack(response_type="ephemeral", text=refused)
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
