"""Which workspace (team + Enterprise Grid organisation) a datastore lives in, and whether an actor acts there.

A datastore stores its team; its organisation is the one recorded by the wizard that created it (wizards
carry ``enterprise_id`` since migration 0005). A request for a datastore by someone of another team — or of
the same team id under another organisation, or with an organisation where none was recorded, or without
one where one was — finds nothing. Datastores made without a wizard (imports, tests) are bound to their team.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from bot.actors import Actor
from bot.services import Services
from storage.models import Datastore, Wizard

__all__ = ["HomeDatastore", "datastore_exists", "find_home_datastore", "home_datastore", "lives_with"]


@dataclass(frozen=True)
class HomeDatastore:
    """A datastore of the actor's workspace, as the handlers that speak Slack need it."""

    id: int
    name: str
    created_by: str


def lives_with(session: Session, datastore: Datastore, actor: Actor) -> bool:
    if datastore.team_id != actor.team_id:
        return False
    creator = session.get(Wizard, datastore.wizard_id) if datastore.wizard_id else None
    return creator is None or (creator.enterprise_id or None) == actor.enterprise_id


def home_datastore(session: Session, *, datastore_id: object, actor: Actor) -> Datastore | None:
    """The datastore ``datastore_id`` if it lives in the actor's workspace and organisation."""
    if not isinstance(datastore_id, int) or isinstance(datastore_id, bool) or not 0 < datastore_id < 2**63:
        return None
    datastore = session.get(Datastore, datastore_id)
    return datastore if datastore is not None and lives_with(session, datastore, actor) else None


def find_home_datastore(services: Services, *, datastore_id: int, actor: Actor) -> HomeDatastore | None:
    """:func:`home_datastore` in a session of its own."""
    with services.sessions() as session:
        datastore = home_datastore(session, datastore_id=datastore_id, actor=actor)
        if datastore is None:
            return None
        return HomeDatastore(id=datastore.id, name=datastore.name, created_by=datastore.created_by)


def datastore_exists(services: Services, datastore_id: int) -> bool:
    """Whether any workspace has a datastore with this id (to tell "gone" from "not yours")."""
    with services.sessions() as session:
        return session.get(Datastore, datastore_id) is not None
