"""The wizard's world: the bot, the fake Slack and a fake Atlassian whose app knows the bot's callback."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.fakes.atlassian import FakeAtlassian, OAuthApp, SiteConfig, SiteSpec
from tests.fakes.slack_api import FakeSlack
from tests.harness import RunningBot, free_port, running_bot

CLIENT_ID = "datastore-bot-client"
CLIENT_SECRET = "datastore-bot-secret"


@dataclass
class World:
    bot: RunningBot
    slack: FakeSlack
    atlassian: FakeAtlassian


@pytest.fixture
def world(fake_slack: FakeSlack, database_url: str) -> Iterator[World]:
    port = free_port()
    callback = f"http://127.0.0.1:{port}/oauth/confluence/callback"
    sites = [
        SiteConfig(name="acme", spec=SiteSpec(spaces=4, pages_per_space=3, blogposts_per_space=0)),
        SiteConfig(name="other", spec=SiteSpec(spaces=1, pages_per_space=1, blogposts_per_space=0)),
    ]
    apps = [OAuthApp(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, redirect_uris=(callback,))]
    with FakeAtlassian(sites=sites, apps=apps) as atlassian:
        atlassian.set_consent(site_ids=(atlassian.cloud_id,))
        with running_bot(
            fake_slack,
            database_url,
            port=port,
            public_url=f"http://127.0.0.1:{port}",
            atlassian_client_id=CLIENT_ID,
            atlassian_client_secret=CLIENT_SECRET,
            atlassian_auth_url=atlassian.auth_url,
            atlassian_api_url=atlassian.api_url,
        ) as bot:
            yield World(bot=bot, slack=fake_slack, atlassian=atlassian)
            bot.sender.close()
