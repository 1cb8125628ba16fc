"""The wizard's state machine: each step validates, stores and moves on, in one short transaction.

Handlers call these methods inside Slack's 3-second window, so nothing here calls the network; the OAuth
callback (which does) lives in ``bot.wizard.oauth_flow``.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.actors import Actor, is_slack_id
from bot.errors import UserFacingError
from bot.services import Services
from bot.wizard.inputs import InvalidInput, TopOffSettings, name_key, normalize_name, normalize_site_url
from bot.wizard.snapshots import snapshot_of
from bot.wizard.steps import Step, WizardSnapshot, is_wizard_id
from storage.datastores import find_datastore_by_name
from storage.models import Wizard, utcnow
from storage.states import WizardStatus
from storage.wizards import get_wizard, name_holder, open_wizards_of, release_expired_names
from storage.workspaces import touch_workspace

__all__ = ["NotYourWizard", "WizardGone", "WizardService", "new_wizard_id", "started_by"]

logger = logging.getLogger(__name__)

WIZARD_TTL = timedelta(hours=24)
#: Width of wizards.view_id; Slack's view ids are far shorter.
MAX_VIEW_ID = 64
#: What wizards.top_off may hold (the radio buttons' values).
TOP_OFF_CHOICES = frozenset({"configured", "skipped"})
NOT_FOUND = "This setup could not be found. Start again with `/datastore create`."
NOT_YOURS = "Only the person who started this setup can continue it."


class WizardGone(UserFacingError):
    """The wizard expired, finished or was abandoned (told only to the person who started it)."""


class NotYourWizard(UserFacingError):
    """The wizard was started by another identity, or no wizard has this id (``exists`` says which).

    The same user id from another workspace or organisation is another identity.
    """

    def __init__(self, message: str, *, exists: bool = True) -> None:
        super().__init__(message)
        self.exists = exists


def new_wizard_id() -> str:
    return secrets.token_hex(12)


def started_by(wizard: Wizard, actor: Actor) -> bool:
    return actor.same_as(team_id=wizard.team_id, user_id=wizard.user_id, enterprise_id=wizard.enterprise_id)


def _short_date(moment: datetime) -> str:
    return f"{moment.day} {moment:%b}"


@dataclass
class WizardService:
    services: Services
    clock: Callable[[], datetime] = utcnow

    # --- loading -----------------------------------------------------------------------------------------
    def owned(self, session: Session, wizard_id: str, actor: Actor, *, for_update: bool = False) -> Wizard:
        """The open wizard ``wizard_id`` if ``actor`` started it; NotYourWizard / WizardGone otherwise.

        Ownership is checked before anything about the wizard's state is told, so a stranger learns nothing.
        """
        wizard = get_wizard(session, wizard_id=wizard_id, for_update=for_update) if is_wizard_id(wizard_id) else None
        if wizard is None:
            raise NotYourWizard(NOT_FOUND, exists=False)
        if not started_by(wizard, actor):
            logger.info("wizard %s was started by someone else than %s", wizard.id, actor)
            raise NotYourWizard(NOT_YOURS)
        if wizard.status == WizardStatus.COMPLETED:
            raise WizardGone("This setup is already finished.")
        if wizard.status != WizardStatus.OPEN or wizard.expires_at <= self.clock():
            raise WizardGone("This setup expired after 24 hours. Start again with `/datastore create`.")
        return wizard

    def _snapshot(self, session: Session, wizard: Wizard) -> WizardSnapshot:
        return snapshot_of(session, wizard, free_credits=self.services.settings.free_credits)

    def check(self, wizard_id: str, actor: Actor) -> None:
        """Raise NotYourWizard / WizardGone unless ``actor``'s wizard ``wizard_id`` is open (before any input is
        judged: a stranger, or a body naming no wizard, learns nothing about the form)."""
        with self.services.sessions() as session:
            self.owned(session, wizard_id, actor)

    def snapshot(self, wizard_id: str, actor: Actor) -> WizardSnapshot:
        with self.services.sessions.begin() as session:
            return self._snapshot(session, self.owned(session, wizard_id, actor))

    # --- start, resume, close ---------------------------------------------------------------------------
    def start(self, *, actor: Actor, channel_id: str | None, wizard_id: str) -> None:
        """Record a wizard whose first step is already on screen. Idempotent: the first caller creates it.

        Step 1 is opened before any database work (the trigger expires in 3 s), so a quick submit can arrive
        before this row exists; the submit handler calls this too (for the person step 1 was opened for
        only), and whichever comes first wins.
        """
        if not is_wizard_id(wizard_id):
            return
        now = self.clock()
        for attempt in range(2):
            # A concurrent request may record this wizard, or create the workspace's row, first: once more
            # then, and the row found (or the workspace) is the concurrent one's.
            try:
                with self.services.sessions.begin() as session:
                    if get_wizard(session, wizard_id=wizard_id) is not None:
                        return
                    credits = self.services.settings.free_credits
                    touch_workspace(session, team_id=actor.team_id, initial_credits=credits)
                    session.add(
                        Wizard(
                            id=wizard_id,
                            team_id=actor.team_id,
                            enterprise_id=actor.enterprise_id,
                            user_id=actor.user_id,
                            channel_id=channel_id if is_slack_id(channel_id) else None,
                            step=Step.NAME,
                            expires_at=now + WIZARD_TTL,
                        )
                    )
                return
            except IntegrityError:
                logger.debug("wizard %s: a concurrent request got there first (attempt %d)", wizard_id, attempt + 1)

    def resumable(self, *, actor: Actor, except_id: str) -> WizardSnapshot | None:
        """The person's newest unexpired wizard that got past step 1, if any (offered as "Resume")."""
        now = self.clock()
        with self.services.sessions.begin() as session:
            found = open_wizards_of(
                session, team_id=actor.team_id, enterprise_id=actor.enterprise_id, user_id=actor.user_id
            )
            for wizard in found:
                if wizard.id == except_id:
                    continue
                if wizard.expires_at <= now:
                    wizard.status = WizardStatus.ABANDONED
                    wizard.name_key = None
                    continue
                if wizard.step != Step.NAME or wizard.name:
                    return self._snapshot(session, wizard)
            return None

    def abandon(self, wizard_id: str, actor: Actor) -> None:
        with self.services.sessions.begin() as session:
            wizard = self.owned(session, wizard_id, actor)
            wizard.status = WizardStatus.ABANDONED
            wizard.name_key = None

    def attach_view(self, wizard_id: str, view_id: object) -> None:
        """Remember the modal a wizard is shown in (an id from Slack's own answer to views.open)."""
        if not isinstance(view_id, str) or not view_id or len(view_id) > MAX_VIEW_ID:
            return
        with self.services.sessions.begin() as session:
            wizard = get_wizard(session, wizard_id=wizard_id)
            if wizard is not None:
                wizard.view_id = view_id
                wizard.view_closed = False

    def view_closed(self, wizard_id: str, actor: Actor) -> None:
        with self.services.sessions.begin() as session:
            wizard = get_wizard(session, wizard_id=wizard_id) if is_wizard_id(wizard_id) else None
            if wizard is None or not started_by(wizard, actor):
                logger.info("view_closed of wizard %s ignored: not a wizard of %s", wizard_id, actor)
            elif not wizard.view_closed:
                wizard.view_closed = True

    def reopen(self, wizard_id: str, actor: Actor) -> WizardSnapshot:
        with self.services.sessions.begin() as session:
            wizard = self.owned(session, wizard_id, actor)
            wizard.view_closed = False
            return self._snapshot(session, wizard)

    def resume(self, *, old_id: str, new_id: str, actor: Actor, view_id: object) -> WizardSnapshot:
        """ "Resume" on the offer shown by a new wizard: the new one is abandoned, the old one takes the modal.

        Both must be the actor's (all or nothing: a refusal changes neither).
        """
        with self.services.sessions.begin() as session:
            new = self.owned(session, new_id, actor)
            if old_id == new.id:
                raise NotYourWizard(NOT_FOUND, exists=False)
            old = self.owned(session, old_id, actor)
            new.status, new.name_key = WizardStatus.ABANDONED, None
            old.view_closed = False
            if isinstance(view_id, str) and view_id and len(view_id) <= MAX_VIEW_ID:
                old.view_id = view_id
            return self._snapshot(session, old)

    def start_over(self, *, old_id: str, new_id: str, actor: Actor) -> None:
        """ "Start over": the earlier wizard is abandoned (if it is still open) and the new one goes on."""
        with self.services.sessions.begin() as session:
            new = self.owned(session, new_id, actor)
            if old_id == new.id:
                raise NotYourWizard(NOT_FOUND, exists=False)
            try:
                old = self.owned(session, old_id, actor)
            except WizardGone:
                logger.info("start over: the earlier setup had already ended")
                return
            old.status, old.name_key = WizardStatus.ABANDONED, None

    # --- step 1: name -----------------------------------------------------------------------------------
    def submit_name(self, wizard_id: str, actor: Actor, raw_name: str) -> WizardSnapshot:
        name = normalize_name(raw_name)
        key = name_key(name)
        try:
            with self.services.sessions.begin() as session:
                wizard = self.owned(session, wizard_id, actor)
                existing = find_datastore_by_name(session, team_id=wizard.team_id, name_key=key)
                if existing is not None:
                    by = existing.created_by_name or f"<@{existing.created_by}>"
                    raise InvalidInput(
                        "name",
                        f"A datastore named {existing.name} already exists — created by @{by.lstrip('@')} "
                        f"on {_short_date(existing.created_at)}. Pick another name.",
                    )
                release_expired_names(session, team_id=wizard.team_id, name_key=key, now=self.clock())
                wizard.name, wizard.name_key = name, key
                wizard.step = Step.CONNECTION_SETUP
                session.flush()
                return self._snapshot(session, wizard)
        except IntegrityError:
            raise self._name_taken(wizard_id, actor, name, key) from None

    def _name_taken(self, wizard_id: str, actor: Actor, name: str, key: str) -> InvalidInput:
        with self.services.sessions.begin() as session:
            wizard = get_wizard(session, wizard_id=wizard_id)
            holder = name_holder(session, team_id=wizard.team_id, name_key=key) if wizard else None
            if holder is not None and started_by(holder, actor):
                return InvalidInput(
                    "name",
                    f"You are already setting up a datastore named {name} in another window. "
                    "Finish that one (type /datastore create and choose Resume) or pick another name.",
                )
        return InvalidInput(
            "name", f"Someone else is setting up a datastore named {name} right now. Pick another name."
        )

    # --- step 2: connection setup (credits) ------------------------------------------------------------
    def choose_top_off(self, wizard_id: str, actor: Actor, choice: str) -> WizardSnapshot:
        if choice not in TOP_OFF_CHOICES:
            raise InvalidInput("top_off", "Choose “Set up auto top-off” or “Skip for now”.")
        with self.services.sessions.begin() as session:
            wizard = self.owned(session, wizard_id, actor)
            wizard.top_off = choice
            return self._snapshot(session, wizard)

    def submit_connection_setup(self, wizard_id: str, actor: Actor, top_off: TopOffSettings | None) -> WizardSnapshot:
        with self.services.sessions.begin() as session:
            wizard = self.owned(session, wizard_id, actor)
            if top_off is not None:
                workspace = touch_workspace(
                    session, team_id=wizard.team_id, initial_credits=self.services.settings.free_credits
                )
                workspace.topoff_threshold = top_off.threshold
                workspace.topoff_amount = top_off.amount
                workspace.topoff_monthly_cap = top_off.monthly_cap
                workspace.topoff_updated_by = actor.user_id
                workspace.topoff_updated_at = self.clock()
            wizard.top_off = "configured" if top_off is not None else "skipped"
            wizard.step = Step.REVIEW_ACCESS
            session.flush()
            return self._snapshot(session, wizard)

    # --- step 3: access review, site, connect ----------------------------------------------------------
    def submit_review(self, wizard_id: str, actor: Actor) -> WizardSnapshot:
        return self._move(wizard_id, actor, Step.SITE_URL)

    def submit_site(self, wizard_id: str, actor: Actor, raw_url: str) -> WizardSnapshot:
        site_url = normalize_site_url(raw_url)
        with self.services.sessions.begin() as session:
            wizard = self.owned(session, wizard_id, actor)
            wizard.site_url = site_url
            wizard.oauth_error = None
            wizard.step = Step.CONNECT
            session.flush()
            return self._snapshot(session, wizard)

    def back_to(self, wizard_id: str, actor: Actor, step: Step) -> WizardSnapshot:
        return self._move(wizard_id, actor, step)

    def _move(self, wizard_id: str, actor: Actor, step: Step) -> WizardSnapshot:
        with self.services.sessions.begin() as session:
            wizard = self.owned(session, wizard_id, actor)
            wizard.step = step
            session.flush()
            return self._snapshot(session, wizard)
