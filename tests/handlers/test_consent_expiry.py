"""Class 5 of issue #11: a consent link that expired gives the wizard's modal a fresh one (as every other
consent failure offers one); any other bad state — used, of a finished or abandoned wizard, someone else's —
changes nothing. The browser side is unsigned: only the state's own wizard is ever touched."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import select

from handlers.ids import ActionId, BlockId, CallbackId
from storage.models import Connection, Datastore, OAuthState, Wizard
from storage.states import WizardStatus
from tests.db_snapshot import changed_tables, snapshot
from tests.handlers.conftest import World
from tests.handlers.test_reconnect import _created
from tests.handlers.wizard_driver import WizardDriver
from tests.harness import wait_until

EXPIRED_PAGE = "Consent links work for 15 minutes. Go back to Slack and click “Open window” again."


def _waiting(world: World, name: str, *, user_id: str | None = None) -> WizardDriver:
    driver = WizardDriver(world, user_id)
    driver.start(f"create {name}")
    driver.name(name)
    driver.skip_top_off()
    driver.site("acme")
    return driver


def _expire_links(world: World) -> None:
    with world.bot.services.sessions.begin() as session:
        for row in session.scalars(select(OAuthState).where(OAuthState.used_at.is_(None))):
            row.expires_at = row.created_at - timedelta(minutes=1)


def _state(url: str) -> str:
    return str(httpx.URL(url).params["state"])


def _token_exchanges(world: World) -> int:
    return sum(1 for record in world.atlassian.log if record.path.endswith("/oauth/token"))


def _unchanged(world: World, url: str, text: str) -> None:
    """Opening ``url`` answers ``text`` and changes nothing: no row, no Slack call, no token exchange."""
    engine = world.bot.services.engine
    before, calls, exchanges = snapshot(engine), len(world.slack.calls()), _token_exchanges(world)
    page = httpx.get(url, follow_redirects=True, timeout=10)
    assert page.status_code == 400 and text in page.text
    after = snapshot(engine)
    assert after == before, changed_tables(before, after)
    assert world.slack.calls()[calls:] == [] and _token_exchanges(world) == exchanges


def test_an_expired_link_gives_the_open_modal_a_fresh_one(world: World) -> None:
    driver = _waiting(world, "late")
    old_url = driver.open_window_url()
    _expire_links(world)
    updates, exchanges = len(world.slack.calls("views.update")), _token_exchanges(world)
    page = httpx.get(old_url, follow_redirects=True, timeout=10)
    assert page.status_code == 400 and "This link expired" in page.text and EXPIRED_PAGE in page.text
    world.slack.wait_for_call("views.update", count=updates + 1, timeout=5)
    assert _token_exchanges(world) == exchanges, "an expired state must not be exchanged"
    assert driver.callback_id() == CallbackId.WIZARD_CONNECT
    new_url = driver.open_window_url()
    assert new_url != old_url and _state(new_url) != _state(old_url)
    with world.bot.services.sessions() as session:
        rows = session.scalars(select(OAuthState).order_by(OAuthState.created_at)).all()
        assert [row.used_at is not None for row in rows] == [True, False]
    _unchanged(world, old_url, "already used")  # a replay of the expired link is used up
    assert driver.consent_in_browser().status_code == 200
    assert driver.callback_id() == CallbackId.WIZARD_GRANT_ACCESS


def test_an_expired_link_with_the_modal_closed_sends_continue_setup(world: World) -> None:
    driver = _waiting(world, "closed")
    old_url = driver.open_window_url()
    driver.sender.view_closed(driver.view_id)
    _expire_links(world)
    page = httpx.get(old_url, follow_redirects=True, timeout=10)
    assert page.status_code == 400 and EXPIRED_PAGE in page.text
    dm = world.slack.wait_for_call("chat.postMessage", timeout=5)
    assert "expired" in dm.args["text"] and "Continue the setup to get a fresh one" in dm.args["text"]
    opened_before = len(world.slack.calls("views.open"))
    clicked = driver.sender.block_actions(
        ActionId.CONTINUE_SETUP, message=(dm.response["channel"], dm.response["ts"]), user_id=driver.user_id
    )
    assert clicked.status == 200
    opened = world.slack.wait_for_call("views.open", count=opened_before + 1, timeout=5)
    driver.view_id = opened.response["view"]["id"]
    assert driver.callback_id() == CallbackId.WIZARD_CONNECT and _state(driver.open_window_url()) != _state(old_url)
    assert driver.consent_in_browser().status_code == 200
    assert driver.callback_id() == CallbackId.WIZARD_GRANT_ACCESS


def test_expired_links_of_a_wizard_that_moved_on_or_was_abandoned_change_nothing(world: World) -> None:
    driver = _waiting(world, "moved-on")
    left_behind = driver.open_window_url()
    driver.click(ActionId.CHANGE_SITE)
    driver.submit({BlockId.SITE_URL: {ActionId.SITE_URL: "acme"}})
    used = driver.open_window_url()
    assert used != left_behind and driver.consent_in_browser().status_code == 200
    _expire_links(world)
    _unchanged(world, left_behind, "no longer waiting")
    _unchanged(world, used, "already used")
    _unchanged(world, f"{world.bot.url}/oauth/confluence/callback?state=never-issued&code=x", "not valid")
    world.slack.add_user("U0OTHER", "other")
    abandoned = _waiting(world, "abandoned", user_id="U0OTHER")
    url = abandoned.open_window_url()
    with world.bot.services.sessions.begin() as session:
        session.scalars(select(Wizard).where(Wizard.name == "abandoned")).one().status = WizardStatus.ABANDONED
    _expire_links(world)
    _unchanged(world, url, "no longer waiting")


def test_someone_elses_link_changes_nothing_even_expired(world: World) -> None:
    driver = _waiting(world, "stolen")
    url = driver.open_window_url()
    with world.bot.services.sessions.begin() as session:
        for row in session.scalars(select(OAuthState)):
            row.user_id = "U0SOMEONEELSE"
    _unchanged(world, url, "belongs to someone else")
    _expire_links(world)
    _unchanged(world, url, "belongs to someone else")
    with world.bot.services.sessions() as session:
        assert session.scalars(select(OAuthState.used_at)).all() == [None]
        assert session.scalars(select(Connection)).all() == []


def test_an_expired_reconnect_link_refreshes_the_reconnect_modal(world: World) -> None:
    driver = _created(world)
    with world.bot.services.sessions() as session:
        datastore = session.scalars(select(Datastore)).one()
    opened_before = len(world.slack.calls("views.open"))
    assert world.bot.sender.slash_command(f"reconnect {datastore.name}").status == 200
    driver.view_id = world.slack.wait_for_call("views.open", count=opened_before + 1).response["view"]["id"]
    assert driver.callback_id() == CallbackId.RECONNECT
    old_url = driver.open_window_url()
    _expire_links(world)
    updates = len(world.slack.calls("views.update"))
    page = httpx.get(old_url, follow_redirects=True, timeout=10)
    assert page.status_code == 400 and EXPIRED_PAGE in page.text
    world.slack.wait_for_call("views.update", count=updates + 1, timeout=5)
    wait_until(lambda: driver.open_window_url() != old_url)
    page = driver.consent_in_browser()
    assert page.status_code == 200 and "Reconnected to acme.atlassian.net" in page.text
