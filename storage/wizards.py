"""Wizard and OAuth-state repository (never commits)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from storage.models import OAuthState, Wizard
from storage.states import WizardStatus

__all__ = [
    "add_oauth_state",
    "claim_oauth_state",
    "get_oauth_state",
    "get_wizard",
    "name_holder",
    "open_wizards_of",
    "release_expired_names",
]


def get_wizard(session: Session, *, wizard_id: str, for_update: bool = False) -> Wizard | None:
    statement = select(Wizard).where(Wizard.id == wizard_id)
    if for_update:
        statement = statement.with_for_update()
    return session.scalars(statement).first()


def open_wizards_of(session: Session, *, team_id: str, enterprise_id: str | None, user_id: str) -> list[Wizard]:
    """The open wizards of one person: the same user id in another workspace or organisation is someone else."""
    statement = (
        select(Wizard)
        .where(Wizard.team_id == team_id, Wizard.user_id == user_id, Wizard.status == WizardStatus.OPEN)
        .where(Wizard.enterprise_id.is_(None) if enterprise_id is None else Wizard.enterprise_id == enterprise_id)
        .order_by(Wizard.updated_at.desc())
    )
    return list(session.scalars(statement))


def release_expired_names(session: Session, *, team_id: str, name_key: str, now: datetime) -> None:
    """Expired wizards give up the names they reserved (they are abandoned)."""
    session.execute(
        update(Wizard)
        .where(Wizard.team_id == team_id, Wizard.name_key == name_key, Wizard.status == WizardStatus.OPEN)
        .where(Wizard.expires_at <= now)
        .values(status=WizardStatus.ABANDONED, name_key=None)
        .execution_options(synchronize_session=False)
    )


def name_holder(session: Session, *, team_id: str, name_key: str) -> Wizard | None:
    """The open wizard that reserved ``name_key`` in this workspace, if any."""
    statement = select(Wizard).where(
        Wizard.team_id == team_id, Wizard.name_key == name_key, Wizard.status == WizardStatus.OPEN
    )
    return session.scalars(statement).first()


def add_oauth_state(session: Session, state: OAuthState) -> None:
    session.add(state)
    session.flush()


def get_oauth_state(session: Session, *, state_hash: str) -> OAuthState | None:
    return session.get(OAuthState, state_hash)


def claim_oauth_state(session: Session, *, state_hash: str, now: datetime) -> bool:
    """Mark a state used; False when it was already used (so two callbacks cannot both win)."""
    result = session.execute(
        update(OAuthState)
        .where(OAuthState.state_hash == state_hash, OAuthState.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)
