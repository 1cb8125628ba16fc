"""A synced "everyone" datastore created by ``CREATOR``, served by the real bot over HTTP, for the tests of
`/datastore access`, `/datastore limit` and the offer DM (issue #12 steps 6-7)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from demo.fakes.atlassian import SiteSpec
from demo.fakes.slack_api import FakeSlack
from storage.access_audit import AccessAudit
from storage.models import Connection, Datastore
from tests.bot.sync.conftest import TEAM, SyncWorld, make_world
from tests.harness import RunningBot, running_bot

__all__ = ["ACCOUNT", "ADMIN", "CREATOR", "OTHER", "AccessWorld", "access_world"]

ACCOUNT = "Ada <!channel> Lovelace"
CREATOR, ADMIN, OTHER = "U0CREATOR", "U0ADMIN", "U0TESTER"


@dataclass
class AccessWorld:
    sync: SyncWorld
    bot: RunningBot

    @property
    def slack(self) -> FakeSlack:
        return self.bot.slack

    def reply(self, text: str, *, user_id: str = OTHER, channel_id: str | None = None) -> dict[str, Any]:
        """The answer to a slash command (its ack's message, or its first response_url post)."""
        before = len(self.slack.calls("response_url"))
        response = self.bot.sender.slash_command(text, user_id=user_id, channel_id=channel_id)
        assert response.status == 200
        if response.body.strip():
            answer = response.json
            assert isinstance(answer, dict)
            return answer
        return self.slack.wait_for_call("response_url", count=before + 1, timeout=5).args

    def datastore(self) -> Datastore:
        with self.bot.services.sessions() as session:
            datastore = session.get(Datastore, self.sync.datastore_id)
            assert datastore is not None
            session.expunge(datastore)
            return datastore

    def audit(self) -> list[tuple[str | None, str, str, str | None, str]]:
        """(actor, source, action, old, new) of every audit row, oldest first."""
        with self.bot.services.sessions() as session:
            rows = session.scalars(select(AccessAudit).order_by(AccessAudit.id))
            return [(r.actor_user_id, r.source, r.action, r.old_value, r.new_value) for r in rows]


def access_world(database_url: str, *, background: bool = False) -> Iterator[AccessWorld]:
    spec = SiteSpec(spaces=1, pages_per_space=6, blogposts_per_space=0, body_bytes=800)
    with FakeSlack(team_id=TEAM) as slack:
        slack.add_user(CREATOR, "creator")
        slack.add_user(ADMIN, "admin", is_admin=True)
        slack.add_channel("C0OTHER", "other", members=[OTHER, CREATOR])
        for world in make_world(database_url, spec):
            world.queue(kind="full")
            world.worker().run_until_idle()
            with world.services.sessions.begin() as session:
                session.scalars(select(Connection)).one().account_name = ACCOUNT
                datastore = session.get(Datastore, world.datastore_id)
                assert datastore is not None
                datastore.created_by = CREATOR
            settings = world.services.settings
            assert settings.encryption_key is not None
            key = settings.encryption_key.get_secret_value()
            with running_bot(slack, database_url, encryption_key=key, background=background) as bot:
                yield AccessWorld(world, bot)
                bot.sender.close()
