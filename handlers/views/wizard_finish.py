"""Views of the /datastore create wizard, steps 4–5, plus resume, ended and the "continue" DM."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.states import AccessMode
from bot.wizard.steps import Step, WizardSnapshot
from handlers.ids import ActionId, BlockId, CallbackId, ShareValue
from handlers.views.access_choice import access_mode_input, access_summary
from handlers.views.blocks import button, context, escape_mrkdwn, fallback, fields, option, plain, section
from handlers.views.limits import MODAL_TEXT, clip_plain
from handlers.views.wizard import STEP_COUNT, WIZARD_TITLE, modal, step_context

__all__ = ["continue_setup_message", "ended_view", "grant_access_view", "resume_view", "summary_view", "top_off_text"]

View = dict[str, Any]
#: How much of one space name the summary lists (ten of them fit a 2,000-character field).
SPACE_NAME = 150


def _space_option(space_id: str, key: str, name: str) -> dict[str, Any]:
    label = f"{name} ({key})" if key else name
    return option(label, space_id)


def grant_access_view(
    snapshot: WizardSnapshot, *, modes: Sequence[AccessMode] = tuple(AccessMode), why_only: str | None = None
) -> View:
    """Step 4, "Grant access": share specific spaces (type-ahead picker) or all content, and who sees what
    (``modes`` offered; ``why_only`` says why only some are)."""
    specific = option("Share specific content", ShareValue.SPECIFIC, "Pick the spaces to sync")
    everything = option("Share all content", ShareValue.ALL, "Every space the connected account can see")
    radio: dict[str, Any] = {
        "type": "radio_buttons",
        "action_id": ActionId.SHARE_CHOICE,
        "options": [specific, everything],
    }
    share_all = snapshot.share_all
    if share_all is not None:
        radio["initial_option"] = everything if share_all else specific
    who = f" as *{escape_mrkdwn(snapshot.connected_account)}*" if snapshot.connected_account else ""
    blocks: list[dict[str, Any]] = [
        step_context(Step.GRANT_ACCESS, "Grant access"),
        section(
            f"Connected to *{escape_mrkdwn(snapshot.connected_site or '')}*{who} :white_check_mark:",
            block_id=BlockId.CONNECTED,
        ),
        {
            "type": "input",
            "block_id": BlockId.SHARE_CHOICE,
            "label": plain("What should this datastore contain?"),
            "element": radio,
            "dispatch_action": True,
        },
    ]
    if share_all is not True:
        picker: dict[str, Any] = {
            "type": "multi_external_select",
            "action_id": ActionId.SPACES,
            "placeholder": plain("Type to search spaces"),
            "min_query_length": 0,
        }
        chosen = [_space_option(s.id, s.key, s.name) for s in snapshot.spaces]
        if chosen:
            picker["initial_options"] = chosen
        blocks.append(
            {
                "type": "input",
                "block_id": BlockId.SPACES,
                "label": plain("Spaces"),
                "element": picker,
                "optional": share_all is None,
                "hint": plain("Only the spaces you pick are synced and searchable."),
            }
        )
    blocks += access_mode_input(snapshot, modes, why_only)
    return modal(CallbackId.WIZARD_GRANT_ACCESS, snapshot.id, blocks, submit="Finish setup")


def top_off_text(snapshot: WizardSnapshot) -> str:
    top_off = snapshot.top_off
    if snapshot.top_off_choice != "configured" or top_off is None:
        return "Skipped for now"
    cap = f", up to {top_off.monthly_cap:,} a month" if top_off.monthly_cap else ""
    return f"Add {top_off.amount:,} credits when below {top_off.threshold:,}{cap}"


def _content_text(snapshot: WizardSnapshot) -> str:
    if snapshot.share_all:
        return "All content the connected account can see"
    names = [escape_mrkdwn(clip_plain(s.name, SPACE_NAME)) for s in snapshot.spaces]
    shown = ", ".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")
    return f"{len(names)} space{'s' if len(names) != 1 else ''}: {shown}"


def summary_view(snapshot: WizardSnapshot) -> View:
    """Step 5, "Success!": everything chosen, and Create."""
    rows = [
        ("Name", escape_mrkdwn(snapshot.name or "")),
        ("Source", "Confluence (Third-Party Connection)"),
        ("Site", escape_mrkdwn(snapshot.connected_site or "")),
        ("Connected account", escape_mrkdwn(snapshot.connected_account or "unknown")),
        ("Content", _content_text(snapshot)),
        ("Who sees what", access_summary(snapshot)),
        ("Auto top-off", top_off_text(snapshot)),
    ]
    blocks = [
        step_context(Step.SUMMARY, "Success!"),
        section(
            "*Success!* Everything is set. Review and click *Create* to start the first sync.", block_id=BlockId.NOTICE
        ),
        fields([f"*{label}*\n{value}" for label, value in rows], block_id=BlockId.SUMMARY),
        context("The sync runs in the background; its progress shows in a thread in the channel."),
    ]
    return modal(CallbackId.WIZARD_SUMMARY, snapshot.id, blocks, submit="Create")


def resume_view(*, new_wizard_id: str, existing: WizardSnapshot, started: datetime) -> View:
    """Offered by /datastore create while an earlier setup is still open."""
    name = escape_mrkdwn(existing.name or "an unnamed datastore")
    blocks = [
        section(
            f"You have a setup in progress: *{name}* — step {existing.step.number} of {STEP_COUNT}, "
            f"started {started:%d %b at %H:%M} UTC.",
            block_id=BlockId.NOTICE,
        ),
        {
            "type": "actions",
            "block_id": BlockId.RESUME_ACTIONS,
            "elements": [
                button("Resume", ActionId.RESUME, value=existing.id, style="primary"),
                button("Start over", ActionId.START_OVER, value=existing.id),
            ],
        },
    ]
    return modal(CallbackId.WIZARD_RESUME, new_wizard_id, blocks, submit=None)


def ended_view(message: str) -> View:
    return {
        "type": "modal",
        "callback_id": CallbackId.WIZARD_ENDED,
        "title": plain(WIZARD_TITLE, MODAL_TEXT),
        "close": plain("Close", MODAL_TEXT),
        "blocks": [section(escape_mrkdwn(message, newlines=True), block_id=BlockId.NOTICE)],
    }


def continue_setup_message(snapshot: WizardSnapshot, *, link_expired: bool = False) -> dict[str, Any]:
    """DM sent when consent finished (or its link expired) after the modal was closed: a button reopens
    the wizard, at the Connect step with a fresh link when it had expired."""
    name = escape_mrkdwn(snapshot.name or "your datastore")
    if link_expired:
        text = (
            f"The link to connect Confluence for *{name}* expired (links work for 15 minutes). "
            "Continue the setup to get a fresh one."
        )
    elif snapshot.oauth_error:
        text = f"Connecting Confluence for *{name}* did not work: {escape_mrkdwn(snapshot.oauth_error, newlines=True)}"
    else:
        text = (
            f"Confluence is connected for *{name}* ({escape_mrkdwn(snapshot.connected_site or '')}). "
            "Continue the setup where you left off."
        )
    return {
        "text": fallback(text),
        "blocks": [
            section(text),
            {
                "type": "actions",
                "block_id": BlockId.CONTINUE_ACTIONS,
                "elements": [button("Continue setup", ActionId.CONTINUE_SETUP, value=snapshot.id, style="primary")],
            },
        ],
    }
