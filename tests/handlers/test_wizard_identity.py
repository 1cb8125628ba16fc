"""Class 6 of issue #11: a wizard, its consent link and a datastore's reconnect belong to team + enterprise +
user. Generated cases (fixed seed): every wizard entry point × three foreign identities that share the owner's
user id (another workspace; the same team under another, no or an extra org), for an owner outside Enterprise
Grid and one inside. Each refusal: what the sender sees, no database change (no table ignored), no call to
the fake Slack, no traceback. The owner then carries on as if nothing happened."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

import httpx
import pytest
from slack_sdk import WebClient
from sqlalchemy import select

from bot.wizard.service import NOT_YOURS
from demo.fakes.slack_requests import SlackRequestSender
from handlers.ids import ActionId, BlockId, CallbackId, ShareValue, TopOffValue
from handlers.progress import ProgressUpdater
from storage.models import Datastore, OAuthState, SyncRun, Wizard
from storage.states import PauseKind, RunState
from tests.handlers.conftest import World
from tests.handlers.identity_cases import (
    OWNERS,
    Identity,
    Refusals,
    closed,
    foreign_identities,
    message_action,
    recorded_wizard_id,
    sees_ended,
    sees_ephemeral,
    sees_errors,
    sees_no_options,
    sees_nothing,
    sender_for,
    senders,
    submission,
    suggestion,
    view_action,
)
from tests.handlers.wizard_driver import WizardDriver
from tests.harness import wait_until

#: Every case on SQLite; half of the (entry point, owner) pairs also on PostgreSQL: what is refused, and that
#: nothing is written, is decided before any backend-specific work (tests/backends.py).
pytestmark = pytest.mark.postgresql_sample(every=2)


@pytest.fixture(params=sorted(OWNERS))
def owner(request: pytest.FixtureRequest, world: World) -> Iterator[tuple[Identity, WizardDriver]]:
    who = OWNERS[request.param]
    if who.user_id != world.slack.default_user_id:
        world.slack.add_user(who.user_id, "grid-user")
        world.slack.add_channel_member(world.slack.default_channel_id, who.user_id)
    sender = sender_for(world, who) if who.enterprise_id else world.bot.sender
    yield who, WizardDriver(world, who.user_id, sender=sender)
    if sender is not world.bot.sender:
        sender.close()


#: A view submission's values: block id → action id → value.
Values = dict[str, dict[str, str]]


def _refused_submission(
    refusals: Refusals,
    who: Identity,
    sender: SlackRequestSender,
    driver: WizardDriver,
    step: str,
    values: Values | None,
    block: str | None,
) -> None:
    sees = sees_errors(block, NOT_YOURS) if block else sees_ended(NOT_YOURS)
    send = partial(submission, sender, driver.view, who.user_id, values)
    refusals.check(f"{step}/{who.label}", send, sees, logged=False)


def _refused_action(
    refusals: Refusals,
    who: Identity,
    sender: SlackRequestSender,
    driver: WizardDriver,
    action_id: str,
    value: str | None = None,
    selected: str | None = None,
) -> None:
    send = partial(view_action, sender, driver.view, who.user_id, action_id, value=value, selected=selected)
    refusals.check(f"{action_id}/{who.label}", send, sees_nothing)


def _refused_close(refusals: Refusals, who: Identity, sender: SlackRequestSender, driver: WizardDriver) -> None:
    refusals.check(f"view_closed/{who.label}", partial(closed, sender, driver.view, who.user_id), sees_nothing)


def test_steps_one_to_three_refuse_the_same_user_id_of_another_identity(
    world: World, owner: tuple[Identity, WizardDriver], caplog: pytest.LogCaptureFixture
) -> None:
    who_owns, driver = owner
    refusals = Refusals(world, caplog)
    driver.start("create first")
    recorded_wizard_id(world, driver)
    with senders(world, foreign_identities(who_owns)) as others:
        for who, sender in others:
            name: Values = {BlockId.NAME: {ActionId.NAME_INPUT: "stolen"}}
            _refused_submission(refusals, who, sender, driver, "name", name, BlockId.NAME)
            _refused_close(refusals, who, sender, driver)
        assert driver.name("first").errors is None
        for who, sender in others:
            skip: Values = {BlockId.TOPOFF_CHOICE: {ActionId.TOPOFF_CHOICE: TopOffValue.SKIP}}
            _refused_submission(refusals, who, sender, driver, "connection_setup", skip, BlockId.TOPOFF_CHOICE)
            _refused_action(refusals, who, sender, driver, ActionId.TOPOFF_CHOICE, selected=TopOffValue.CONFIGURE)
            _refused_close(refusals, who, sender, driver)
        driver.skip_top_off()
        for who, sender in others:
            _refused_submission(refusals, who, sender, driver, "review_access", {}, None)
        driver.submit()
        assert driver.callback_id() == CallbackId.WIZARD_SITE_URL
        for who, sender in others:
            site: Values = {BlockId.SITE_URL: {ActionId.SITE_URL: "acme"}}
            _refused_submission(refusals, who, sender, driver, "site_url", site, BlockId.SITE_URL)
    assert refusals.count == 3 * 7
    with world.bot.services.sessions() as session:
        assert session.scalars(select(OAuthState)).all() == []
    driver.submit({BlockId.SITE_URL: {ActionId.SITE_URL: "acme"}})
    assert driver.callback_id() == CallbackId.WIZARD_CONNECT
    with world.bot.services.sessions() as session:
        wizard = session.scalars(select(Wizard)).one()
        assert (wizard.team_id, wizard.enterprise_id, wizard.user_id) == (
            who_owns.team_id,
            who_owns.enterprise_id,
            who_owns.user_id,
        )


def test_the_connect_step_and_its_consent_link_refuse_another_identity(
    world: World, owner: tuple[Identity, WizardDriver], caplog: pytest.LogCaptureFixture
) -> None:
    who_owns, driver = owner
    refusals = Refusals(world, caplog)
    other_site = next(cid for cid in world.atlassian.sites if cid != world.atlassian.cloud_id)
    world.atlassian.set_consent(site_ids=(other_site,))
    assert driver.connect("elsewhere", "acme").status_code == 400
    assert "Use other.atlassian.net instead" in str(driver.view.blocks)
    identities = foreign_identities(who_owns)
    with senders(world, identities) as others:
        for who, sender in others:
            _refused_action(refusals, who, sender, driver, ActionId.TRY_AGAIN, value=recorded_wizard_id(world, driver))
            _refused_action(refusals, who, sender, driver, ActionId.CHANGE_SITE)
            _refused_action(refusals, who, sender, driver, f"{ActionId.USE_SITE}-0", "https://other.atlassian.net")
        driver.click(f"{ActionId.USE_SITE}-0", value="https://other.atlassian.net")
        state = httpx.URL(driver.open_window_url()).params["state"]
        for who, sender in others:
            _refused_action(refusals, who, sender, driver, ActionId.CHANGE_SITE)
            if who.team_id == who_owns.team_id:
                continue  # a state row holds team and user; its organisation is its wizard's (checked above)
            with world.bot.services.sessions.begin() as session:
                for row in session.scalars(select(OAuthState).where(OAuthState.used_at.is_(None))):
                    row.team_id = who.team_id  # a link issued to the other workspace's user for this wizard
            callback = partial(
                httpx.get, f"{world.bot.url}/oauth/confluence/callback", params={"state": state, "code": "c"}
            )
            refusals.check(f"callback/{who.label}", callback, _belongs_to_someone_else, status=400, logged=False)
            with world.bot.services.sessions.begin() as session:
                for row in session.scalars(select(OAuthState).where(OAuthState.used_at.is_(None))):
                    row.team_id = who_owns.team_id
    foreign_teams = sum(who.team_id != who_owns.team_id for who in identities)
    assert refusals.count == 3 * 4 + foreign_teams
    page = driver.consent_in_browser()
    assert page.status_code == 200 and "Connected to other.atlassian.net" in page.text


def _belongs_to_someone_else(response: httpx.Response) -> None:
    assert "belongs to someone else" in response.text


def test_sharing_the_space_picker_and_create_refuse_another_identity(
    world: World, owner: tuple[Identity, WizardDriver], caplog: pytest.LogCaptureFixture
) -> None:
    who_owns, driver = owner
    refusals = Refusals(world, caplog)
    driver.connect("granted", "acme")
    assert driver.callback_id() == CallbackId.WIZARD_GRANT_ACCESS
    with senders(world, foreign_identities(who_owns)) as others:
        for who, sender in others:
            _refused_action(refusals, who, sender, driver, ActionId.SHARE_CHOICE, selected=ShareValue.ALL)
            send = partial(suggestion, sender, driver.view, who.user_id, ActionId.SPACES, BlockId.SPACES, "Space")
            refusals.check(f"spaces/{who.label}", send, sees_no_options)
            share: Values = {BlockId.SHARE_CHOICE: {ActionId.SHARE_CHOICE: ShareValue.ALL}}
            _refused_submission(refusals, who, sender, driver, "grant_access", share, BlockId.SHARE_CHOICE)
            _refused_close(refusals, who, sender, driver)
        assert driver.share_spaces("") != []
        driver.grant(None)
        assert driver.callback_id() == CallbackId.WIZARD_SUMMARY
        for who, sender in others:
            _refused_submission(refusals, who, sender, driver, "summary", {}, None)
    assert refusals.count == 3 * 5
    assert driver.submit().json == {"response_action": "clear"}
    world.slack.wait_for_call("chat.postMessage", timeout=5)
    with world.bot.services.sessions() as session:
        assert session.scalars(select(Datastore.created_by)).all() == [who_owns.user_id]


def test_resume_start_over_and_continue_setup_refuse_another_identity(
    world: World, owner: tuple[Identity, WizardDriver], caplog: pytest.LogCaptureFixture
) -> None:
    who_owns, driver = owner
    refusals = Refusals(world, caplog)
    driver.start("create older")
    driver.name("older")
    driver.skip_top_off()
    older = recorded_wizard_id(world, driver)
    driver.sender.view_closed(driver.view_id)
    again = WizardDriver(world, who_owns.user_id, sender=driver.sender)
    again.start()
    wait_until(lambda: again.callback_id() == CallbackId.WIZARD_RESUME)
    recorded_wizard_id(world, again)
    with senders(world, foreign_identities(who_owns)) as others:
        for who, sender in others:
            _refused_action(refusals, who, sender, again, ActionId.RESUME, value=older)
            _refused_action(refusals, who, sender, again, ActionId.START_OVER, value=older)
            _refused_close(refusals, who, sender, again)
        again.click(ActionId.RESUME, block_id=BlockId.RESUME_ACTIONS)
        assert again.callback_id() == CallbackId.WIZARD_REVIEW_ACCESS
        again.site("acme")
        url = again.open_window_url()
        again.sender.view_closed(again.view_id)
        assert httpx.get(url, follow_redirects=True, timeout=10).status_code == 200
        dm = world.slack.wait_for_call("chat.postMessage", timeout=5)
        channel, ts = dm.response["channel"], dm.response["ts"]
        for who, sender in others:
            send = partial(message_action, sender, channel, ts, who.user_id, ActionId.CONTINUE_SETUP, older)
            refusals.check(f"continue_setup/{who.label}", send, sees_nothing)
    assert refusals.count == 3 * 4
    opened_before = len(world.slack.calls("views.open"))
    driver.sender.block_actions(ActionId.CONTINUE_SETUP, message=(channel, ts), user_id=who_owns.user_id)
    opened = world.slack.wait_for_call("views.open", count=opened_before + 1, timeout=5)
    assert opened.response["view"]["callback_id"] == CallbackId.WIZARD_GRANT_ACCESS


def test_reconnect_refuses_another_identity(
    world: World, owner: tuple[Identity, WizardDriver], caplog: pytest.LogCaptureFixture
) -> None:
    who_owns, driver = owner
    driver.connect("paused", "acme")
    driver.grant(None)
    driver.submit()

    def announced() -> bool:
        with world.bot.services.sessions() as session:
            return session.scalars(select(Datastore.progress_ts)).first() is not None

    wait_until(announced)
    with world.bot.services.sessions.begin() as session:
        run = session.scalars(select(SyncRun)).one()
        run.state, run.pause_kind, run.reason = (
            RunState.PAUSED,
            PauseKind.RECONNECT,
            "The Confluence connection expired.",
        )
    client = WebClient(token=sorted(world.slack.bot_tokens)[0], base_url=world.slack.api_url)
    ProgressUpdater(world.bot.services, lambda _team: client, owner="t").tick()
    with world.bot.services.sessions() as session:
        datastore = session.scalars(select(Datastore)).one()
        channel, ts, datastore_id = str(datastore.channel_id), str(datastore.progress_ts), datastore.id
    assert "Reconnect Confluence" in str(world.slack.message(channel, ts).blocks)
    refusals = Refusals(world, caplog)
    with senders(world, foreign_identities(who_owns)) as others:
        for who, sender in others:
            send = partial(message_action, sender, channel, ts, who.user_id, ActionId.RECONNECT, str(datastore_id))
            refusals.check(f"reconnect button/{who.label}", send, sees_nothing)
            command = partial(sender.slash_command, "reconnect paused", user_id=who.user_id)
            no_such = sees_ephemeral("There is no datastore")
            refusals.check(f"reconnect command/{who.label}", command, no_such, logged=False)
        opened_before = len(world.slack.calls("views.open"))
        driver.sender.block_actions(ActionId.RECONNECT, message=(channel, ts), user_id=who_owns.user_id)
        driver.view_id = world.slack.wait_for_call("views.open", count=opened_before + 1).response["view"]["id"]
        assert driver.callback_id() == CallbackId.RECONNECT
        reconnecting = recorded_wizard_id(world, driver)
        for who, sender in others:
            _refused_action(refusals, who, sender, driver, ActionId.TRY_AGAIN, value=reconnecting)
            _refused_close(refusals, who, sender, driver)
    assert refusals.count == 3 * 4
    page = driver.consent_in_browser()
    assert page.status_code == 200 and "Reconnected to acme.atlassian.net" in page.text
