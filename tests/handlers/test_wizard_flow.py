"""The whole /datastore create wizard over HTTP: fake Slack, fake Atlassian, real bot, as a person uses it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import func, select

from handlers.ids import ActionId, BlockId, CallbackId
from storage.access_audit import AccessAudit
from storage.access_modes import AccessMode
from storage.models import Connection, Datastore, OAuthState, SyncRun, Wizard, Workspace
from tests.handlers.conftest import World
from tests.handlers.wizard_driver import WizardDriver
from tests.harness import wait_until


def _count(world: World, model: type) -> int:
    with world.bot.services.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_happy_path_creates_one_datastore_and_announces_it(world: World) -> None:
    driver = WizardDriver(world)
    page = driver.connect("eng-wiki", "https://acme.atlassian.net/wiki/")
    assert page.status_code == 200
    assert "Connected to acme.atlassian.net" in page.text
    assert driver.callback_id() == CallbackId.WIZARD_GRANT_ACCESS
    assert "Connected to *acme.atlassian.net* as" in str(driver.view.blocks)

    options = driver.share_spaces("")
    assert 1 <= len(options) <= 100
    chosen = [options[0]["value"], options[1]["value"]]
    driver.grant(chosen)
    assert driver.callback_id() == CallbackId.WIZARD_SUMMARY
    assert "2 spaces" in str(driver.view.blocks)

    result = driver.submit()
    assert result.json == {"response_action": "clear"}
    parent = world.slack.wait_for_call("chat.postMessage", timeout=5)
    reply = world.slack.wait_for_call("chat.postMessage", count=2, timeout=5)
    assert parent.args["channel"] == world.slack.default_channel_id
    assert "*eng-wiki* — Confluence · acme.atlassian.net · created by" in parent.args["text"]
    assert "Initializing" in parent.args["text"]
    assert reply.args["thread_ts"] == parent.response["ts"]

    def announced() -> bool:
        with world.bot.services.sessions() as session:
            return session.scalars(select(Datastore.progress_ts)).one() is not None

    wait_until(announced)
    with world.bot.services.sessions() as session:
        datastore = session.scalars(select(Datastore)).one()
        assert datastore.name == "eng-wiki" and not datastore.share_all
        assert [s["id"] for s in (datastore.spaces or {})["items"]] == chosen
        assert datastore.parent_ts == parent.response["ts"] and datastore.progress_ts == reply.response["ts"]
        run = session.scalars(select(SyncRun)).one()
        assert run.state == "queued" and run.datastore_id == datastore.id
        wizard = session.scalars(select(Wizard)).one()
        assert wizard.status == "completed"
        # "Grant access" left at its default: each person sees what they can see; audited, no offer DM.
        account = session.scalars(select(Connection.account_name)).one()
        assert account and (datastore.access_mode, datastore.access_account_name) == (AccessMode.EACH, account)
        assert datastore.access_offer is None
        audit = session.scalars(select(AccessAudit)).one()
        assert (audit.datastore_id, audit.team_id, audit.actor_user_id) == (
            datastore.id,
            datastore.team_id,
            wizard.user_id,
        )
        assert (audit.source, audit.action, audit.old_value, audit.new_value) == ("wizard", "mode", None, "each")
        assert audit.account_name == account


def test_tokens_are_encrypted_at_rest(world: World) -> None:
    driver = WizardDriver(world)
    driver.connect()
    issued = world.atlassian.oauth.issued_tokens()
    assert issued
    with world.bot.services.sessions() as session:
        connection = session.scalars(select(Connection)).one()
        assert connection.access_token_enc and connection.refresh_token_enc
        assert world.bot.services.cipher.decrypt(connection.access_token_enc) in issued
    url = world.bot.services.settings.effective_database_url
    if url.startswith("sqlite:///"):
        world.bot.services.engine.dispose()
        raw = b"".join(p.read_bytes() for p in Path(url.removeprefix("sqlite:///")).parent.glob("test.db*"))
        for token in issued:
            assert token.encode() not in raw
    for call in world.slack.calls():
        for token in issued:
            assert token not in str(call.args)


def test_name_errors_are_inline(world: World) -> None:
    driver = WizardDriver(world)
    driver.start()
    # Empty and over-long names never reach the bot: the input is required and has max_length=64.
    for raw, expected in [("   ", "Give the datastore a name"), ("a/b", "not /"), ("wiki 🚀", "not 🚀")]:
        result = driver.name(raw)
        assert result.errors is not None and expected in result.errors[BlockId.NAME]
    assert driver.callback_id() == CallbackId.WIZARD_NAME


def test_prefilled_name_and_duplicate_name_message(world: World) -> None:
    first = WizardDriver(world)
    first.connect("eng-wiki")
    first.grant(None)
    first.submit()
    world.slack.wait_for_call("chat.postMessage", count=2, timeout=5)

    second = WizardDriver(world)
    second.start("create ENG-WIKI")
    assert "ENG-WIKI" in str(second.view.blocks)
    result = second.name("ENG-WIKI")
    assert result.errors is not None
    message = result.errors[BlockId.NAME]
    assert "A datastore named eng-wiki already exists — created by @tester on " in message


def test_top_off_settings_are_validated_and_stored(world: World) -> None:
    driver = WizardDriver(world)
    driver.start("create ops")
    driver.name("ops")
    driver.click(ActionId.TOPOFF_CHOICE, selected_option="configured")
    assert BlockId.TOPOFF_THRESHOLD in [b.get("block_id") for b in driver.view.blocks]
    bad = driver.submit(
        {
            BlockId.TOPOFF_CHOICE: {ActionId.TOPOFF_CHOICE: "configured"},
            BlockId.TOPOFF_THRESHOLD: {ActionId.TOPOFF_THRESHOLD: "1000"},
            BlockId.TOPOFF_AMOUNT: {ActionId.TOPOFF_AMOUNT: "5000"},
            BlockId.TOPOFF_CAP: {ActionId.TOPOFF_CAP: "100"},
        }
    )
    assert bad.errors == {BlockId.TOPOFF_CAP: "The monthly cap must be at least the top-off amount (5,000)."}
    good = driver.submit(
        {
            BlockId.TOPOFF_CHOICE: {ActionId.TOPOFF_CHOICE: "configured"},
            BlockId.TOPOFF_THRESHOLD: {ActionId.TOPOFF_THRESHOLD: "1,000"},
            BlockId.TOPOFF_AMOUNT: {ActionId.TOPOFF_AMOUNT: "5000"},
            BlockId.TOPOFF_CAP: {ActionId.TOPOFF_CAP: ""},
        }
    )
    assert good.errors is None and driver.callback_id() == CallbackId.WIZARD_REVIEW_ACCESS
    with world.bot.services.sessions() as session:
        workspace = session.scalars(select(Workspace)).one()
        assert (workspace.topoff_threshold, workspace.topoff_amount, workspace.topoff_monthly_cap) == (1000, 5000, None)
        assert workspace.credit_balance == 100_000


def test_site_url_errors_are_inline(world: World) -> None:
    driver = WizardDriver(world)
    driver.start("create docs")
    driver.name("docs")
    driver.skip_top_off()
    result = driver.site("http://acme.atlassian.net")
    assert result.errors is not None and "https://" in result.errors[BlockId.SITE_URL]
    result = driver.submit({BlockId.SITE_URL: {ActionId.SITE_URL: "confluence.acme.com"}})
    assert result.errors is not None and "not a Confluence Cloud site" in result.errors[BlockId.SITE_URL]
    assert _count(world, Connection) == 0


def test_consent_denied_offers_try_again_and_stores_nothing(world: World) -> None:
    world.atlassian.set_consent(approve=False)
    driver = WizardDriver(world)
    page = driver.connect("denied")
    assert page.status_code == 400 and "Access was not granted" in page.text
    assert "You chose not to give access" in str(driver.view.blocks)
    assert _count(world, Connection) == 0
    world.atlassian.set_consent(approve=True, site_ids=(world.atlassian.cloud_id,))
    driver.click(ActionId.TRY_AGAIN)
    page = driver.consent_in_browser()
    assert page.status_code == 200
    assert driver.callback_id() == CallbackId.WIZARD_GRANT_ACCESS


def test_consent_for_another_site_says_so_and_offers_it(world: World) -> None:
    other = next(cid for cid in world.atlassian.sites if cid != world.atlassian.cloud_id)
    world.atlassian.set_consent(site_ids=(other,))
    driver = WizardDriver(world)
    page = driver.connect("elsewhere", "acme")
    assert page.status_code == 400
    assert "Your consent covered other.atlassian.net, not acme.atlassian.net" in str(driver.view.blocks)
    assert _count(world, Connection) == 0
    driver.click(f"{ActionId.USE_SITE}-0", value="https://other.atlassian.net")
    assert "Connect *other.atlassian.net*" in str(driver.view.blocks)
    page = driver.consent_in_browser()
    assert page.status_code == 200 and "Connected to other.atlassian.net" in page.text


def _waiting_driver(world: World, name: str) -> tuple[WizardDriver, str]:
    driver = WizardDriver(world)
    driver.start(f"create {name}")
    driver.name(name)
    driver.skip_top_off()
    driver.site("acme")
    return driver, httpx.URL(driver.open_window_url()).params["state"]


def _callback(world: World, **params: str) -> httpx.Response:
    return httpx.get(f"{world.bot.url}/oauth/confluence/callback", params=params)


def test_replayed_state_is_refused(world: World) -> None:
    driver, state = _waiting_driver(world, "replay")
    assert driver.consent_in_browser().status_code == 200
    replay = _callback(world, state=state, code="anything")
    assert replay.status_code == 400 and "already used" in replay.text
    assert _count(world, Connection) == 1


def test_forged_state_is_refused(world: World) -> None:
    _waiting_driver(world, "forged")
    forged = _callback(world, state="a-state-this-bot-never-issued", code="x")
    assert forged.status_code == 400 and "not valid" in forged.text
    assert _callback(world).status_code == 400
    assert _count(world, Connection) == 0


def test_expired_state_is_refused(world: World) -> None:
    _driver, state = _waiting_driver(world, "expired")
    with world.bot.services.sessions.begin() as session:
        for row in session.scalars(select(OAuthState)):
            row.expires_at = row.created_at + timedelta(minutes=15) - timedelta(hours=1)
    expired = _callback(world, state=state, code="x")
    assert expired.status_code == 400 and "expired" in expired.text
    assert _count(world, Connection) == 0


def test_state_bound_to_another_user_is_refused(world: World) -> None:
    _driver, state = _waiting_driver(world, "stolen")
    with world.bot.services.sessions.begin() as session:
        for row in session.scalars(select(OAuthState)):
            row.user_id = "U0SOMEONEELSE"
    other = _callback(world, state=state, code="x")
    assert other.status_code == 400 and "belongs to someone else" in other.text
    assert _count(world, Connection) == 0


def test_token_exchange_failure_is_explained_and_stores_nothing(world: World) -> None:
    driver, _state = _waiting_driver(world, "broken")
    world.atlassian.inject("POST /oauth/token", "500")
    page = driver.consent_in_browser()
    assert page.status_code == 400 and "Could not connect" in page.text
    assert "Atlassian could not finish connecting" in str(driver.view.blocks)
    assert _count(world, Connection) == 0
