"""block_actions, block_suggestion and view_closed listeners of the wizard (each acks first).

Only the person who started a wizard sees anything happen: for anyone else (the same user id from another
workspace or organisation included), for a body without a readable wizard id, view id or identity, and for a
button value the bot did not put there, the ack is all (a log line says why) and nothing is written.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.actors import Actor
from bot.text_policy import clean_query
from bot.wizard.inputs import InvalidInput, normalize_site_url
from bot.wizard.service import NotYourWizard, WizardGone
from bot.wizard.steps import Step, WizardSnapshot, is_wizard_id
from handlers.actors import actor_of
from handlers.ids import ActionId, CallbackId, ShareValue
from handlers.payloads import action_value
from handlers.views.blocks import option
from handlers.views.wizard import name_step_view, parse_wizard_metadata
from handlers.views.wizard_finish import ended_view
from handlers.wizard_open import WizardDeps

__all__ = ["register"]

logger = logging.getLogger(__name__)

USE_SITE = re.compile(rf"^{ActionId.USE_SITE}(-\d+)?$")
WIZARD_CALLBACKS = [cid for cid in CallbackId if cid not in (CallbackId.WIZARD_ENDED,)]
#: The space picker searches with at most this much of what was typed (printable characters only).
MAX_SPACE_QUERY = 100

Change = Callable[[str, Actor], WizardSnapshot]


#: views.update errors meaning the person closed the modal or another click redrew it first.
MODAL_MOVED_ON = ("not_found", "hash_conflict")


class _Modal:
    """The modal an action came from: its id and hash, and the wizard id in its metadata."""

    def __init__(self, body: dict[str, Any]) -> None:
        view = body.get("view")
        view = view if isinstance(view, dict) else {}
        view_id, view_hash = view.get("id"), view.get("hash")
        self.id = view_id if isinstance(view_id, str) and view_id else None
        self.hash = view_hash if isinstance(view_hash, str) and view_hash else None
        self.wizard_id = parse_wizard_metadata(view.get("private_metadata"))

    def update(self, client: WebClient, view: dict[str, Any]) -> None:
        """Redraw the modal; one closed (``not_found``) or redrawn by another click (``hash_conflict``)
        meanwhile is left as it is."""
        assert self.id is not None
        try:
            client.views_update(view_id=self.id, hash=self.hash, view=view)
        except SlackApiError as exc:
            error = exc.response.get("error")
            if error not in MODAL_MOVED_ON:
                raise
            _refused("redraw", f"Slack answered {error}: the modal was closed or changed meanwhile")


def _refused(what: str, reason: object) -> None:
    logger.info("wizard %s refused: %s", what, reason)


class WizardActions:
    def __init__(self, deps: WizardDeps) -> None:
        self.deps = deps

    def _update(self, client: WebClient, body: dict[str, Any], change: Change) -> None:
        """Apply ``change(wizard_id, actor)`` and redraw the modal the action came from."""
        modal, actor = _Modal(body), actor_of(body)
        if modal.id is None or modal.wizard_id is None or actor is None:
            _refused("action", "no modal, wizard id or identity in the body")
            return
        try:
            new_view = self.deps.render(change(modal.wizard_id, actor))
        except NotYourWizard as exc:
            _refused("action", exc)
            return
        except WizardGone as exc:
            new_view = ended_view(str(exc))
        except InvalidInput as exc:
            _refused("action", exc.message)
            return
        modal.update(client, new_view)

    def acknowledge(self, ack: Ack) -> None:
        """URL buttons still send block_actions; without an ack Slack shows a warning next to them."""
        ack()

    def top_off_choice(self, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        choice = action_value(body) or ""
        self._update(client, body, lambda w, a: self.deps.wizards.choose_top_off(w, a, choice))

    def share_choice(self, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        value = action_value(body)
        if value not in (ShareValue.ALL, ShareValue.SPECIFIC):
            _refused("share choice", "not one of the options")
            return
        self._update(client, body, lambda w, a: self.deps.finish.choose_share(w, a, value == ShareValue.ALL))

    def access_back(self, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        """ "Back" on the confirmation of "everyone": the "Grant access" step again (nothing was stored)."""
        ack()
        self._update(client, body, lambda w, a: self.deps.wizards.back_to(w, a, Step.GRANT_ACCESS))

    def try_again(self, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        self._update(client, body, self.deps.finish.connect_snapshot)

    def change_site(self, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        self._update(client, body, lambda w, a: self.deps.wizards.back_to(w, a, Step.SITE_URL))

    def use_site(self, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        raw = action_value(body)

        def change(wizard_id: str, actor: Actor) -> WizardSnapshot:
            offered = self.deps.wizards.snapshot(wizard_id, actor).offered_sites
            site = normalize_site_url(raw or "")
            if site not in offered:
                raise InvalidInput("site_url", f"{site} was not among the sites your consent covered.")
            return self.deps.finish.connect_snapshot(wizard_id, actor, site_url=site)

        self._update(client, body, change)

    def resume(self, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        modal, actor, old_id = _Modal(body), actor_of(body), action_value(body)
        if modal.id is None or modal.wizard_id is None or actor is None or not is_wizard_id(old_id):
            _refused("resume", "no modal, wizard ids or identity in the body")
            return
        try:
            snapshot = self.deps.wizards.resume(old_id=old_id, new_id=modal.wizard_id, actor=actor, view_id=modal.id)
            new_view = self.deps.render(snapshot)
        except NotYourWizard as exc:
            _refused("resume", exc)
            return
        except WizardGone as exc:
            new_view = ended_view(str(exc))
        modal.update(client, new_view)

    def start_over(self, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        modal, actor, old_id = _Modal(body), actor_of(body), action_value(body)
        if modal.id is None or modal.wizard_id is None or actor is None or not is_wizard_id(old_id):
            _refused("start over", "no modal, wizard ids or identity in the body")
            return
        try:
            self.deps.wizards.start_over(old_id=old_id, new_id=modal.wizard_id, actor=actor)
            new_view = name_step_view(wizard_id=modal.wizard_id)
        except NotYourWizard as exc:
            _refused("start over", exc)
            return
        except WizardGone as exc:
            new_view = ended_view(str(exc))
        modal.update(client, new_view)

    def continue_setup(self, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        actor, wizard_id, trigger_id = actor_of(body), action_value(body), body.get("trigger_id")
        if actor is None or not is_wizard_id(wizard_id) or not isinstance(trigger_id, str) or not trigger_id:
            _refused("continue setup", "no wizard id, trigger or identity in the body")
            return
        try:
            self.deps.reopen(client, wizard_id=wizard_id, actor=actor, trigger_id=trigger_id)
        except NotYourWizard as exc:
            _refused("continue setup", exc)
        except WizardGone as exc:
            client.views_open(trigger_id=trigger_id, view=ended_view(str(exc)))

    def spaces(self, ack: Ack, body: dict[str, Any]) -> None:
        modal, actor, typed = _Modal(body), actor_of(body), body.get("value")
        # One policy for typed queries (a NUL would make PostgreSQL refuse the lookup), then the picker's own cap.
        query = clean_query(typed).text[:MAX_SPACE_QUERY] if isinstance(typed, str) else ""
        if modal.wizard_id is None or actor is None:
            _refused("space picker", "no wizard id or identity in the body")
            ack(options=[])
            return
        try:
            rows = self.deps.finish.space_options(modal.wizard_id, actor, query)
        except (WizardGone, NotYourWizard) as exc:
            _refused("space picker", exc)
            ack(options=[])
            return
        ack(options=[option(f"{row.name} ({row.key})" if row.key else row.name, row.space_id) for row in rows])

    def closed(self, ack: Ack, body: dict[str, Any]) -> None:
        ack()
        modal, actor = _Modal(body), actor_of(body)
        if modal.wizard_id is None or actor is None:
            logger.info("view_closed ignored: no wizard id or identity in the body")
            return
        self.deps.wizards.view_closed(modal.wizard_id, actor)


def register(app: App, deps: WizardDeps) -> None:
    actions = WizardActions(deps)
    app.action(ActionId.TOPOFF_CHOICE)(actions.top_off_choice)
    app.action(ActionId.SHARE_CHOICE)(actions.share_choice)
    app.action(ActionId.OPEN_WINDOW)(actions.acknowledge)
    app.action(ActionId.TRY_AGAIN)(actions.try_again)
    app.action(ActionId.ACCESS_BACK)(actions.access_back)
    app.action(ActionId.CHANGE_SITE)(actions.change_site)
    app.action(USE_SITE)(actions.use_site)
    app.action(ActionId.RESUME)(actions.resume)
    app.action(ActionId.START_OVER)(actions.start_over)
    app.action(ActionId.CONTINUE_SETUP)(actions.continue_setup)
    app.options(ActionId.SPACES)(actions.spaces)
    for callback_id in WIZARD_CALLBACKS:
        app.view_closed(callback_id)(actions.closed)
