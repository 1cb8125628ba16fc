"""Views of the /datastore create wizard, steps 1–3 (one pure function per step)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from bot.wizard.steps import Step, WizardSnapshot, is_wizard_id
from handlers.ids import ActionId, BlockId, CallbackId, MethodValue, TopOffValue
from handlers.payloads import metadata_object
from handlers.views.blocks import button, context, escape_mrkdwn, link, option, plain, section, text_input
from handlers.views.limits import MODAL_TEXT
from handlers.views.top_off import top_off_fields

__all__ = [
    "MAX_NAME_LENGTH",
    "STEP_COUNT",
    "WIZARD_TITLE",
    "connect_view",
    "connection_setup_view",
    "modal",
    "name_step_view",
    "parse_wizard_metadata",
    "review_access_view",
    "site_url_view",
    "wizard_metadata",
]

WIZARD_TITLE = "Create datastore"
MAX_NAME_LENGTH = 64
STEP_COUNT = 5
View = dict[str, Any]


def wizard_metadata(wizard_id: str, starter: Mapping[str, str] | None = None) -> str:
    """``private_metadata`` carries only ids: the wizard's, and on step 1 the sealed starter
    (``bot.wizard.starter``: team, enterprise, user, channel and their MAC)."""
    data = {"w": wizard_id, **(starter or {})}
    return json.dumps(data, separators=(",", ":"))


def parse_wizard_metadata(metadata: object) -> str | None:
    """The wizard id in ``private_metadata``, if it holds one that looks like a wizard id."""
    wizard_id = (metadata_object(metadata) or {}).get("w")
    return wizard_id if is_wizard_id(wizard_id) else None


def step_context(step: Step, label: str) -> dict[str, Any]:
    return context(f"Step {step.number} of {STEP_COUNT} · *{label}*", block_id=BlockId.WIZARD_STEP)


def modal(
    callback_id: str,
    wizard_id: str,
    blocks: list[dict[str, Any]],
    *,
    submit: str | None,
    starter: Mapping[str, str] | None = None,
) -> View:
    view: View = {
        "type": "modal",
        "callback_id": callback_id,
        "notify_on_close": True,
        "private_metadata": wizard_metadata(wizard_id, starter),
        "title": plain(WIZARD_TITLE, MODAL_TEXT),
        "close": plain("Cancel", MODAL_TEXT),
        "blocks": blocks,
    }
    if submit is not None:
        view["submit"] = plain(submit, MODAL_TEXT)
    return view


def name_step_view(
    *,
    wizard_id: str,
    name: str = "",
    notice: str | None = None,
    starter: Mapping[str, str] | None = None,
) -> View:
    """Step 1, "Set data source name & type": the name and the (single) connection method."""
    method = option("Third-Party Connection", MethodValue.THIRD_PARTY, "Connect Confluence Cloud and keep it in sync")
    blocks = [step_context(Step.NAME, "Set data source name &amp; type")]
    if notice:
        blocks.append(section(f":warning: {escape_mrkdwn(notice, newlines=True)}", block_id=BlockId.NOTICE))
    blocks += [
        text_input(
            BlockId.NAME,
            ActionId.NAME_INPUT,
            "Name",
            initial=name[:MAX_NAME_LENGTH] or None,
            placeholder="e.g. eng-wiki",
            max_length=MAX_NAME_LENGTH,
            hint="Unique in this workspace. Letters, digits, spaces, - _ and . — up to 64.",
        ),
        {
            "type": "input",
            "block_id": BlockId.METHOD,
            "label": plain("Method"),
            "element": {
                "type": "radio_buttons",
                "action_id": ActionId.METHOD_SELECT,
                "options": [method],
                "initial_option": method,
            },
        },
        context("Source: *Confluence* (Atlassian Cloud)", block_id=BlockId.SOURCE),
    ]
    return modal(CallbackId.WIZARD_NAME, wizard_id, blocks, submit="Next", starter=starter)


def connection_setup_view(snapshot: WizardSnapshot) -> View:
    """Step 2, "Connection Setup": the credit balance and auto top-off, or "Skip for now"."""
    configure = option("Set up auto top-off", TopOffValue.CONFIGURE, "Add credits automatically when low")
    skip = option("Skip for now", TopOffValue.SKIP, "You can set it up later with /datastore credits")
    choice = snapshot.top_off_choice or (TopOffValue.CONFIGURE if snapshot.top_off else None)
    radio: dict[str, Any] = {"type": "radio_buttons", "action_id": ActionId.TOPOFF_CHOICE, "options": [configure, skip]}
    if choice is not None:
        radio["initial_option"] = configure if choice == TopOffValue.CONFIGURE else skip
    blocks = [
        step_context(Step.CONNECTION_SETUP, "Connection Setup"),
        section(
            f"*Ingestion credits:* {snapshot.credit_balance:,} available in this workspace. "
            "Each page synced uses one credit.\n"
            "Auto top-off is recommended, so a sync does not stop halfway when credits run out.",
            block_id=BlockId.CREDITS,
        ),
        {
            "type": "input",
            "block_id": BlockId.TOPOFF_CHOICE,
            "label": plain("Auto top-off"),
            "element": radio,
            "dispatch_action": True,
        },
    ]
    if choice == TopOffValue.CONFIGURE:
        blocks += top_off_fields(snapshot.top_off)
    return modal(CallbackId.WIZARD_CONNECTION_SETUP, snapshot.id, blocks, submit="Next")


def review_access_view(snapshot: WizardSnapshot, *, access_lines: Sequence[str], terms_url: str) -> View:
    """Step 3a, "Review access levels": exactly what the bot may do in Confluence, and the terms."""
    bullets = "\n".join(f"• {line}" for line in access_lines)
    blocks = [
        step_context(Step.REVIEW_ACCESS, "Connect Confluence · Review access levels"),
        section(
            f"*Datastore Bot will be able to:*\n{bullets}\n\n*Read-only.* It cannot create, change or delete "
            "anything in Confluence, and it only sees what the account you connect with can see.",
            block_id=BlockId.ACCESS,
        ),
        section(
            "In the next steps you choose what to share and who sees it in Slack: each person what they can see "
            "in Confluence (the default), or everyone what the connecting account can see. "
            f"By continuing you accept the {link(terms_url, 'end-user terms')}.",
            block_id=BlockId.TERMS,
        ),
    ]
    return modal(CallbackId.WIZARD_REVIEW_ACCESS, snapshot.id, blocks, submit="Next")


def site_url_view(snapshot: WizardSnapshot) -> View:
    """Step 3b, "Enter additional information": the Confluence site URL."""
    blocks = [
        step_context(Step.SITE_URL, "Connect Confluence · Enter additional information"),
        text_input(
            BlockId.SITE_URL,
            ActionId.SITE_URL,
            "Confluence site URL",
            initial=(snapshot.site_url or "").removeprefix("https://") or None,
            placeholder="acme.atlassian.net",
            max_length=255,
            hint="Your Confluence Cloud address, like acme.atlassian.net. Data Center is not supported yet.",
        ),
    ]
    return modal(CallbackId.WIZARD_SITE_URL, snapshot.id, blocks, submit="Next")


def connect_view(snapshot: WizardSnapshot) -> View:
    """Step 3c, "Connect Confluence": the consent link, then waiting (or what went wrong and a retry)."""
    site = (snapshot.site_url or "").removeprefix("https://")
    blocks: list[dict[str, Any]] = [
        step_context(Step.CONNECT, "Connect Confluence"),
        section(
            f"Connect *{escape_mrkdwn(site)}*: click *Open window*, log in to Atlassian if asked, "
            "review the permissions and click *Accept*.",
            block_id=BlockId.CONNECT,
        ),
    ]
    if snapshot.oauth_error:
        error = escape_mrkdwn(snapshot.oauth_error, newlines=True)
        blocks.append(section(f":warning: {error}", block_id=BlockId.CONNECT_ERROR))
        actions = [
            button("Try again", ActionId.TRY_AGAIN, value=snapshot.id, style="primary"),
            button("Change site", ActionId.CHANGE_SITE, value=snapshot.id),
        ]
        blocks.append({"type": "actions", "block_id": BlockId.CONNECT_ACTIONS, "elements": actions})
        if snapshot.offered_sites:
            offers = [
                button(f"Use {url.removeprefix('https://')} instead", ActionId.USE_SITE + f"-{i}", value=url)
                for i, url in enumerate(snapshot.offered_sites[:5])
            ]
            blocks.append({"type": "actions", "block_id": BlockId.OFFERED_SITES, "elements": offers})
        return modal(CallbackId.WIZARD_CONNECT, snapshot.id, blocks, submit=None)
    actions = [button("Change site", ActionId.CHANGE_SITE, value=snapshot.id)]
    if snapshot.authorize_url:
        actions.insert(0, button("Open window", ActionId.OPEN_WINDOW, url=snapshot.authorize_url, style="primary"))
    blocks.append({"type": "actions", "block_id": BlockId.CONNECT_ACTIONS, "elements": actions})
    blocks.append(
        context(
            ":hourglass_flowing_sand: Waiting for you to approve access in your browser… "
            "This window moves on by itself. The link works for 15 minutes.",
            block_id=BlockId.CONNECT_STATUS,
        )
    )
    return modal(CallbackId.WIZARD_CONNECT, snapshot.id, blocks, submit=None)
