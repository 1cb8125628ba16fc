"""The wizard's world: the bot, the fake Slack and a fake Atlassian whose app knows the bot's callback."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from demo.fakes.atlassian import FakeAtlassian, OAuthApp, SiteConfig, SiteSpec
from demo.fakes.slack_api import FakeSlack
from tests.harness import RunningBot, free_port, running_bot

CLIENT_ID = "datastore-bot-client"
CLIENT_SECRET = "datastore-bot-secret"


@dataclass
class World:
    bot: RunningBot
    slack: FakeSlack
    atlassian: FakeAtlassian


def make_world(
    fake_slack: FakeSlack, database_url: str, sites: list[SiteConfig], *, background: bool = False
) -> Iterator[World]:
    """The bot served on a free port whose callback the fake Atlassian app knows; consent covers the first site.
    ``background``: also run the sync worker and the progress scheduler, as `serve` does."""
    port = free_port()
    callback = f"http://127.0.0.1:{port}/oauth/confluence/callback"
    apps = [OAuthApp(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, redirect_uris=(callback,))]
    with FakeAtlassian(sites=sites, apps=apps) as atlassian:
        atlassian.set_consent(site_ids=(atlassian.cloud_id,))
        with running_bot(
            fake_slack,
            database_url,
            port=port,
            background=background,
            public_url=f"http://127.0.0.1:{port}",
            atlassian_client_id=CLIENT_ID,
            atlassian_client_secret=CLIENT_SECRET,
            atlassian_auth_url=atlassian.auth_url,
            atlassian_api_url=atlassian.api_url,
        ) as bot:
            yield World(bot=bot, slack=fake_slack, atlassian=atlassian)
            bot.sender.close()


@pytest.fixture
def world(fake_slack: FakeSlack, database_url: str) -> Iterator[World]:
    sites = [
        SiteConfig(name="acme", spec=SiteSpec(spaces=4, pages_per_space=3, blogposts_per_space=0)),
        SiteConfig(name="other", spec=SiteSpec(spaces=1, pages_per_space=1, blogposts_per_space=0)),
    ]
    yield from make_world(fake_slack, database_url, sites)
