"""Issue #5's acceptance: `datastore-bot serve` killed mid-sync and started again keeps the same thread going.

Two real `serve` processes in turn on one database, against the fake Slack and the fake Atlassian: the first
is SIGKILLed while pages are being processed; the second takes over the run (after its sync lease) and the
thread (after the progress lease), updates the same progress reply and posts exactly one completion reply.
"""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.crypto import generate_key
from demo.fakes.atlassian import FakeAtlassian, OAuthApp, SiteConfig, SiteSpec
from demo.fakes.slack_api import FakeSlack
from demo.fakes.slack_calls import SlackCall
from demo.fakes.slack_requests import SlackRequestSender
from storage.db import make_engine
from storage.models import Datastore, SyncRun
from tests.handlers.wizard_driver import WizardDriver
from tests.harness import SIGNING_SECRET, free_port, wait_until
from tests.served import CLIENT_ID, CLIENT_SECRET, Endpoint, Served, ServedWorld, serve, serve_environment

PAGES = 2_000


def _run(engine: Engine) -> SyncRun | None:
    with Session(engine) as session:
        return session.scalars(select(SyncRun)).one_or_none()


def _datastore(engine: Engine) -> Datastore:
    with Session(engine) as session:
        return session.scalars(select(Datastore)).one()


def test_serve_killed_mid_sync_carries_on_in_the_same_thread(
    fake_slack: FakeSlack, database_url: str, tmp_path: Path
) -> None:
    slack, port = fake_slack, free_port()
    callback = f"http://127.0.0.1:{port}/oauth/confluence/callback"
    # Two spaces of four listing pages each, listed one page after the other: the sync lasts about 8 s.
    spec = SiteSpec(spaces=2, pages_per_space=PAGES // 2, blogposts_per_space=0, body_bytes=1500)
    apps = [OAuthApp(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, redirect_uris=(callback,))]
    logs: list[Served] = []
    engine = make_engine(database_url)  # the test's own view of the database both processes share
    try:
        with FakeAtlassian(sites=[SiteConfig(name="acme", spec=spec)], apps=apps) as atlassian:
            atlassian.set_consent(site_ids=(atlassian.cloud_id,))
            # Slow page bodies (2 s per 250): processing lasts several seconds, so the kill lands inside it.
            atlassian.set_latency(0.1)
            atlassian.set_latency(2.0, "GET /wiki/api/v2/pages")
            atlassian.set_latency(2.0, "GET */wiki/api/v2/spaces/*/pages?*body-format=storage*")  # one-pass listings
            env = serve_environment(slack, atlassian, database_url, port, generate_key(), SYNC_LEASE_SECONDS="2")

            with serve(env, port, tmp_path / "serve-1.log") as first:
                logs.append(first)
                with SlackRequestSender(f"http://127.0.0.1:{port}/slack/events", SIGNING_SECRET, slack) as sender:
                    driver = WizardDriver(ServedWorld(slack=slack, bot=Endpoint(sender)))
                    driver.connect("eng-wiki", "acme")
                    driver.grant(None)
                    assert driver.submit().json == {"response_action": "clear"}

                def processing() -> bool:
                    run = _run(engine)
                    assert run is None or run.state != "finished", "the sync finished before serve was killed"
                    return run is not None and run.phase == "processing" and run.processed > 0

                wait_until(processing, timeout=60, interval=0.05)
                datastore = _datastore(engine)
                channel, parent_ts, progress_ts = datastore.channel_id, datastore.parent_ts, datastore.progress_ts
                assert channel and parent_ts and progress_ts
                wait_until(lambda: _updates(slack, progress_ts) != [], timeout=15)
                first.crash()
                if Path("/proc/self/stat").exists():
                    try:
                        wait_until(lambda: first.living_group_members() == [], timeout=10)
                    except AssertionError:
                        orphans = first.living_group_members()
                        raise AssertionError(f"processes of the killed serve live on: {orphans}") from None
            updated_before_kill = len(_updates(slack, progress_ts))
            before = _run(engine)
            assert before is not None and before.state == "running" and 0 < before.processed < PAGES

            with serve(env, port, tmp_path / "serve-2.log") as second:
                logs.append(second)
                completion = slack.wait_for_call(
                    "chat.postMessage",
                    lambda c: c.args.get("thread_ts") == parent_ts and "✅" in str(c.args.get("text")),
                    timeout=60,
                )

                def announced() -> bool:
                    run = _run(engine)
                    return run is not None and run.announced_ts is not None

                wait_until(announced, timeout=10)
                # A few more ticks of the restarted process: nothing else may be posted in the thread.
                time.sleep(2.5)

        after = _run(engine)
        assert after is not None and after.id == before.id
        assert after.state == "finished" and after.outcome == "synced"
        assert after.announced_ts == completion.response["ts"]
        datastore = _datastore(engine)
        assert datastore.document_count == PAGES
        # The same thread and the same progress reply: nothing was re-announced or re-posted.
        assert (datastore.channel_id, datastore.parent_ts, datastore.progress_ts) == (channel, parent_ts, progress_ts)
        threaded = [c for c in slack.calls("chat.postMessage") if c.args.get("thread_ts") == parent_ts]
        assert [c.response["ts"] for c in threaded] == [progress_ts, completion.response["ts"]]
        assert [m.ts for m in slack.thread_replies(channel, parent_ts)] == [progress_ts, completion.response["ts"]]
        parents = [c for c in slack.calls("chat.postMessage") if "thread_ts" not in c.args]
        assert [c.response["ts"] for c in parents] == [parent_ts]
        assert str(completion.args["text"]).startswith(f"✅ *eng-wiki* is ready — {PAGES:,} documents synced in")
        # The restarted process went on updating that same reply, up to the final state (which the first process,
        # killed while processing, could not have shown).
        updates = _updates(slack, progress_ts)
        assert all(c.ok for c in updates)
        assert len(updates) > updated_before_kill, "the restarted serve never updated the progress reply"
        assert str(updates[-1].args.get("text")).startswith(f"eng-wiki: *Synced ✅* — {PAGES:,} processed")
        assert "*Synced ✅*" in slack.message(channel, progress_ts).text
        assert slack.message(channel, parent_ts).reactions.get("white_check_mark")
    except BaseException:
        for served in logs:
            print(f"----- {served.log.name} -----\n{served.output()}")
        raise
    finally:
        engine.dispose()


def _updates(slack: FakeSlack, ts: str) -> list[SlackCall]:
    return [c for c in slack.calls("chat.update") if c.args.get("ts") == ts]
