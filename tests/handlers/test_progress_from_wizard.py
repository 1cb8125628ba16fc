"""Issue #5's acceptance, as a new user sees it: the wizard creates a datastore, the real sync worker indexes
2,000 pages and the real scheduler keeps the thread updated until the ✅ reply."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from demo.fakes.atlassian import SiteConfig, SiteSpec
from demo.fakes.slack_api import FakeSlack
from storage.models import Datastore, SyncRun
from tests.handlers.conftest import World, make_world
from tests.handlers.wizard_driver import WizardDriver
from tests.harness import wait_until

PAGES = 2_000
#: chat.update's discipline: at most one progress update per this many seconds (handlers/progress.py).
MIN_INTERVAL = 3.0
#: The acceptance's "plus a few": the first update while queued, the final one, and a tick's slack each side.
FEW = 4


@pytest.fixture
def serving(fake_slack: FakeSlack, database_url: str) -> Iterator[World]:
    spec = SiteSpec(spaces=1, pages_per_space=PAGES, blogposts_per_space=0, body_bytes=1500)
    yield from make_world(fake_slack, database_url, [SiteConfig(name="acme", spec=spec)], background=True)


def test_a_sync_started_from_the_wizard_ends_with_a_check_mark_and_few_updates(serving: World) -> None:
    world, slack = serving, serving.slack
    # A slow Confluence (0.2 s a request, 2 s per 250 page bodies): the sync lasts long enough (about 10 s)
    # that a progress update every tick would break the bound below.
    world.atlassian.set_latency(0.2)
    world.atlassian.set_latency(2.0, "GET /wiki/api/v2/pages")
    world.atlassian.set_latency(2.0, "GET */wiki/api/v2/spaces/*/pages?*body-format=storage*")  # one-pass listings
    driver = WizardDriver(world)
    driver.connect("eng-wiki", "acme")
    driver.grant(None)
    assert driver.submit().json == {"response_action": "clear"}

    parent = slack.wait_for_call("chat.postMessage", timeout=5)
    channel, parent_ts = str(parent.response["channel"]), str(parent.response["ts"])
    completion = slack.wait_for_call(
        "chat.postMessage",
        lambda c: c.args.get("thread_ts") == parent_ts and "✅" in str(c.args.get("text")),
        timeout=90,
    )

    def announced() -> bool:
        with world.bot.services.sessions() as session:
            return session.scalars(select(SyncRun.announced_ts)).one() is not None

    wait_until(announced)  # the updater records the reply (and adds the reaction) after posting it
    with world.bot.services.sessions() as session:
        datastore = session.scalars(select(Datastore)).one()
        run = session.scalars(select(SyncRun)).one()
        assert datastore.document_count == PAGES
        assert run.state == "finished" and run.outcome == "synced" and run.processed == PAGES
        assert run.trigger == "create" and run.announced_ts == completion.response["ts"]
        assert run.started_at is not None and run.finished_at is not None
        duration = (run.finished_at - run.started_at).total_seconds()
        progress_ts = datastore.progress_ts
    assert datastore.channel_id == channel and datastore.parent_ts == parent_ts and progress_ts is not None

    # The thread, as the channel sees it: the progress reply, then exactly one completion reply.
    replies = slack.thread_replies(channel, parent_ts)
    assert [reply.ts for reply in replies] == [progress_ts, completion.response["ts"]]
    final = replies[-1].text
    assert final.startswith(f"✅ *eng-wiki* is ready — {PAGES:,} documents synced in"), final

    # The progress reply was kept live while pages were processed, and its last update shows the outcome.
    updates = [c for c in slack.calls("chat.update") if c.args.get("ts") == progress_ts]
    assert all(c.ok for c in updates)
    assert any("*Processing*" in str(c.args.get("text")) for c in updates)
    assert str(updates[-1].args.get("text")).startswith("eng-wiki: *Synced ✅* — 2,000 processed")
    shown = slack.message(channel, progress_ts)
    assert "*Synced ✅* — 2,000 processed, 0 unchanged, 0 failed" in shown.text
    assert "2,000 documents searchable" in str(shown.blocks)
    # chat.update discipline: at most one update per 3 s while the reply is kept (the run, and the hold while
    # its last pages' permissions are read, which may follow it), plus a few.
    shown_texts = [str(c.args.get("text")) for c in updates]
    kept = max(duration, updates[-1].time - updates[0].time)
    assert 2 <= len(updates) <= kept / MIN_INTERVAL + FEW, (duration, kept, shown_texts)
    # The channel message's status line and reaction say the same.
    top = slack.message(channel, parent_ts)
    assert "· Synced ✅ · last sync " in top.text and top.text.endswith(f"· {PAGES:,} documents")
    assert "white_check_mark" in top.reactions
