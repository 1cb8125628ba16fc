"""block_actions, block_suggestion and view_closed listeners of the wizard (each acks first)."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.text_policy import clean_query
from bot.wizard.inputs import InvalidInput, normalize_site_url
from bot.wizard.service import NotYourWizard, WizardGone
from bot.wizard.steps import Step, WizardSnapshot
from handlers.ids import ActionId, CallbackId, ShareValue
from handlers.views.blocks import option
from handlers.views.wizard import name_step_view, parse_wizard_metadata
from handlers.views.wizard_finish import ended_view
from handlers.wizard_open import WizardDeps

__all__ = ["register"]

logger = logging.getLogger(__name__)

USE_SITE = re.compile(rf"^{ActionId.USE_SITE}(-\d+)?$")
WIZARD_CALLBACKS = [cid for cid in CallbackId if cid not in (CallbackId.WIZARD_ENDED,)]


def _action_value(body: dict[str, Any]) -> str:
    action = body["actions"][0]
    selected = action.get("selected_option")
    if isinstance(selected, dict):
        return str(selected.get("value", ""))
    return str(action.get("value", ""))


class WizardActions:
    def __init__(self, deps: WizardDeps) -> None:
        self.deps = deps

    def _update(self, client: WebClient, body: dict[str, Any], change: Callable[[str, str], WizardSnapshot]) -> None:
        """Apply ``change(wizard_id, user_id)`` and redraw the modal the action came from."""
        view = body.get("view") or {}
        wizard_id = parse_wizard_metadata(view.get("private_metadata"))
        if wizard_id is None:
            return
        try:
            snapshot = change(wizard_id, body["user"]["id"])
            new_view = self.deps.render(snapshot)
        except (WizardGone, NotYourWizard) as exc:
            new_view = ended_view(str(exc))
        except InvalidInput as exc:
            logger.info("wizard %s refused an action: %s", wizard_id, exc.message)
            return
        client.views_update(view_id=view["id"], hash=view.get("hash"), view=new_view)

    def acknowledge(self, ack: Ack) -> None:
        """URL buttons still send block_actions; without an ack Slack shows a warning next to them."""
        ack()

    def top_off_choice(self, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        choice = _action_value(body)
        self._update(client, body, lambda w, u: self.deps.wizards.choose_top_off(w, u, choice))

    def share_choice(self, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        share_all = _action_value(body) == ShareValue.ALL
        self._update(client, body, lambda w, u: self.deps.finish.choose_share(w, u, share_all))

    def try_again(self, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        self._update(client, body, lambda w, u: self.deps.finish.connect_snapshot(w, u))

    def change_site(self, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        self._update(client, body, lambda w, u: self.deps.wizards.back_to(w, u, Step.SITE_URL))

    def use_site(self, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        raw = _action_value(body)

        def change(wizard_id: str, user_id: str) -> WizardSnapshot:
            site = normalize_site_url(raw)
            offered = self.deps.wizards.snapshot(wizard_id, user_id).offered_sites
            if site not in offered:
                raise InvalidInput("site_url", f"{site} was not among the sites your consent covered.")
            return self.deps.finish.connect_snapshot(wizard_id, user_id, site_url=site)

        self._update(client, body, change)

    def resume(self, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        old_id = _action_value(body)
        view = body["view"]
        user_id = body["user"]["id"]
        new_id = parse_wizard_metadata(view.get("private_metadata"))
        try:
            if new_id is not None:
                self.deps.wizards.abandon(new_id, user_id)
            snapshot = self.deps.wizards.reopen(old_id, user_id)
            self.deps.wizards.attach_view(old_id, view["id"])
            new_view = self.deps.render(snapshot)
        except (WizardGone, NotYourWizard) as exc:
            new_view = ended_view(str(exc))
        client.views_update(view_id=view["id"], hash=view.get("hash"), view=new_view)

    def start_over(self, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        view = body["view"]
        user_id = body["user"]["id"]
        new_id = parse_wizard_metadata(view.get("private_metadata"))
        try:
            self.deps.wizards.abandon(_action_value(body), user_id)
        except (WizardGone, NotYourWizard):
            logger.info("start over: the earlier setup had already ended")
        if new_id is not None:
            client.views_update(view_id=view["id"], hash=view.get("hash"), view=name_step_view(wizard_id=new_id))

    def continue_setup(self, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        user_id = body["user"]["id"]
        try:
            self.deps.reopen(client, wizard_id=_action_value(body), user_id=user_id, trigger_id=body["trigger_id"])
        except (WizardGone, NotYourWizard) as exc:
            client.views_open(trigger_id=body["trigger_id"], view=ended_view(str(exc)))

    def spaces(self, ack: Ack, body: dict[str, Any]) -> None:
        wizard_id = parse_wizard_metadata((body.get("view") or {}).get("private_metadata"))
        if wizard_id is None:
            ack(options=[])
            return
        try:
            typed = clean_query(str(body.get("value") or "")).text  # a NUL would make PostgreSQL refuse the query
            rows = self.deps.finish.space_options(wizard_id, body["user"]["id"], typed)
        except (WizardGone, NotYourWizard):
            ack(options=[])
            return
        ack(options=[option(f"{row.name} ({row.key})" if row.key else row.name, row.space_id) for row in rows])

    def closed(self, ack: Ack, body: dict[str, Any]) -> None:
        ack()
        wizard_id = parse_wizard_metadata(body["view"].get("private_metadata"))
        if wizard_id is not None:
            self.deps.wizards.view_closed(wizard_id, body["user"]["id"])


def register(app: App, deps: WizardDeps) -> None:
    actions = WizardActions(deps)
    app.action(ActionId.TOPOFF_CHOICE)(actions.top_off_choice)
    app.action(ActionId.SHARE_CHOICE)(actions.share_choice)
    app.action(ActionId.OPEN_WINDOW)(actions.acknowledge)
    app.action(ActionId.TRY_AGAIN)(actions.try_again)
    app.action(ActionId.CHANGE_SITE)(actions.change_site)
    app.action(USE_SITE)(actions.use_site)
    app.action(ActionId.RESUME)(actions.resume)
    app.action(ActionId.START_OVER)(actions.start_over)
    app.action(ActionId.CONTINUE_SETUP)(actions.continue_setup)
    app.options(ActionId.SPACES)(actions.spaces)
    for callback_id in WIZARD_CALLBACKS:
        app.view_closed(callback_id)(actions.closed)
