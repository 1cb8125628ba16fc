"""Opening the wizard: from /datastore create, the App Home button, Resume, and the "Continue setup" DM."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient

from bot.actors import Actor
from bot.atlassian.oauth import AtlassianOAuth
from bot.services import Services
from bot.wizard.finish import WizardFinish
from bot.wizard.service import WizardService, new_wizard_id
from bot.wizard.spaces import SpaceLister
from bot.wizard.starter import Starter, seal, unseal
from bot.wizard.steps import Step, WizardSnapshot
from handlers.payloads import metadata_object
from handlers.views.wizard import name_step_view
from handlers.views.wizard_finish import resume_view
from handlers.wizard_render import render_step

__all__ = ["WizardDeps"]

logger = logging.getLogger(__name__)


@dataclass
class WizardDeps:
    """What every wizard listener needs, built once in ``register``."""

    services: Services
    wizards: WizardService
    finish: WizardFinish

    @classmethod
    def build(cls, services: Services) -> WizardDeps:
        wizards = WizardService(services)
        finish = WizardFinish(wizards, AtlassianOAuth(services.settings).authorize_url, SpaceLister(services))
        return cls(services, wizards, finish)

    @property
    def _seal_secret(self) -> str | None:
        secret = self.services.settings.slack_signing_secret
        return secret.get_secret_value() if secret is not None else None

    def starter_of(self, wizard_id: str, metadata: object) -> Starter | None:
        """Who step 1 of ``wizard_id`` was opened for, from its sealed metadata (None if not sealed by us)."""
        secret = self._seal_secret
        return unseal(secret, wizard_id, metadata_object(metadata) or {}) if secret else None

    def render(self, snapshot: WizardSnapshot) -> dict[str, Any]:
        """The view for the wizard's step; the Connect step gets a fresh consent link."""
        if snapshot.step == Step.CONNECT and snapshot.authorize_url is None and snapshot.oauth_error is None:
            snapshot = self.finish.connect_snapshot(snapshot.id, snapshot.owner)
        return render_step(snapshot, terms_url=self.services.settings.terms_url)

    def open_new(
        self, client: WebClient, *, trigger_id: str, actor: Actor, channel_id: str | None, name: str = ""
    ) -> None:
        """Open step 1 first (the trigger expires in 3 s), then record the wizard and offer Resume if needed."""
        wizard_id = new_wizard_id()
        secret = self._seal_secret
        starter = seal(secret, wizard_id, actor, channel_id) if secret else None
        opened = client.views_open(
            trigger_id=trigger_id, view=name_step_view(wizard_id=wizard_id, name=name, starter=starter)
        )
        view = opened["view"]
        self.wizards.start(actor=actor, channel_id=channel_id, wizard_id=wizard_id)
        self.wizards.attach_view(wizard_id, view["id"])
        existing = self.wizards.resumable(actor=actor, except_id=wizard_id)
        if existing is not None and existing.started_at is not None:
            view_resume = resume_view(new_wizard_id=wizard_id, existing=existing, started=existing.started_at)
            client.views_update(view_id=view["id"], hash=view.get("hash"), view=view_resume)

    def reopen(self, client: WebClient, *, wizard_id: str, actor: Actor, trigger_id: str) -> None:
        """Open a new modal at the wizard's current step (from the "Continue setup" DM)."""
        snapshot = self.wizards.reopen(wizard_id, actor)
        opened = client.views_open(trigger_id=trigger_id, view=self.render(snapshot))
        self.wizards.attach_view(wizard_id, opened["view"]["id"])
