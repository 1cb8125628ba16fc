"""/datastore list, status and search over HTTP, with data synced from the fake Atlassian."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from demo.fakes.atlassian import SiteSpec
from demo.fakes.slack_api import FakeSlack
from handlers.ids import ActionId
from storage.documents import Document
from tests.bot.sync.conftest import TEAM, SyncWorld, make_world
from tests.harness import RunningBot, running_bot, wait_until


@pytest.fixture
def synced(database_url: str) -> Iterator[tuple[SyncWorld, RunningBot]]:
    spec = SiteSpec(spaces=2, pages_per_space=30, blogposts_per_space=2, body_bytes=3000)
    with FakeSlack(team_id=TEAM) as slack:
        for world in make_world(database_url, spec):
            world.queue(kind="full")
            world.worker().run_until_idle()
            settings = world.services.settings
            assert settings.encryption_key is not None
            with running_bot(slack, database_url, encryption_key=settings.encryption_key.get_secret_value()) as bot:
                yield world, bot
                bot.sender.close()


def _reply(bot: RunningBot, text: str, user_id: str | None = None) -> dict[str, object]:
    before = len(bot.slack.calls("response_url"))
    assert bot.sender.slash_command(text, user_id=user_id).status == 200
    return bot.slack.wait_for_call("response_url", count=before + 1, timeout=5).args


def test_search_finds_the_page_whose_content_matches_first(synced: tuple[SyncWorld, RunningBot]) -> None:
    world, bot = synced
    site = world.atlassian.site
    page_id = sorted(site.ids("page"))[7]
    hints = site.page_text_hints(page_id)
    for query in (hints.tag, hints.phrase, hints.unique_non_ascii):
        reply = _reply(bot, f"search eng-wiki {query}")
        assert reply["response_type"] == "ephemeral"
        first_hit = reply["blocks"][2]["text"]["text"]  # type: ignore[index]
        assert hints.title in first_hit, (query, first_hit)
        assert "*" in first_hit  # matching words in bold


def test_search_with_a_quoted_name_and_no_hits(synced: tuple[SyncWorld, RunningBot]) -> None:
    _world, bot = synced
    reply = _reply(bot, 'search "ENG-WIKI" zzqxv-nothing-like-this')
    assert "No results for “zzqxv-nothing-like-this” in *eng-wiki*" in str(reply["text"])
    assert "Try fewer or different words" in str(reply["blocks"])
    unknown = _reply(bot, "search nope something")
    assert "There is no datastore named *nope* here" in str(unknown["text"])
    usage = bot.sender.slash_command("search eng-wiki")
    assert usage.json is not None and "Say where and what" in usage.json["text"]


def test_share_posts_the_results_for_everyone(synced: tuple[SyncWorld, RunningBot]) -> None:
    world, bot = synced
    hints = world.atlassian.site.page_text_hints(sorted(world.atlassian.site.ids("page"))[3])
    reply = _reply(bot, f"search eng-wiki {hints.tag}")
    value = reply["blocks"][-1]["elements"][0]["value"]  # type: ignore[index]
    before = len(bot.slack.calls("response_url"))
    clicked = bot.sender.click_in_ephemeral(
        ActionId.SHARE_RESULTS, "search-actions", value, bot.slack.default_channel_id
    )
    assert clicked.status == 200
    shared = bot.slack.wait_for_call("response_url", count=before + 1, timeout=5).args
    assert shared["response_type"] == "in_channel" and "shared by" in str(shared["blocks"])


def test_list_and_status(synced: tuple[SyncWorld, RunningBot]) -> None:
    _world, bot = synced
    listing = _reply(bot, "list")
    assert "*eng-wiki* — Confluence · acme.atlassian.net · Synced ✅ · 64 documents" in str(listing["text"])
    status = _reply(bot, "status eng-wiki")
    assert "Synced ✅" in str(status["text"]) and "64 documents searchable" in str(status["text"])
    assert "next scheduled sync" in str(status["text"])


def test_sync_now_queues_once_and_refuses_politely_while_one_is_queued(synced: tuple[SyncWorld, RunningBot]) -> None:
    world, bot = synced
    bot.slack.add_user("U1", "creator")
    reply = _reply(bot, "sync eng-wiki")
    assert "is queued" not in str(reply["text"])  # the tester did not create it and is no admin
    assert "or a workspace admin can sync it" in str(reply["text"])
    bot.slack.add_user("U0BOSS", "boss", is_admin=True)
    bot.slack.add_channel_member(bot.slack.default_channel_id, "U0BOSS")
    before = len(bot.slack.calls("response_url"))
    assert bot.sender.slash_command("sync eng-wiki --full", user_id="U0BOSS").status == 200
    queued = bot.slack.wait_for_call("response_url", count=before + 1, timeout=5).args
    assert "A full resync (every page processed again) of *eng-wiki* is queued" in str(queued["text"])
    assert bot.sender.slash_command("sync eng-wiki", user_id="U0BOSS").status == 200
    again = bot.slack.wait_for_call("response_url", count=before + 2, timeout=5).args
    assert "is already syncing" in str(again["text"])
    with world.services.sessions() as session:
        from sqlalchemy import select

        from storage.models import SyncRun

        assert [r.kind for r in session.scalars(select(SyncRun).where(SyncRun.state == "queued"))] == ["full"]


def test_search_during_a_sync_covers_what_is_processed_and_says_so(database_url: str) -> None:
    # More pages than three listing pages hold (250 each): once the first is stored, the second is already
    # asked for, and the hold keeps the rest back until the searches are done.
    spec = SiteSpec(spaces=1, pages_per_space=800, blogposts_per_space=0, body_bytes=2000)
    with FakeSlack(team_id=TEAM) as slack:
        for world in make_world(database_url, spec):
            world.atlassian.set_latency(0.3)
            run_id = world.queue(kind="full")
            worker = threading.Thread(target=world.worker(batch_size=20).run_until_idle, daemon=True)
            worker.start()
            wait_until(lambda w=world: w.datastore().document_count >= 20, timeout=30)  # type: ignore[misc]
            world.atlassian.faults.hold()  # the rest of the sync waits until the searches are done
            settled = -1  # … once the answers already on their way (0.3 s each) are stored
            while (count := world.datastore().document_count) != settled:
                settled = count
                time.sleep(1.0)
            settings = world.services.settings
            assert settings.encryption_key is not None
            key = settings.encryption_key.get_secret_value()
            with running_bot(slack, database_url, encryption_key=key) as bot:
                with world.services.sessions() as session:
                    done = sorted(session.scalars(select(Document.source_id)))
                site = world.atlassian.site
                waiting = str(max(set(site.ids("page")) - {int(source_id) for source_id in done}))  # listed last
                found = _reply(bot, f"search eng-wiki {site.page_text_hints(int(done[0])).tag}")
                assert site.page_text_hints(int(done[0])).title in str(found["blocks"])
                assert re.search(r"Searching \d+ of ~800 documents — sync in progress", str(found["blocks"]))
                missing = _reply(bot, f"search eng-wiki {site.page_text_hints(int(waiting)).tag}")
                assert "No results" in str(missing["text"])
                assert "the sync is still running, so more pages become searchable soon" in str(missing["blocks"])
                with world.services.sessions() as session:  # it was indeed not processed yet when searched
                    assert session.scalars(select(Document).where(Document.source_id == waiting)).first() is None
                bot.sender.close()
            world.atlassian.faults.release()
            worker.join(timeout=60)
            assert world.run(run_id).outcome == "synced"


def test_schedule_changes_how_often_it_resyncs(synced: tuple[SyncWorld, RunningBot]) -> None:
    world, bot = synced
    refused = _reply(bot, "schedule eng-wiki 6h")  # the tester neither created it nor is an admin
    assert "or a workspace admin can reschedule it. Nothing changed." in str(refused["text"])
    assert world.datastore().sync_interval_minutes is None
    bot.slack.add_user("U1", "creator")
    bot.slack.add_channel_member(bot.slack.default_channel_id, "U1")
    set_reply = _reply(bot, "schedule eng-wiki 6h", user_id="U1")
    assert "*eng-wiki* now resyncs every 6 hours" in str(set_reply["text"])
    assert world.datastore().sync_interval_minutes == 360
    status = _reply(bot, "status eng-wiki")
    assert "next scheduled sync" in str(status["text"])
    assert "Deleted pages are found by a resync that lists every page, every day (last " in str(status["text"])
    assert "(last never)" not in str(status["text"])  # the first sync listed every page
    unreadable = bot.sender.slash_command("schedule eng-wiki often", user_id="U1")
    assert unreadable.json is not None and "say `90m`, `6h`, `1d` or `default`" in unreadable.json["text"]
    too_often = bot.sender.slash_command("schedule eng-wiki 5m", user_id="U1")
    assert too_often.json is not None and "every 15 minutes at the most often" in too_often.json["text"]
    assert world.datastore().sync_interval_minutes == 360
    reset = _reply(bot, "schedule eng-wiki default", user_id="U1")
    assert "now resyncs every 3 hours (the default)" in str(reset["text"])
    assert world.datastore().sync_interval_minutes is None
    assert "checks for pages deleted in Confluence every day (the default)" in str(reset["text"])
    both = _reply(bot, "schedule eng-wiki 6h --deletions 12h", user_id="U1")
    assert "resyncs every 6 hours; checks for pages deleted in Confluence every 12 hours" in str(both["text"])
    only = _reply(bot, "schedule eng-wiki --deletions 2d", user_id="U1")  # the resync interval stays
    assert "resyncs every 6 hours; checks for pages deleted in Confluence every 2 days" in str(only["text"])
    assert (world.datastore().sync_interval_minutes, world.datastore().deletion_interval_minutes) == (360, 2880)
    for typed, said in [
        ("schedule eng-wiki --deletions 30m", "every hour at the most often"),
        ("schedule eng-wiki --deletions", "how often to check for deleted pages"),
        ("schedule eng-wiki 6h --deletions 1d --deletions 2d", "how often to check for deleted pages"),
        ("schedule eng-wiki", "how often to check for deleted pages"),
    ]:
        answer = bot.sender.slash_command(typed, user_id="U1")
        assert answer.json is not None and said in answer.json["text"], typed
    assert world.datastore().deletion_interval_minutes == 2880  # nothing refused changed anything
