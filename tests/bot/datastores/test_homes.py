"""A datastore lives in its team and in the organisation of the wizard that created it."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from bot.actors import Actor
from bot.datastores.homes import home_datastore
from storage.db import make_engine
from storage.models import Datastore, Wizard, utcnow
from tests.harness import migrate


def _datastore(session: Session, name: str, *, enterprise: str | None, wizard: bool = True) -> int:
    wizard_id = None
    if wizard:
        wizard_id = f"{len(name):02d}{name}".ljust(24, "0")[:24]
        session.add(
            Wizard(
                id=wizard_id,
                team_id="T0TEAM",
                enterprise_id=enterprise,
                user_id="U0USER",
                step="summary",
                status="completed",
                expires_at=utcnow() + timedelta(hours=1),
            )
        )
    datastore = Datastore(team_id="T0TEAM", name=name, name_key=name, created_by="U0USER", wizard_id=wizard_id)
    session.add(datastore)
    session.flush()
    return int(datastore.id)


def test_only_the_datastores_own_workspace_and_org_find_it(database_url: str) -> None:
    engine = make_engine(database_url)
    migrate(engine)
    try:
        with Session(engine) as session:
            in_org = _datastore(session, "grid", enterprise="E0ORG")
            plain = _datastore(session, "plain", enterprise=None)
            made_without_wizard = _datastore(session, "imported", enterprise=None, wizard=False)
            cases = [
                (in_org, Actor("T0TEAM", "U0USER", "E0ORG"), True),
                (in_org, Actor("T0TEAM", "U0USER"), False),
                (in_org, Actor("T0TEAM", "U0USER", "E0OTHER"), False),
                (in_org, Actor("T0OTHER", "U0USER", "E0ORG"), False),
                (plain, Actor("T0TEAM", "U0USER"), True),
                (plain, Actor("T0TEAM", "U0USER", "E0ORG"), False),
                (plain, Actor("T0OTHER", "U0USER"), False),
                (made_without_wizard, Actor("T0TEAM", "U0USER"), True),
                (made_without_wizard, Actor("T0TEAM", "U0USER", "E0ORG"), True),
                (made_without_wizard, Actor("T0OTHER", "U0USER"), False),
            ]
            for datastore_id, actor, found in cases:
                assert (home_datastore(session, datastore_id=datastore_id, actor=actor) is not None) == found, actor
            anyone = Actor("T0TEAM", "U0USER")
            for odd in (0, -1, 2**63, True, "1", None, 10**6):
                assert home_datastore(session, datastore_id=odd, actor=anyone) is None, odd
    finally:
        engine.dispose()
