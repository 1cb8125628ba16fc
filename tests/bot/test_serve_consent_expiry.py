"""Class 5 of issue #11, end to end through a real `datastore-bot serve`: the consent link expires before it is
opened. The page says to click "Open window" again and the modal carries a fresh link (the old one is used
up); following it connects, the wizard finishes and the sync reaches exactly one ✅."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.crypto import generate_key
from demo.fakes.atlassian import FakeAtlassian, OAuthApp, SiteConfig, SiteSpec
from demo.fakes.slack_api import FakeSlack
from demo.fakes.slack_requests import SlackRequestSender
from handlers.ids import CallbackId
from storage.db import make_engine
from storage.models import Datastore, OAuthState, SyncRun, utcnow
from tests.handlers.wizard_driver import WizardDriver
from tests.harness import SIGNING_SECRET, free_port, wait_until
from tests.served import CLIENT_ID, CLIENT_SECRET, Endpoint, Served, ServedWorld, serve, serve_environment

PAGES = 40
EXPIRED_PAGE = "Consent links work for 15 minutes. Go back to Slack and click “Open window” again."


def _state(url: str) -> str:
    return str(httpx.URL(url).params["state"])


def test_an_expired_consent_link_is_replaced_in_the_modal_and_the_sync_completes(
    fake_slack: FakeSlack, database_url: str, tmp_path: Path
) -> None:
    slack, port = fake_slack, free_port()
    callback = f"http://127.0.0.1:{port}/oauth/confluence/callback"
    spec = SiteSpec(spaces=2, pages_per_space=PAGES // 2, blogposts_per_space=0)
    apps = [OAuthApp(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, redirect_uris=(callback,))]
    engine = make_engine(database_url)  # the test's own view of the database `serve` uses
    logs: list[Served] = []
    try:
        with FakeAtlassian(sites=[SiteConfig(name="acme", spec=spec)], apps=apps) as atlassian:
            atlassian.set_consent(site_ids=(atlassian.cloud_id,))
            env = serve_environment(slack, atlassian, database_url, port, generate_key())
            with serve(env, port, tmp_path / "serve.log") as served:
                logs.append(served)
                with SlackRequestSender(f"http://127.0.0.1:{port}/slack/events", SIGNING_SECRET, slack) as sender:
                    driver = WizardDriver(ServedWorld(slack=slack, bot=Endpoint(sender)))
                    driver.start("create expiring")
                    driver.name("expiring")
                    driver.skip_top_off()
                    driver.site("acme")
                    assert driver.callback_id() == CallbackId.WIZARD_CONNECT
                    old_url = driver.open_window_url()

                    with engine.begin() as connection:  # fifteen minutes pass before the link is opened
                        expired = connection.execute(
                            update(OAuthState)
                            .where(OAuthState.used_at.is_(None))
                            .values(expires_at=utcnow() - timedelta(minutes=1))
                        )
                        assert expired.rowcount == 1
                    updates = len(slack.calls("views.update"))
                    page = httpx.get(old_url, follow_redirects=True, timeout=10)
                    # The fault was hit: the callback answered the expired page, and exchanged no code.
                    assert page.status_code == 400 and "This link expired" in page.text and EXPIRED_PAGE in page.text
                    assert not [r for r in atlassian.log if r.path.endswith("/oauth/token")]
                    slack.wait_for_call("views.update", count=updates + 1, timeout=10)
                    new_url = driver.open_window_url()
                    assert driver.callback_id() == CallbackId.WIZARD_CONNECT
                    assert new_url != old_url and _state(new_url) != _state(old_url)
                    replay = httpx.get(old_url, follow_redirects=True, timeout=10)
                    assert replay.status_code == 400 and "already used" in replay.text

                    page = driver.consent_in_browser()
                    assert page.status_code == 200 and "Connected to acme.atlassian.net" in page.text
                    driver.grant(None)
                    assert driver.submit().json == {"response_action": "clear"}

                def synced() -> bool:
                    with Session(engine) as session:
                        run = session.scalars(select(SyncRun)).one_or_none()
                        return run is not None and run.announced_ts is not None

                wait_until(synced, timeout=90, interval=0.2)
                with Session(engine) as session:
                    datastore = session.scalars(select(Datastore)).one()
                    run = session.scalars(select(SyncRun)).one()
                    states = session.scalars(select(OAuthState).order_by(OAuthState.created_at)).all()
                assert run.state == "finished" and run.outcome == "synced" and datastore.document_count == PAGES
                assert [state.used_at is not None for state in states] == [True, True]
                done = [
                    call
                    for call in slack.calls("chat.postMessage")
                    if call.args.get("thread_ts") == datastore.parent_ts and "✅" in str(call.args.get("text"))
                ]
                assert len(done) == 1 and done[0].response["ts"] == run.announced_ts
                assert "Traceback" not in served.output()
    except BaseException:
        for served in logs:
            print(f"----- {served.log.name} -----\n{served.output()}")
        raise
    finally:
        engine.dispose()
