"""Choosing who sees a datastore's content: the wizard's choice and its confirmation, the confirmation of
`/datastore access NAME everyone`, and the one-time DM offering per-person access (pure functions)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from bot.states import AccessMode
from bot.wizard.steps import Step, WizardSnapshot
from handlers.ids import ActionId, BlockId, CallbackId
from handlers.views.access import ACCOUNT, account_words
from handlers.views.blocks import button, context, escape_mrkdwn, fallback, option, plain, section
from handlers.views.limits import clip_plain
from handlers.views.wizard import modal, step_context

__all__ = [
    "EACH_LABEL",
    "access_mode_input",
    "access_summary",
    "account_tag",
    "confirm_access_view",
    "confirm_everyone_message",
    "everyone_label",
    "everyone_warning",
    "offer_message",
]

View = dict[str, Any]
Message = dict[str, Any]
EACH_LABEL = "Each person sees what they can see in Confluence"


def account_tag(account_name: str | None) -> str:
    """A short digest of the account a confirmation names, carried in its button: a click after the connecting
    account changed confirms nothing."""
    return hashlib.sha256((account_name or "").encode()).hexdigest()[:12]


def _plain_account(account_name: str | None, site: str) -> str:
    """The connecting account in plain text (option labels, confirm dialogs: no mrkdwn there)."""
    if account_name and account_name.strip():
        return clip_plain(account_name.strip(), ACCOUNT)
    return f"the account that connected {clip_plain(site, ACCOUNT)}" if site else "the connecting account"


def everyone_label(account_name: str | None, site: str) -> str:
    return f"Everyone in this workspace sees what {_plain_account(account_name, site)} can see"


def everyone_warning(account_name: str | None, site: str, name: str) -> str:
    """The confirmation's words (mrkdwn): what "everyone" means, naming the connecting account."""
    account = account_words(account_name, site)
    return (
        f"*Everyone in this Slack workspace* who searches *{escape_mrkdwn(name)}* will see what {account} can see "
        "in Confluence — titles, text and attachments of every page that account can open, including pages "
        "restricted to a few people. Confirm only if that is what you want."
    )


def access_mode_input(snapshot: WizardSnapshot, modes: Sequence[AccessMode], why_only: str | None) -> list[View]:
    """The "Grant access" step's choice of who sees what; "each" is the default whenever it is offered."""
    site = snapshot.connected_site or ""
    each = option(EACH_LABEL, AccessMode.EACH, "Results are filtered by each person's own Confluence access")
    everyone = option(
        everyone_label(snapshot.connected_account, site),
        AccessMode.EVERYONE,
        "Searched as the connecting account; you confirm this on the next screen",
    )
    offered = [each] if AccessMode.EACH in modes else []
    offered += [everyone] if AccessMode.EVERYONE in modes else []
    initial = everyone if snapshot.access_mode == AccessMode.EVERYONE or AccessMode.EACH not in modes else each
    blocks: list[View] = [
        {
            "type": "input",
            "block_id": BlockId.ACCESS_MODE,
            "label": plain("Who sees what in Slack?"),
            "element": {
                "type": "radio_buttons",
                "action_id": ActionId.ACCESS_MODE,
                "options": offered,
                "initial_option": initial,
            },
        }
    ]
    if why_only:
        blocks.append(context(escape_mrkdwn(why_only)))
    return blocks


def confirm_access_view(snapshot: WizardSnapshot) -> View:
    """Step 4b: "everyone" was chosen; confirm it, naming the connecting account, or go back."""
    warning = everyone_warning(snapshot.connected_account, snapshot.connected_site or "", snapshot.name or "")
    blocks = [
        step_context(Step.CONFIRM_ACCESS, "Grant access · Confirm"),
        section(f":warning: {warning}", block_id=BlockId.ACCESS_CONFIRM),
        {
            "type": "actions",
            "block_id": BlockId.ACCESS_CONFIRM_ACTIONS,
            "elements": [button("Back: each person sees their own", ActionId.ACCESS_BACK, value=snapshot.id)],
        },
    ]
    return modal(CallbackId.WIZARD_CONFIRM_ACCESS, snapshot.id, blocks, submit="Yes, everyone")


def access_summary(snapshot: WizardSnapshot) -> str:
    """The summary's "Who sees what" row (mrkdwn)."""
    if snapshot.access_mode == AccessMode.EVERYONE:
        account = account_words(snapshot.connected_account, snapshot.connected_site or "")
        return f"Everyone in this workspace sees what {account} can see"
    return EACH_LABEL


def _confirm_dialog(account_name: str | None, site: str) -> dict[str, Any]:
    text = f"Everyone in this workspace will see what {_plain_account(account_name, site)} can see in Confluence."
    return {
        "title": plain("Show everyone?", 100),
        "text": plain(text, 300),
        "confirm": plain("Yes, everyone", 30),
        "deny": plain("Cancel", 30),
        "style": "danger",
    }


def confirm_everyone_message(*, datastore_id: int, name: str, account_name: str | None, site: str) -> Message:
    """`/datastore access NAME everyone`: nothing changes until this button (and its dialog) is confirmed."""
    warning = everyone_warning(account_name, site, name)
    confirm = button(
        "Yes, everyone sees what the account sees",
        ActionId.ACCESS_CONFIRM_EVERYONE,
        value=f"{datastore_id}:{account_tag(account_name)}",
    )
    confirm["style"] = "danger"
    confirm["confirm"] = _confirm_dialog(account_name, site)
    return {
        "response_type": "ephemeral",
        "text": fallback(warning),
        "blocks": [
            section(f":warning: {warning}", block_id=BlockId.ACCESS_CONFIRM),
            {"type": "actions", "block_id": BlockId.ACCESS_CONFIRM_ACTIONS, "elements": [confirm]},
            context("Nothing changes until you confirm. Ignore this message to keep the current setting."),
        ],
    }


def _typed(name: str) -> str:
    """The name as it is typed in a command (quoted when it has spaces), escaped."""
    return escape_mrkdwn(f'"{name}"' if " " in name else name)


def offer_message(*, datastore_id: int, name: str, account_name: str | None, site: str) -> Message:
    """The one DM to the creator of a datastore that predates access modes."""
    account = account_words(account_name, site)
    text = (
        f"Your datastore *{escape_mrkdwn(name)}* is searched as {account}: everyone in this workspace sees what "
        "that account can see in Confluence, restricted pages included. You can switch it so that each person "
        "sees only what they can see in Confluence."
    )
    switch = button("Switch to each person's own access", ActionId.ACCESS_OFFER_SWITCH, value=str(datastore_id))
    switch["style"] = "primary"
    return {
        "text": fallback(text),
        "blocks": [
            section(text),
            {"type": "actions", "block_id": BlockId.ACCESS_OFFER_ACTIONS, "elements": [switch]},
            context(f"Or later: `/datastore access {_typed(name)} each`. Only you or a workspace admin can change it."),
        ],
    }
