"""Issue #12's acceptance for datastores that existed before access modes, end to end: migration 0007 (run by
`serve`'s start-up upgrade to head) marks them "everyone sees what <account> can see", shown as such, and the
real scheduler's offer job DMs each creator exactly once."""

from __future__ import annotations

import sqlalchemy as sa

from demo.fakes.slack_api import FakeSlack
from handlers.ids import ActionId
from storage.access_modes import AccessMode, AccessOffer
from storage.db import make_engine
from storage.migrate import upgrade_to
from storage.models import Datastore
from tests.harness import running_bot, wait_until

CREATOR, OTHER_CREATOR = "U0CREATOR", "U0SECOND"
NOW = "2026-11-30 10:00:00"


def _seed_0006(database_url: str, team_id: str) -> None:
    """Two datastores as revision 0006 knew them (before access modes), by two creators, on one connection."""
    engine = make_engine(database_url)
    upgrade_to(engine, "0006")
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO connections (id, team_id, created_by, cloud_id, site_url, account_name, scopes, "
                "token_version, status, created_at, updated_at) VALUES "
                "(1, :team, :creator, 'c1', 'https://acme.atlassian.net', 'Ada Lovelace', '', 0, 'active', :t, :t)"
            ),
            {"team": team_id, "creator": CREATOR, "t": NOW},
        )
        for id_, name, creator in ((1, "eng-wiki", CREATOR), (2, "hr-wiki", OTHER_CREATOR)):
            connection.execute(
                sa.text(
                    "INSERT INTO datastores (id, team_id, name, name_key, source, connection_id, share_all, status, "
                    "created_by, created_at, document_count) VALUES "
                    "(:id, :team, :name, :name, 'confluence', 1, true, 'synced', :creator, :t, 5)"
                ),
                {"id": id_, "team": team_id, "name": name, "creator": creator, "t": NOW},
            )
    engine.dispose()


def _offers(slack: FakeSlack, user: str) -> list[str]:
    return [m.text for m in slack.dms(user) if ActionId.ACCESS_OFFER_SWITCH in str(m.blocks)]


def test_existing_datastores_become_everyone_and_each_creator_gets_exactly_one_offer(
    fake_slack: FakeSlack, database_url: str
) -> None:
    for user in (CREATOR, OTHER_CREATOR):
        fake_slack.add_user(user, user.lower())
    _seed_0006(database_url, fake_slack.team_id)
    with running_bot(fake_slack, database_url, background=True) as bot:  # migrates to head on start-up
        with bot.services.sessions() as session:
            rows = {d.name: d for d in session.scalars(sa.select(Datastore))}
            assert {d.access_mode for d in rows.values()} == {AccessMode.EVERYONE}
        before = len(fake_slack.calls("response_url"))
        assert bot.sender.slash_command("status eng-wiki", user_id=CREATOR).status == 200
        status = fake_slack.wait_for_call("response_url", count=before + 1, timeout=5).args
        assert "Everyone in this workspace sees what *Ada Lovelace* can see" in str(status)

        # The real scheduler's offer job (first run 5 s after start, then every minute).
        wait_until(lambda: bool(_offers(fake_slack, CREATOR)) and bool(_offers(fake_slack, OTHER_CREATOR)), timeout=20)
        offers = bot.app.access_offers
        assert offers is not None
        offers()  # the job's later runs (as every minute) send nothing more
        offers()
        (offer,) = _offers(fake_slack, CREATOR)
        (other,) = _offers(fake_slack, OTHER_CREATOR)
        assert "*eng-wiki*" in offer and "*hr-wiki*" in other and "Ada Lovelace" in offer
        with bot.services.sessions() as session:
            assert set(session.scalars(sa.select(Datastore.access_offer))) == {AccessOffer.SENT}
        bot.sender.close()
