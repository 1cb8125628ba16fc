"""view_submission listeners of the wizard: validate inside Slack's 3 s, then update to the next step.

Every answer is a view answer: the next step, inline ``errors``, or an ended view. A body the bot cannot
read (no wizard id in ``private_metadata``, no readable identity) or a wizard that is not the submitter's
(the same user id from another workspace or organisation is someone else) changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.actors import Actor
from bot.states import AccessMode
from bot.wizard.finish import CreatedDatastore
from bot.wizard.inputs import InvalidInput, parse_top_off
from bot.wizard.service import NOT_FOUND, NOT_YOURS, NotYourWizard, WizardGone
from bot.wizard.steps import Step, WizardSnapshot
from handlers.actors import actor_of
from handlers.announce import announce_datastore
from handlers.ids import ActionId, BlockId, CallbackId, ShareValue, TopOffValue
from handlers.view_state import FIELD_BLOCKS, Values, selected_value, selected_values, state_values, text_value
from handlers.views.wizard import name_step_view, parse_wizard_metadata
from handlers.views.wizard_finish import ended_view
from handlers.wizard_open import WizardDeps

__all__ = ["register"]

logger = logging.getLogger(__name__)

#: Width of datastores.created_by_name.
MAX_USER_NAME = 255

StepFn = Callable[[str, Actor], WizardSnapshot]


def _view(body: dict[str, Any], view: object) -> dict[str, Any]:
    found = view if isinstance(view, dict) else body.get("view")
    return found if isinstance(found, dict) else {}


def _user_name(body: dict[str, Any]) -> str | None:
    user = body.get("user")
    if not isinstance(user, dict):
        return None
    name = user.get("name") or user.get("username")
    return name[:MAX_USER_NAME] if isinstance(name, str) and name.isprintable() else None


class WizardSubmissions:
    def __init__(self, deps: WizardDeps) -> None:
        self.deps = deps

    def _target(self, ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> tuple[str, Actor] | None:
        """The wizard id and the submitter, or None after answering with an ended view."""
        wizard_id = parse_wizard_metadata(view.get("private_metadata"))
        actor = actor_of(body)
        if wizard_id is None or actor is None:
            logger.info("wizard submission refused: no readable wizard id or identity in the body")
            ack(response_action="update", view=ended_view(NOT_FOUND))
            return None
        return wizard_id, actor

    def _advance(
        self,
        ack: Ack,
        body: dict[str, Any],
        view: dict[str, Any],
        step: StepFn,
        main_block: str | None,
        prepare: Callable[[str, Actor], None] | None = None,
    ) -> WizardSnapshot | None:
        """Check the wizard is the submitter's (after ``prepare``), run one step; answer Slack with the next
        view, inline errors, or why the wizard ended."""
        target = self._target(ack, body, view)
        if target is None:
            return None
        try:
            if prepare is not None:
                prepare(*target)
            self.deps.wizards.check(*target)
            snapshot = step(*target)
        except InvalidInput as exc:
            block = FIELD_BLOCKS.get(exc.field, main_block or "")
            ack(response_action="errors", errors={block: exc.message})
            return None
        except NotYourWizard as exc:
            if exc.exists and main_block is not None:
                ack(response_action="errors", errors={main_block: str(exc)})
            else:
                ack(response_action="update", view=ended_view(str(exc)))
            return None
        except WizardGone as exc:
            ack(response_action="update", view=ended_view(str(exc)))
            return None
        ack(response_action="update", view=self.deps.render(snapshot))
        return snapshot

    def name(self, ack: Ack, body: dict[str, Any], view: Any) -> None:
        view = _view(body, view)
        raw = text_value(state_values(view), BlockId.NAME, ActionId.NAME_INPUT) or ""
        metadata = view.get("private_metadata")

        def record(wizard_id: str, actor: Actor) -> None:
            starter = self.deps.starter_of(wizard_id, metadata)
            if starter is not None:
                # Step 1 may be submitted before the row exists: record it, but only for whom it was opened.
                if starter.actor != actor:
                    raise NotYourWizard(NOT_YOURS)
                self.deps.wizards.start(actor=actor, channel_id=starter.channel_id, wizard_id=wizard_id)

        def step(wizard_id: str, actor: Actor) -> WizardSnapshot:
            return self.deps.wizards.submit_name(wizard_id, actor, raw)

        self._advance(ack, body, view, step, BlockId.NAME, prepare=record)

    def connection_setup(self, ack: Ack, body: dict[str, Any], view: Any) -> None:
        view = _view(body, view)
        values: Values = state_values(view)
        choice = selected_value(values, BlockId.TOPOFF_CHOICE, ActionId.TOPOFF_CHOICE)

        def step(wizard_id: str, actor: Actor) -> WizardSnapshot:
            if choice not in (TopOffValue.CONFIGURE, TopOffValue.SKIP):
                raise InvalidInput("top_off", "Choose “Set up auto top-off” or “Skip for now”.")
            if choice == TopOffValue.SKIP:
                return self.deps.wizards.submit_connection_setup(wizard_id, actor, None)
            if BlockId.TOPOFF_THRESHOLD not in values:
                self.deps.wizards.choose_top_off(wizard_id, actor, TopOffValue.CONFIGURE)
                raise InvalidInput("top_off", "Fill in the auto top-off amounts that appear below, then click Next.")
            settings = parse_top_off(
                text_value(values, BlockId.TOPOFF_THRESHOLD, ActionId.TOPOFF_THRESHOLD),
                text_value(values, BlockId.TOPOFF_AMOUNT, ActionId.TOPOFF_AMOUNT),
                text_value(values, BlockId.TOPOFF_CAP, ActionId.TOPOFF_CAP),
            )
            return self.deps.wizards.submit_connection_setup(wizard_id, actor, settings)

        self._advance(ack, body, view, step, BlockId.TOPOFF_CHOICE)

    def review_access(self, ack: Ack, body: dict[str, Any], view: Any) -> None:
        self._advance(ack, body, _view(body, view), self.deps.wizards.submit_review, None)

    def site_url(self, ack: Ack, body: dict[str, Any], view: Any) -> None:
        view = _view(body, view)
        raw = text_value(state_values(view), BlockId.SITE_URL, ActionId.SITE_URL) or ""
        configured = bool(self.deps.services.settings.atlassian_client_id)

        def step(wizard_id: str, actor: Actor) -> WizardSnapshot:
            if not configured:
                raise InvalidInput(
                    "site_url",
                    "Confluence is not set up on this bot yet: ask its operator to set "
                    "ATLASSIAN_CLIENT_ID and ATLASSIAN_CLIENT_SECRET.",
                )
            self.deps.wizards.submit_site(wizard_id, actor, raw)
            return self.deps.finish.connect_snapshot(wizard_id, actor)

        self._advance(ack, body, view, step, BlockId.SITE_URL)

    def grant_access(self, ack: Ack, body: dict[str, Any], view: Any) -> None:
        view = _view(body, view)
        values: Values = state_values(view)
        share = selected_value(values, BlockId.SHARE_CHOICE, ActionId.SHARE_CHOICE)
        space_ids = selected_values(values, BlockId.SPACES, ActionId.SPACES)
        chosen = selected_value(values, BlockId.ACCESS_MODE, ActionId.ACCESS_MODE)

        def step(wizard_id: str, actor: Actor) -> WizardSnapshot:
            if share not in (ShareValue.ALL, ShareValue.SPECIFIC):
                raise InvalidInput("share", "Choose “Share specific content” or “Share all content”.")
            if chosen not in (None, AccessMode.EACH, AccessMode.EVERYONE):
                raise InvalidInput("access", "Choose who sees what: each person, or everyone.")
            # Nothing chosen (a client that left the radio out) is the default, the narrower "each".
            access = AccessMode.EVERYONE if chosen == AccessMode.EVERYONE else AccessMode.EACH
            return self.deps.finish.submit_grant(wizard_id, actor, share == ShareValue.ALL, space_ids, access)

        self._advance(ack, body, view, step, BlockId.SHARE_CHOICE)

    def confirm_access(self, ack: Ack, body: dict[str, Any], view: Any) -> None:
        self._advance(ack, body, _view(body, view), self.deps.finish.confirm_everyone, BlockId.ACCESS_CONFIRM)

    def summary(self, ack: Ack, body: dict[str, Any], view: Any, client: WebClient) -> None:
        target = self._target(ack, body, _view(body, view))
        if target is None:
            return
        wizard_id, actor = target
        try:
            try:
                created = self.deps.finish.create(wizard_id, actor, _user_name(body))
            except InvalidInput as exc:
                snapshot = self.deps.wizards.back_to(wizard_id, actor, Step.NAME)
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
            self._announce(client, created, actor.user_id)

    def _announce(self, client: WebClient, created: CreatedDatastore, user_id: str) -> None:
        announce_datastore(client, self.deps.services, created, creator_id=user_id)


def register(app: App, deps: WizardDeps) -> None:
    submissions = WizardSubmissions(deps)
    app.view(CallbackId.WIZARD_NAME)(submissions.name)
    app.view(CallbackId.WIZARD_CONNECTION_SETUP)(submissions.connection_setup)
    app.view(CallbackId.WIZARD_REVIEW_ACCESS)(submissions.review_access)
    app.view(CallbackId.WIZARD_SITE_URL)(submissions.site_url)
    app.view(CallbackId.WIZARD_GRANT_ACCESS)(submissions.grant_access)
    app.view(CallbackId.WIZARD_CONFIRM_ACCESS)(submissions.confirm_access)
    app.view(CallbackId.WIZARD_SUMMARY)(submissions.summary)
