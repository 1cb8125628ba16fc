"""`/datastore access NAME each|everyone` and `/datastore limit NAME channels …|group …|none` (the datastore's
creator or workspace admins), the "Yes, everyone" confirmation button, and the one-time offer DM's button.

"each" switches at once; "everyone" first shows a confirmation naming the connecting account and changes
only when it is confirmed. Every change is written to the access audit (`/datastore status NAME` shows it).
A refusal says who can change it; bad input gets a usage line and changes nothing.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.datastores.access import AccessChanges, UsageRule
from bot.datastores.queries import DatastoreInfo, Queries
from bot.errors import CommandUsageError, UserFacingError
from bot.states import AccessMode, AuditSource, LimitKind
from handlers.ids import SLASH_COMMAND, ActionId
from handlers.lookup import find_datastore
from handlers.payloads import action_value, datastore_id, team_id_of
from handlers.permissions import Permissions
from handlers.slack_once import TRANSPORT_ERRORS
from handlers.usage_gate import GroupMembers
from handlers.views.access import access_line
from handlers.views.access_choice import account_tag, confirm_everyone_message
from handlers.views.blocks import escape_mrkdwn
from handlers.views.help import SubcommandHelp
from handlers.views.limits import clip_plain
from handlers.views.usage_limits import rule_words

__all__ = ["ACCESS_USAGE", "LIMIT_USAGE", "AccessCommands", "access_routes", "register"]

logger = logging.getLogger(__name__)

ACCESS_USAGE = (
    f"Say which datastore and who sees what: `{SLASH_COMMAND} access NAME each` (each person sees what they can "
    f"see in Confluence) or `{SLASH_COMMAND} access NAME everyone` (everyone here sees what the connecting "
    'account can see). Quote names with spaces: "Eng Wiki".'
)
LIMIT_USAGE = (
    f"Say which datastore and who may use it: `{SLASH_COMMAND} limit NAME channels #a #b` (search and share only "
    f"there; `here` is this channel), `{SLASH_COMMAND} limit NAME group @handle` (only its members) or "
    f"`{SLASH_COMMAND} limit NAME none` (everyone here)."
)
#: At most this many channels in one limit.
MAX_CHANNELS = 50
ECHOED = 80
_CHANNEL_ID = re.compile(r"[CG][A-Z0-9]{6,20}")
_GROUP_ID = re.compile(r"S[A-Z0-9]{6,20}")
_CHANNEL_MENTION = re.compile(r"<#([CG][A-Z0-9]{6,20})(?:\|[^>]*)?>")
_GROUP_MENTION = re.compile(r"<!subteam\^(S[A-Z0-9]{6,20})(?:\|@?([^>]*))?>")
_HANDLE = re.compile(r"@?([a-z0-9][a-z0-9._-]{0,79})", re.IGNORECASE)
_GROUP_ANSWER_SCOPE = "usergroups:read"


def _echo(word: str) -> str:
    return escape_mrkdwn(clip_plain(word, ECHOED))


def _channel_of(word: str, command: dict[str, Any]) -> str:
    here, here_name = str(command.get("channel_id") or ""), str(command.get("channel_name") or "")
    mention = _CHANNEL_MENTION.fullmatch(word)
    if mention is not None:
        return mention.group(1)
    if _CHANNEL_ID.fullmatch(word):
        return word
    if word.lower() == "here" or (here_name and word.lstrip("#").casefold() == here_name.casefold()):
        if _CHANNEL_ID.fullmatch(here):
            return here
        raise CommandUsageError("`here` works in a channel, not in a direct message. Nothing changed.")
    raise CommandUsageError(
        f"I can't tell which channel `{_echo(word)}` is: use `here` (typed in that channel) or the channel's id "
        "(C…, at the bottom of its details). Nothing changed."
    )


class AccessCommands:
    def __init__(
        self, changes: AccessChanges, queries: Queries, permissions: Permissions, groups: GroupMembers
    ) -> None:
        self.changes, self.queries, self.permissions, self.groups = changes, queries, permissions, groups

    # --- who may change it -----------------------------------------------------------------------------
    def _refused(
        self, client: WebClient, info: DatastoreInfo, *, team_id: str, user_id: str, what: str = "who sees what in"
    ) -> str | None:
        if self.permissions.may_manage(client, team_id=team_id, user_id=user_id, creator_id=info.created_by):
            return None
        who = self.permissions.who_can_change(creator_id=info.created_by, name=info.name, what=what)
        return f"{who} Nothing changed."

    # --- /datastore access -----------------------------------------------------------------------------
    def access(self, args: list[str], ack: Ack, command: dict[str, Any], client: WebClient, respond: Respond) -> None:
        if len(args) != 2:
            raise CommandUsageError(ACCESS_USAGE)
        raw_mode = args[1].lower()
        if raw_mode not in (AccessMode.EACH.value, AccessMode.EVERYONE.value):
            raise CommandUsageError(f"I don't know the access mode `{_echo(args[1])}`. {ACCESS_USAGE}")
        mode = AccessMode(raw_mode)
        ack()
        team_id, user_id = command["team_id"], command["user_id"]
        info = find_datastore(self.queries, team_id, args[0])
        refused = self._refused(client, info, team_id=team_id, user_id=user_id)
        if refused is not None:
            respond(response_type="ephemeral", text=refused)
            return
        why_not = self.changes.mode_allowed(info.id, mode)
        if why_not is not None:
            respond(response_type="ephemeral", text=f"{escape_mrkdwn(why_not)} Nothing changed.")
            return
        if info.access_mode is mode:
            respond(response_type="ephemeral", text=f"*{escape_mrkdwn(info.name)}* already: {access_line(info)}.")
            return
        if mode is AccessMode.EVERYONE:
            respond(
                **confirm_everyone_message(
                    datastore_id=info.id, name=info.name, account_name=info.account_name, site=info.site
                )
            )
            return
        text = self._apply(info, mode, team_id=team_id, user_id=user_id, source=AuditSource.SLACK)
        respond(response_type="ephemeral", text=text)

    def _apply(
        self,
        info: DatastoreInfo,
        mode: AccessMode,
        *,
        team_id: str,
        user_id: str,
        source: AuditSource,
        offer: bool = False,
    ) -> str:
        change = self.changes.set_mode(
            team_id=team_id,
            datastore_id=info.id,
            mode=mode,
            actor_user_id=user_id,
            source=source,
            answers_offer=offer,
        )
        if change is None:
            return "That datastore no longer exists."
        now = self.queries.get(team_id, info.id) or info
        name = escape_mrkdwn(change.name)
        if not change.changed:
            return f"*{name}* already: {access_line(now)}."
        return f"Done. *{name}*: {access_line(now)}. The change is recorded in `{SLASH_COMMAND} status`."

    def _clicked(self, body: dict[str, Any], client: WebClient, respond: Respond, what: str) -> DatastoreInfo | None:
        if not body.get("response_url"):
            logger.info("%s: ignored a click without a response_url", what)
            return None
        raw, _, self_named = (action_value(body) or "").partition(":")
        chosen = datastore_id(raw)
        if chosen is None:
            logger.info("%s: ignored a button value the bot does not write", what)
            return None
        team_id, user_id = team_id_of(body), str(body["user"]["id"])
        info = self.queries.get(team_id, chosen)
        if info is None:
            respond(replace_original=True, text="That datastore no longer exists.")
            return None
        refused = self._refused(client, info, team_id=team_id, user_id=user_id)
        if refused is not None:
            respond(replace_original=False, response_type="ephemeral", text=refused)
            return None
        if self_named and self_named != account_tag(info.account_name):
            # The confirmation named another account than the one that connects it now: ask again.
            respond(
                replace_original=True,
                text=f"The Confluence account of *{escape_mrkdwn(info.name)}* changed since you were asked, so "
                f"nothing changed. Run `{SLASH_COMMAND} access` again to see whom it names now.",
            )
            return None
        return info

    def confirm_everyone(self, ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        """ "Yes, everyone sees what the account sees" (after Slack's own confirm dialog naming the account)."""
        ack()
        info = self._clicked(body, client, respond, "confirm everyone")
        if info is None:
            return
        user_id = str(body["user"]["id"])
        text = self._apply(
            info, AccessMode.EVERYONE, team_id=team_id_of(body), user_id=user_id, source=AuditSource.SLACK
        )
        respond(replace_original=True, text=text)

    def offer_switch(self, ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        """The offer DM's "Switch to each person's own access"."""
        ack()
        info = self._clicked(body, client, respond, "offer switch")
        if info is None:
            return
        why_not = self.changes.mode_allowed(info.id, AccessMode.EACH)
        if why_not is not None:
            respond(replace_original=False, text=escape_mrkdwn(why_not))
            return
        user_id = str(body["user"]["id"])
        text = self._apply(
            info, AccessMode.EACH, team_id=team_id_of(body), user_id=user_id, source=AuditSource.OFFER, offer=True
        )
        respond(replace_original=True, text=text)

    # --- /datastore limit ------------------------------------------------------------------------------
    def limit(self, args: list[str], ack: Ack, command: dict[str, Any], client: WebClient, respond: Respond) -> None:
        if len(args) < 2:
            raise CommandUsageError(LIMIT_USAGE)
        kind, refs = args[1].lower(), args[2:]
        channels: tuple[str, ...] = ()
        if kind == LimitKind.NONE.value:
            if refs:
                raise CommandUsageError(f"`none` takes nothing after it. {LIMIT_USAGE}")
        elif kind == LimitKind.CHANNELS.value:
            if not refs or len(refs) > MAX_CHANNELS:
                raise CommandUsageError(f"Name between 1 and {MAX_CHANNELS} channels. {LIMIT_USAGE}")
            channels = tuple(dict.fromkeys(_channel_of(ref, command) for ref in refs))
        elif kind == LimitKind.GROUP.value:
            if len(refs) != 1:
                raise CommandUsageError(f"Name one user group. {LIMIT_USAGE}")
        else:
            raise CommandUsageError(f"I don't know the limit `{_echo(args[1])}`. {LIMIT_USAGE}")
        ack()
        team_id, user_id = command["team_id"], command["user_id"]
        info = find_datastore(self.queries, team_id, args[0])
        refused = self._refused(client, info, team_id=team_id, user_id=user_id, what="who may use")
        if refused is not None:
            respond(response_type="ephemeral", text=refused)
            return
        if kind == LimitKind.GROUP.value:
            group_id, handle = self._group_of(client, refs[0])
            rule = UsageRule(LimitKind.GROUP, group_id=group_id, group_handle=handle)
            self.groups.forget(team_id=team_id, group_id=group_id)
        elif kind == LimitKind.CHANNELS.value:
            rule = UsageRule(LimitKind.CHANNELS, channel_ids=channels)
        else:
            rule = UsageRule()
        change = self.changes.set_limit(
            team_id=team_id, datastore_id=info.id, rule=rule, actor_user_id=user_id, source=AuditSource.SLACK
        )
        if change is None:
            raise UserFacingError("That datastore no longer exists.")
        name = escape_mrkdwn(info.name)
        if not change.changed:
            respond(response_type="ephemeral", text=f"*{name}* can already be used by {rule_words(rule)}.")
            return
        respond(
            response_type="ephemeral",
            text=f"Done. *{name}* can now be used by {rule_words(rule)} (it was {rule_words(change.old)}). "
            f"The change is recorded in `{SLASH_COMMAND} status`.",
        )

    def _group_of(self, client: WebClient, word: str) -> tuple[str, str | None]:
        """The user group ``word`` names (``@handle``, its id, or Slack's mention), as (id, handle)."""
        mention = _GROUP_MENTION.fullmatch(word)
        wanted_id = mention.group(1) if mention else word if _GROUP_ID.fullmatch(word) else None
        handle_match = None if wanted_id else _HANDLE.fullmatch(word)
        if wanted_id is None and handle_match is None:
            raise UserFacingError(f"`{_echo(word)}` is not a user group: write it as `@handle`. Nothing changed.")
        try:
            groups = client.usergroups_list().get("usergroups") or []
        except SlackApiError as exc:
            error = str(exc.response.get("error") or exc.response.status_code)
            hint = f" (the bot needs the `{_GROUP_ANSWER_SCOPE}` scope)" if error == "missing_scope" else ""
            raise UserFacingError(
                f"I couldn't read this workspace's user groups (Slack answered `{escape_mrkdwn(error)}`){hint}. "
                "Nothing changed."
            ) from None
        except TRANSPORT_ERRORS:
            raise UserFacingError("I couldn't reach Slack to read the user groups. Nothing changed.") from None
        for group in groups:
            if not isinstance(group, dict):
                continue
            group_id, handle = str(group.get("id") or ""), str(group.get("handle") or "")
            if (wanted_id and group_id == wanted_id) or (
                handle_match and handle.casefold() == handle_match.group(1).casefold()
            ):
                return group_id, handle or None
        raise UserFacingError(f"There is no user group `{_echo(word)}` in this workspace. Nothing changed.")


def access_routes(
    commands: AccessCommands,
) -> dict[str, tuple[SubcommandHelp, Callable[[list[str], Ack, dict[str, Any], WebClient, Respond], None]]]:
    """The /datastore subcommands of this module, with their help lines."""
    return {
        "access": (
            SubcommandHelp(
                "access",
                "access NAME each|everyone",
                "who sees what: each person their own Confluence access, or everyone the connecting account's",
            ),
            commands.access,
        ),
        "limit": (
            SubcommandHelp(
                "limit",
                "limit NAME channels #a #b | group @handle | none",
                "who may use it: only in some channels, only a user group's members, or everyone",
            ),
            commands.limit,
        ),
    }


def register(app: App, commands: AccessCommands) -> None:
    app.action(ActionId.ACCESS_CONFIRM_EVERYONE)(commands.confirm_everyone)
    app.action(ActionId.ACCESS_OFFER_SWITCH)(commands.offer_switch)
