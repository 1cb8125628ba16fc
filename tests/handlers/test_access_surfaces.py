"""Who sees a datastore, over HTTP (issue #12 step 1): `/datastore search` (ephemeral and shared), `/datastore status`
with the access audit and App Home name the connecting account; a datastore set to "each" — which nothing can
choose yet and nothing filters for — shows nothing rather than everything."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from demo.fakes.atlassian import SiteSpec
from demo.fakes.slack_api import FakeSlack
from handlers.ids import ActionId, BlockId
from storage.access_audit import record_access_change
from storage.access_modes import AccessMode, AuditSource
from storage.models import Connection, Datastore
from tests.bot.sync.conftest import TEAM, SyncWorld, make_world
from tests.harness import RunningBot, running_bot, wait_until

ACCOUNT = "Ada <!channel> Lovelace"
SHOWN = "Everyone in this workspace sees what *Ada &lt;!channel&gt; Lovelace* can see in Confluence"


@pytest.fixture
def synced(database_url: str) -> Iterator[tuple[SyncWorld, RunningBot]]:
    spec = SiteSpec(spaces=1, pages_per_space=12, blogposts_per_space=0, body_bytes=1500)
    with FakeSlack(team_id=TEAM) as slack:
        for world in make_world(database_url, spec):
            world.queue(kind="full")
            world.worker().run_until_idle()
            with world.services.sessions.begin() as session:
                session.scalars(select(Connection)).one().account_name = ACCOUNT
            settings = world.services.settings
            assert settings.encryption_key is not None
            with running_bot(slack, database_url, encryption_key=settings.encryption_key.get_secret_value()) as bot:
                yield world, bot
                bot.sender.close()


def _reply(bot: RunningBot, text: str) -> dict[str, Any]:
    before = len(bot.slack.calls("response_url"))
    assert bot.sender.slash_command(text).status == 200
    return bot.slack.wait_for_call("response_url", count=before + 1, timeout=5).args


def _access_block(reply: dict[str, object]) -> str:
    blocks = reply["blocks"]
    assert isinstance(blocks, list)
    (block,) = [b for b in blocks if b.get("block_id") == BlockId.SEARCH_ACCESS]
    return str(block["elements"][0]["text"])


def test_search_and_shared_results_name_the_connecting_account(synced: tuple[SyncWorld, RunningBot]) -> None:
    world, bot = synced
    hints = world.atlassian.site.page_text_hints(sorted(world.atlassian.site.ids("page"))[2])
    reply = _reply(bot, f"search eng-wiki {hints.tag}")
    assert _access_block(reply) == f":eyes: {SHOWN}" and "<!channel>" not in str(reply)
    assert _access_block(_reply(bot, "search eng-wiki zzqxv-nothing-like-this")) == f":eyes: {SHOWN}"
    blocks = reply["blocks"]
    assert isinstance(blocks, list)
    value = blocks[-1]["elements"][0]["value"]
    before = len(bot.slack.calls("response_url"))
    clicked = bot.sender.click_in_ephemeral(
        ActionId.SHARE_RESULTS, "search-actions", value, bot.slack.default_channel_id
    )
    assert clicked.status == 200
    shared = bot.slack.wait_for_call("response_url", count=before + 1, timeout=5).args
    assert shared["response_type"] == "in_channel" and _access_block(shared) == f":eyes: {SHOWN}"


def test_status_names_the_account_and_shows_the_latest_audit_entries(synced: tuple[SyncWorld, RunningBot]) -> None:
    world, bot = synced
    with world.services.sessions.begin() as session:
        for day in range(1, 6):
            record_access_change(
                session,
                datastore_id=world.datastore_id,
                team_id=TEAM,
                actor_user_id="U0ADMIN" if day % 2 else None,
                source=AuditSource.SLACK if day % 2 else AuditSource.CLI,
                old_value=None,
                new_value=AccessMode.EVERYONE,
                account_name=f"Account of day {day}",
                now=datetime(2026, 12, day, 9, 0, tzinfo=UTC),
            )
    status = _reply(bot, "status eng-wiki")
    assert SHOWN in str(status["text"])
    (audit,) = [b for b in status["blocks"] if b.get("block_id") == BlockId.ACCESS_HISTORY]
    lines = audit["elements"][0]["text"].splitlines()
    assert lines == [
        "Access changes (latest first):",
        "• 05 Dec 2026 09:00 UTC · everyone · by <@U0ADMIN> · named *Account of day 5*",
        "• 04 Dec 2026 09:00 UTC · everyone · by an operator (command line) · named *Account of day 4*",
        "• 03 Dec 2026 09:00 UTC · everyone · by <@U0ADMIN> · named *Account of day 3*",
    ]


def test_app_home_names_the_connecting_account(synced: tuple[SyncWorld, RunningBot]) -> None:
    _world, bot = synced
    slack = bot.slack
    assert bot.sender.app_home_opened().status == 200
    wait_until(lambda: slack.home_view(slack.default_user_id) is not None, timeout=5)
    home = slack.home_view(slack.default_user_id)
    assert home is not None and SHOWN in str(home.blocks)


def test_a_datastore_set_to_each_shows_an_unlinked_person_only_the_connect_prompt(
    synced: tuple[SyncWorld, RunningBot],
) -> None:
    world, bot = synced
    hints = world.atlassian.site.page_text_hints(sorted(world.atlassian.site.ids("page"))[2])
    reply = _reply(bot, f"search eng-wiki {hints.tag}")
    blocks = reply["blocks"]
    assert isinstance(blocks, list)
    value = blocks[-1]["elements"][0]["value"]
    with world.services.sessions.begin() as session:
        datastore = session.get(Datastore, world.datastore_id)
        assert datastore is not None
        datastore.access_mode = AccessMode.EACH
    refused = _reply(bot, f"search eng-wiki {hints.tag}")
    assert "Connect your Confluence account" in str(refused) and hints.title not in str(refused)
    assert hints.tag not in str(refused["blocks"][1:])  # no result: only the prompt
    before = len(bot.slack.calls("response_url"))
    clicked = bot.sender.click_in_ephemeral(
        ActionId.SHARE_RESULTS, "search-actions", value, bot.slack.default_channel_id
    )
    assert clicked.status == 200
    wait_until(lambda: len(bot.slack.calls("response_url")) > before, timeout=5)
    shared = bot.slack.calls("response_url")[before:]
    assert all(hints.title not in str(call.args) for call in shared)
    assert not [c for c in shared if c.args.get("response_type") == "in_channel"]
    status = _reply(bot, "status eng-wiki")
    assert "Each person sees only what they can see in Confluence" in str(status["text"])
