"""Wizard and OAuth-state repository (never commits)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from storage.models import OAuthState, Wizard

__all__ = ["add_oauth_state", "claim_oauth_state", "get_oauth_state", "get_wizard", "open_wizards_of"]


def get_wizard(session: Session, *, wizard_id: str, for_update: bool = False) -> Wizard | None:
    statement = select(Wizard).where(Wizard.id == wizard_id)
    if for_update:
        statement = statement.with_for_update()
    return session.scalars(statement).first()


def open_wizards_of(session: Session, *, team_id: str, user_id: str) -> list[Wizard]:
    statement = (
        select(Wizard)
        .where(Wizard.team_id == team_id, Wizard.user_id == user_id, Wizard.status == "open")
        .order_by(Wizard.updated_at.desc())
    )
    return list(session.scalars(statement))


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
