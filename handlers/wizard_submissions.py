"""view_submission listeners of the wizard: validate inside Slack's 3 s, then update to the next step."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.wizard.finish import CreatedDatastore
from bot.wizard.inputs import InvalidInput, parse_top_off
from bot.wizard.service import NotYourWizard, WizardGone
from bot.wizard.steps import Step, WizardSnapshot
from handlers.announce import announce_datastore
from handlers.ids import ActionId, BlockId, CallbackId, ShareValue, TopOffValue
from handlers.view_state import FIELD_BLOCKS, Values, selected_value, text_value
from handlers.views.wizard import (
    name_step_view,
    parse_channel_metadata,
    parse_starter_metadata,
    parse_wizard_metadata,
)
from handlers.views.wizard_finish import ended_view
from handlers.wizard_open import WizardDeps

__all__ = ["register"]

logger = logging.getLogger(__name__)


class WizardSubmissions:
    def __init__(self, deps: WizardDeps) -> None:
        self.deps = deps

    def _advance(
        self, ack: Ack, view: dict[str, Any], step: Callable[[str], WizardSnapshot], main_block: str | None
    ) -> WizardSnapshot | None:
        """Run one step; answer Slack with the next view, inline errors, or why the wizard ended."""
        wizard_id = parse_wizard_metadata(view.get("private_metadata"))
        if wizard_id is None:
            ack(response_action="update", view=ended_view("This setup could not be found. Start again."))
            return None
        try:
            snapshot = step(wizard_id)
        except InvalidInput as exc:
            block = FIELD_BLOCKS.get(exc.field, main_block or "")
            ack(response_action="errors", errors={block: exc.message})
            return None
        except NotYourWizard:
            message = "Only the person who started this setup can continue it."
            if main_block is not None:
                ack(response_action="errors", errors={main_block: message})
            else:
                ack(response_action="update", view=ended_view(message))
            return None
        except WizardGone as exc:
            ack(response_action="update", view=ended_view(str(exc)))
            return None
        ack(response_action="update", view=self.deps.render(snapshot))
        return snapshot

    def name(self, ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        raw = text_value(view["state"]["values"], BlockId.NAME, ActionId.NAME_INPUT) or ""
        user = body["user"]["id"]
        team = body["user"].get("team_id") or body["team"]["id"]
        metadata = view.get("private_metadata")
        channel = parse_channel_metadata(metadata)
        starter = parse_starter_metadata(metadata) or user

        def step(wizard_id: str) -> WizardSnapshot:
            self.deps.wizards.start(team_id=team, user_id=starter, channel_id=channel, wizard_id=wizard_id)
            return self.deps.wizards.submit_name(wizard_id, user, raw)

        self._advance(ack, view, step, BlockId.NAME)

    def connection_setup(self, ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        values: Values = view["state"]["values"]
        user = body["user"]["id"]
        choice = selected_value(values, BlockId.TOPOFF_CHOICE, ActionId.TOPOFF_CHOICE)

        def step(wizard_id: str) -> WizardSnapshot:
            if choice is None:
                raise InvalidInput("top_off", "Choose “Set up auto top-off” or “Skip for now”.")
            if choice == TopOffValue.SKIP:
                return self.deps.wizards.submit_connection_setup(wizard_id, user, None)
            if BlockId.TOPOFF_THRESHOLD not in values:
                self.deps.wizards.choose_top_off(wizard_id, user, TopOffValue.CONFIGURE)
                raise InvalidInput("top_off", "Fill in the auto top-off amounts that appear below, then click Next.")
            settings = parse_top_off(
                text_value(values, BlockId.TOPOFF_THRESHOLD, ActionId.TOPOFF_THRESHOLD),
                text_value(values, BlockId.TOPOFF_AMOUNT, ActionId.TOPOFF_AMOUNT),
                text_value(values, BlockId.TOPOFF_CAP, ActionId.TOPOFF_CAP),
            )
            return self.deps.wizards.submit_connection_setup(wizard_id, user, settings)

        self._advance(ack, view, step, BlockId.TOPOFF_CHOICE)

    def review_access(self, ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        user = body["user"]["id"]
        self._advance(ack, view, lambda w: self.deps.wizards.submit_review(w, user), None)

    def site_url(self, ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        raw = text_value(view["state"]["values"], BlockId.SITE_URL, ActionId.SITE_URL) or ""
        user = body["user"]["id"]
        configured = bool(self.deps.services.settings.atlassian_client_id)

        def step(wizard_id: str) -> WizardSnapshot:
            if not configured:
                raise InvalidInput(
                    "site_url",
                    "Confluence is not set up on this bot yet: ask its operator to set "
                    "ATLASSIAN_CLIENT_ID and ATLASSIAN_CLIENT_SECRET.",
                )
            self.deps.wizards.submit_site(wizard_id, user, raw)
            return self.deps.finish.connect_snapshot(wizard_id, user)

        self._advance(ack, view, step, BlockId.SITE_URL)

    def grant_access(self, ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        values: Values = view["state"]["values"]
        user = body["user"]["id"]
        share = selected_value(values, BlockId.SHARE_CHOICE, ActionId.SHARE_CHOICE)
        picked = values.get(BlockId.SPACES, {}).get(ActionId.SPACES, {}).get("selected_options") or []
        space_ids = [str(item["value"]) for item in picked]

        def step(wizard_id: str) -> WizardSnapshot:
            if share is None:
                raise InvalidInput("share", "Choose “Share specific content” or “Share all content”.")
            return self.deps.finish.submit_grant(wizard_id, user, share == ShareValue.ALL, space_ids)

        self._advance(ack, view, step, BlockId.SHARE_CHOICE)

    def summary(self, ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        wizard_id = parse_wizard_metadata(view.get("private_metadata"))
        user = body["user"]
        if wizard_id is None:
            ack(response_action="update", view=ended_view("This setup could not be found. Start again."))
            return
        try:
            created = self.deps.finish.create(wizard_id, user["id"], user.get("name") or user.get("username"))
        except InvalidInput as exc:
            snapshot = self.deps.wizards.back_to(wizard_id, user["id"], Step.NAME)
            ack(
                response_action="update",
                view=name_step_view(wizard_id=wizard_id, name=snapshot.name or "", notice=exc.message),
            )
            return
        except (WizardGone, NotYourWizard) as exc:
            ack(response_action="update", view=ended_view(str(exc)))
            return
        ack(response_action="clear")
        if created.created_now:
            self._announce(client, created, user["id"])

    def _announce(self, client: WebClient, created: CreatedDatastore, user_id: str) -> None:
        announce_datastore(client, self.deps.services, created, creator_id=user_id)


def register(app: App, deps: WizardDeps) -> None:
    submissions = WizardSubmissions(deps)
    app.view(CallbackId.WIZARD_NAME)(submissions.name)
    app.view(CallbackId.WIZARD_CONNECTION_SETUP)(submissions.connection_setup)
    app.view(CallbackId.WIZARD_REVIEW_ACCESS)(submissions.review_access)
    app.view(CallbackId.WIZARD_SITE_URL)(submissions.site_url)
    app.view(CallbackId.WIZARD_GRANT_ACCESS)(submissions.grant_access)
    app.view(CallbackId.WIZARD_SUMMARY)(submissions.summary)
