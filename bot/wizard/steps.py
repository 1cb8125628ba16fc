"""The wizard's steps and the snapshot of its state that views are rendered from."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TypeGuard

from bot.actors import Actor
from storage.states import WizardPurpose

__all__ = ["WIZARD_ID", "SpaceChoice", "Step", "TopOffView", "WizardSnapshot", "is_wizard_id"]

#: What a wizard id looks like (``secrets.token_hex(12)`` makes 24 of these characters); anything else that
#: arrives as one — in a modal's private_metadata or a button's value — names no wizard.
WIZARD_ID = re.compile(r"[0-9a-z]{8,32}")


def is_wizard_id(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and WIZARD_ID.fullmatch(value) is not None


class Step(StrEnum):
    """In order. The numbers shown to people ("Step 3 of 5") come from ``number``."""

    NAME = "name"
    CONNECTION_SETUP = "connection_setup"
    REVIEW_ACCESS = "review_access"
    SITE_URL = "site_url"
    CONNECT = "connect"
    GRANT_ACCESS = "grant_access"
    CONFIRM_ACCESS = "confirm_access"  # "everyone" was chosen: confirm, naming the connecting account
    SUMMARY = "summary"
    RECONNECTED = "reconnected"  # the end of a reconnect (purpose "reconnect"): no further steps

    @property
    def number(self) -> int:
        return {
            Step.NAME: 1,
            Step.CONNECTION_SETUP: 2,
            Step.REVIEW_ACCESS: 3,
            Step.SITE_URL: 3,
            Step.CONNECT: 3,
            Step.GRANT_ACCESS: 4,
            Step.CONFIRM_ACCESS: 4,
            Step.SUMMARY: 5,
            Step.RECONNECTED: 3,
        }[self]


@dataclass(frozen=True)
class SpaceChoice:
    id: str
    key: str
    name: str


@dataclass(frozen=True)
class TopOffView:
    threshold: int
    amount: int
    monthly_cap: int | None


@dataclass(frozen=True)
class WizardSnapshot:
    """Everything a wizard view shows, as plain values (no ORM objects, no clients)."""

    id: str
    step: Step
    user_id: str
    team_id: str = ""
    enterprise_id: str | None = None
    purpose: WizardPurpose = WizardPurpose.CREATE
    name: str | None = None
    credit_balance: int = 0
    top_off: TopOffView | None = None
    top_off_choice: str | None = None  # configured | skipped
    site_url: str | None = None
    authorize_url: str | None = None
    oauth_error: str | None = None
    offered_sites: tuple[str, ...] = field(default_factory=tuple)
    connected_site: str | None = None
    connected_account: str | None = None
    share_all: bool | None = None
    spaces: tuple[SpaceChoice, ...] = field(default_factory=tuple)
    #: The access mode chosen in "Grant access" (``each`` / ``everyone``, the latter only once confirmed).
    access_mode: str | None = None
    started_at: datetime | None = None
    expires_at: datetime | None = None

    @property
    def owner(self) -> Actor:
        """Who started the wizard: only they may move it on."""
        return Actor(team_id=self.team_id, user_id=self.user_id, enterprise_id=self.enterprise_id)
