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

from bot.errors import UserFacingError
from bot.services import Services
from bot.wizard.inputs import InvalidInput, TopOffSettings, name_key, normalize_name, normalize_site_url
from bot.wizard.snapshots import snapshot_of
from bot.wizard.steps import Step, WizardSnapshot
from storage.datastores import find_datastore_by_name
from storage.models import Wizard, utcnow
from storage.wizards import get_wizard, name_holder, open_wizards_of, release_expired_names
from storage.workspaces import touch_workspace

__all__ = ["NotYourWizard", "WizardGone", "WizardService", "new_wizard_id"]

logger = logging.getLogger(__name__)

WIZARD_TTL = timedelta(hours=24)


class WizardGone(UserFacingError):
    """The wizard expired, finished or was abandoned."""


class NotYourWizard(UserFacingError):
    """Someone other than the person who started the wizard tried to advance it."""


def new_wizard_id() -> str:
    return secrets.token_hex(12)


def _short_date(moment: datetime) -> str:
    return f"{moment.day} {moment:%b}"


@dataclass
class WizardService:
    services: Services
    clock: Callable[[], datetime] = utcnow

    # --- loading -----------------------------------------------------------------------------------------
    def owned(self, session: Session, wizard_id: str, user_id: str, *, for_update: bool = False) -> Wizard:
        """The open wizard ``wizard_id`` if ``user_id`` started it; WizardGone / NotYourWizard otherwise."""
        wizard = get_wizard(session, wizard_id=wizard_id, for_update=for_update)
        if wizard is None:
            raise WizardGone("This setup no longer exists. Start again with `/datastore create`.")
        if wizard.user_id != user_id:
            raise NotYourWizard(f"Only <@{wizard.user_id}>, who started this setup, can continue it.")
        if wizard.status == "completed":
            raise WizardGone("This setup is already finished.")
        if wizard.status != "open" or wizard.expires_at <= self.clock():
            raise WizardGone("This setup expired after 24 hours. Start again with `/datastore create`.")
        return wizard

    def _snapshot(self, session: Session, wizard: Wizard) -> WizardSnapshot:
        return snapshot_of(session, wizard, free_credits=self.services.settings.free_credits)

    def snapshot(self, wizard_id: str, user_id: str) -> WizardSnapshot:
        with self.services.sessions.begin() as session:
            return self._snapshot(session, self.owned(session, wizard_id, user_id))

    # --- start, resume, close ---------------------------------------------------------------------------
    def start(self, *, team_id: str, user_id: str, channel_id: str | None, wizard_id: str) -> None:
        """Record a wizard whose first step is already on screen. Idempotent: the first caller creates it.

        Step 1 is opened before any database work (the trigger expires in 3 s), so a quick submit can arrive
        before this row exists; the submit handler calls this too, and whichever comes first wins.
        """
        now = self.clock()
        try:
            with self.services.sessions.begin() as session:
                if get_wizard(session, wizard_id=wizard_id) is not None:
                    return
                touch_workspace(session, team_id=team_id, initial_credits=self.services.settings.free_credits)
                session.add(
                    Wizard(
                        id=wizard_id,
                        team_id=team_id,
                        user_id=user_id,
                        channel_id=channel_id or None,
                        step=Step.NAME,
                        expires_at=now + WIZARD_TTL,
                    )
                )
        except IntegrityError:
            logger.debug("wizard %s was recorded by a concurrent request", wizard_id)

    def resumable(self, *, team_id: str, user_id: str, except_id: str) -> WizardSnapshot | None:
        """The user's newest unexpired wizard that got past step 1, if any (offered as "Resume")."""
        now = self.clock()
        with self.services.sessions.begin() as session:
            for wizard in open_wizards_of(session, team_id=team_id, user_id=user_id):
                if wizard.id == except_id:
                    continue
                if wizard.expires_at <= now:
                    wizard.status = "abandoned"
                    wizard.name_key = None
                    continue
                if wizard.step != Step.NAME or wizard.name:
                    return self._snapshot(session, wizard)
            return None

    def abandon(self, wizard_id: str, user_id: str) -> None:
        with self.services.sessions.begin() as session:
            wizard = self.owned(session, wizard_id, user_id)
            wizard.status = "abandoned"
            wizard.name_key = None

    def attach_view(self, wizard_id: str, view_id: str) -> None:
        with self.services.sessions.begin() as session:
            wizard = get_wizard(session, wizard_id=wizard_id)
            if wizard is not None:
                wizard.view_id = view_id
                wizard.view_closed = False

    def view_closed(self, wizard_id: str, user_id: str) -> None:
        with self.services.sessions.begin() as session:
            wizard = get_wizard(session, wizard_id=wizard_id)
            if wizard is not None and wizard.user_id == user_id:
                wizard.view_closed = True

    def reopen(self, wizard_id: str, user_id: str) -> WizardSnapshot:
        with self.services.sessions.begin() as session:
            wizard = self.owned(session, wizard_id, user_id)
            wizard.view_closed = False
            return self._snapshot(session, wizard)

    # --- step 1: name -----------------------------------------------------------------------------------
    def submit_name(self, wizard_id: str, user_id: str, raw_name: str) -> WizardSnapshot:
        name = normalize_name(raw_name)
        key = name_key(name)
        try:
            with self.services.sessions.begin() as session:
                wizard = self.owned(session, wizard_id, user_id)
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
            raise self._name_taken(wizard_id, user_id, name, key) from None

    def _name_taken(self, wizard_id: str, user_id: str, name: str, key: str) -> InvalidInput:
        with self.services.sessions.begin() as session:
            wizard = get_wizard(session, wizard_id=wizard_id)
            holder = name_holder(session, team_id=wizard.team_id, name_key=key) if wizard else None
            if holder is not None and holder.user_id == user_id:
                return InvalidInput(
                    "name",
                    f"You are already setting up a datastore named {name} in another window. "
                    "Finish that one (type /datastore create and choose Resume) or pick another name.",
                )
        return InvalidInput(
            "name", f"Someone else is setting up a datastore named {name} right now. Pick another name."
        )

    # --- step 2: connection setup (credits) ------------------------------------------------------------
    def choose_top_off(self, wizard_id: str, user_id: str, choice: str) -> WizardSnapshot:
        with self.services.sessions.begin() as session:
            wizard = self.owned(session, wizard_id, user_id)
            wizard.top_off = choice
            return self._snapshot(session, wizard)

    def submit_connection_setup(self, wizard_id: str, user_id: str, top_off: TopOffSettings | None) -> WizardSnapshot:
        with self.services.sessions.begin() as session:
            wizard = self.owned(session, wizard_id, user_id)
            if top_off is not None:
                workspace = touch_workspace(
                    session, team_id=wizard.team_id, initial_credits=self.services.settings.free_credits
                )
                workspace.topoff_threshold = top_off.threshold
                workspace.topoff_amount = top_off.amount
                workspace.topoff_monthly_cap = top_off.monthly_cap
                workspace.topoff_updated_by = user_id
                workspace.topoff_updated_at = self.clock()
            wizard.top_off = "configured" if top_off is not None else "skipped"
            wizard.step = Step.REVIEW_ACCESS
            session.flush()
            return self._snapshot(session, wizard)

    # --- step 3: access review, site, connect ----------------------------------------------------------
    def submit_review(self, wizard_id: str, user_id: str) -> WizardSnapshot:
        return self._move(wizard_id, user_id, Step.SITE_URL)

    def submit_site(self, wizard_id: str, user_id: str, raw_url: str) -> WizardSnapshot:
        site_url = normalize_site_url(raw_url)
        with self.services.sessions.begin() as session:
            wizard = self.owned(session, wizard_id, user_id)
            wizard.site_url = site_url
            wizard.oauth_error = None
            wizard.step = Step.CONNECT
            session.flush()
            return self._snapshot(session, wizard)

    def back_to(self, wizard_id: str, user_id: str, step: Step) -> WizardSnapshot:
        return self._move(wizard_id, user_id, step)

    def _move(self, wizard_id: str, user_id: str, step: Step) -> WizardSnapshot:
        with self.services.sessions.begin() as session:
            wizard = self.owned(session, wizard_id, user_id)
            wizard.step = step
            session.flush()
            return self._snapshot(session, wizard)
