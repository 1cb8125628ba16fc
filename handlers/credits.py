"""`/datastore credits`: balance, top-off and ledger for everyone; changing auto top-off is for admins."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.datastores.credits import Credits
from bot.settings import Settings
from bot.wizard.inputs import InvalidInput, TopOffSettings, parse_top_off, require_visible
from handlers.ids import ActionId, BlockId, CallbackId
from handlers.payloads import metadata_object, team_id_of
from handlers.permissions import Permissions
from handlers.view_state import FIELD_BLOCKS, Values, text_value
from handlers.views.credits import credits_message, top_off_modal
from handlers.views.delete import notice_view
from handlers.views.fallback import UNREADABLE_FORM_TEXT, ended_form_view

__all__ = ["FOREIGN_TOP_OFF", "CreditsHandlers", "register"]

logger = logging.getLogger(__name__)

CHANGE = "change auto top-off"
FOREIGN_TOP_OFF = "These settings belong to another workspace. Nothing changed."


def _top_off_from(values: Values) -> TopOffSettings | None:
    """The modal's settings; threshold and amount both left empty turn auto top-off off."""
    threshold = text_value(values, BlockId.TOPOFF_THRESHOLD, ActionId.TOPOFF_THRESHOLD)
    amount = text_value(values, BlockId.TOPOFF_AMOUNT, ActionId.TOPOFF_AMOUNT)
    cap = text_value(values, BlockId.TOPOFF_CAP, ActionId.TOPOFF_CAP)
    for field, label, raw in (
        ("threshold", "threshold", threshold),
        ("amount", "top-off amount", amount),
        ("monthly_cap", "monthly cap", cap),
    ):
        require_visible(field, label, raw)  # before "empty": strip() would make a lone control character vanish
    if not (threshold or "").strip() and not (amount or "").strip():
        if (cap or "").strip():
            raise InvalidInput(
                "threshold", "Fill in the threshold and the amount too, or empty the cap to turn it off."
            )
        return None
    return parse_top_off(threshold, amount, cap)


class CreditsHandlers:
    def __init__(self, credits: Credits, permissions: Permissions, settings: Settings) -> None:
        self.credits, self.permissions, self.settings = credits, permissions, settings

    def command(self, args: list[str], ack: Ack, command: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()
        overview = self.credits.overview(command["team_id"])
        admin = self.permissions.is_admin(client, team_id=command["team_id"], user_id=command["user_id"])
        refusal = None if admin else self.permissions.admin_refusal(CHANGE, attempted=False)
        respond(**credits_message(overview, cost_per_page=self.settings.credits_per_page, change_refusal=refusal))

    def change_clicked(self, ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()
        if not body.get("response_url"):  # the button lives only in the ephemeral /datastore credits reply
            logger.info("Change auto top-off: ignored a click without a response_url")
            return
        team_id = team_id_of(body)
        if not self.permissions.is_admin(client, team_id=team_id, user_id=body["user"]["id"]):
            respond(response_type="ephemeral", replace_original=False, text=self.permissions.admin_refusal(CHANGE))
            return
        client.views_open(trigger_id=body["trigger_id"], view=top_off_modal(self.credits.overview(team_id)))

    def submitted(self, ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        # The workspace is the submitter's own: the modal's metadata only says which one it was opened for.
        metadata = metadata_object(view.get("private_metadata"))
        team_id, user_id = team_id_of(body), body["user"]["id"]
        if metadata is None:
            logger.info("auto top-off: the form's metadata is not what the bot writes")
            ack(response_action="update", view=ended_form_view(UNREADABLE_FORM_TEXT))
            return
        if metadata.get("t") not in (None, team_id):
            ack(response_action="update", view=notice_view(FOREIGN_TOP_OFF, title="Auto top-off"))
            return
        try:
            top_off = _top_off_from(view["state"]["values"])
        except InvalidInput as exc:
            ack(response_action="errors", errors={FIELD_BLOCKS[exc.field]: exc.message})
            return
        if not self.permissions.is_admin(client, team_id=team_id, user_id=user_id):
            ack(
                response_action="update", view=notice_view(self.permissions.admin_refusal(CHANGE), title="Auto top-off")
            )
            return
        resumed = self.credits.set_top_off(team_id=team_id, user_id=user_id, top_off=top_off)
        if top_off is None:
            text = "Auto top-off is *off*. A sync pauses when credits run out, until some are added."
        else:
            cap = f", at most {top_off.monthly_cap:,} a month" if top_off.monthly_cap else ""
            text = f"Auto top-off is *on*: below {top_off.threshold:,} credits, {top_off.amount:,} are added{cap}."
            if resumed:
                syncs = (
                    "1 sync paused for credits resumes"
                    if resumed == 1
                    else f"{resumed} syncs paused for credits resume"
                )
                text += f"\n{syncs} now."
        ack(response_action="update", view=notice_view(text, title="Auto top-off"))


def register(app: App, handlers: CreditsHandlers) -> None:
    app.action(ActionId.CREDITS_CHANGE)(handlers.change_clicked)
    app.view(CallbackId.CREDITS_TOP_OFF)(handlers.submitted)
