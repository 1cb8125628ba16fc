"""The wizard's rules: races, double clicks, resume, ownership, closed modals, big sites, refused channels."""

from __future__ import annotations

import threading

import httpx
from sqlalchemy import func, select

from demo.fakes import slack_limits
from handlers.ids import ActionId, BlockId, CallbackId
from storage.models import Datastore, SyncRun
from tests.handlers.conftest import World
from tests.handlers.wizard_driver import WizardDriver
from tests.harness import wait_until


def _datastores(world: World) -> int:
    with world.bot.services.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(Datastore)) or 0)


def test_duplicate_name_race_one_wins_the_other_gets_the_inline_error(world: World) -> None:
    world.slack.add_user("U0JANE", "jane", real_name="Jane")
    world.slack.add_channel_member(world.slack.default_channel_id, "U0JANE")
    drivers = [WizardDriver(world), WizardDriver(world, user_id="U0JANE")]
    for driver in drivers:
        driver.start()
    results: list[object] = [None, None]

    def submit(index: int) -> None:
        try:
            results[index] = drivers[index].sender.view_submission(
                drivers[index].view_id,
                {BlockId.NAME: {ActionId.NAME_INPUT: "shared-name"}},
                user_id=drivers[index].user_id,
            )
        except AssertionError as exc:  # surfaced below: a thread's failure must fail the test
            results[index] = exc

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not any(isinstance(result, AssertionError) for result in results), results
    errors = [getattr(result, "errors", None) for result in results]
    assert sorted(e is None for e in errors) == [False, True]
    loser = next(e for e in errors if e is not None)
    assert "shared-name" in loser[BlockId.NAME]
    assert sorted(d.callback_id() for d in drivers) == [CallbackId.WIZARD_CONNECTION_SETUP, CallbackId.WIZARD_NAME]


def test_double_click_on_create_makes_one_datastore_and_one_announcement(world: World) -> None:
    driver = WizardDriver(world)
    driver.connect("twice")
    driver.grant(None)
    # Two submits of the same summary view, as a double click on "Create" sends them.
    first = driver.sender.replay_view_submission(driver.view_id)
    second = driver.sender.replay_view_submission(driver.view_id)
    assert first.json == second.json == {"response_action": "clear"}
    world.slack.wait_for_call("chat.postMessage", count=2, timeout=5)
    wait_until(lambda: len(world.slack.calls("chat.postMessage")) >= 2)
    assert _datastores(world) == 1
    with world.bot.services.sessions() as session:
        assert session.scalar(select(func.count()).select_from(SyncRun)) == 1
    assert len(world.slack.calls("chat.postMessage")) == 2


def test_only_the_starter_can_advance_a_wizard(world: World) -> None:
    world.slack.add_user("U0MALLORY", "mallory")
    driver = WizardDriver(world)
    driver.start()
    result = driver.sender.view_submission(
        driver.view_id, {BlockId.NAME: {ActionId.NAME_INPUT: "mine"}}, user_id="U0MALLORY"
    )
    assert result.errors == {BlockId.NAME: "Only the person who started this setup can continue it."}
    assert driver.callback_id() == CallbackId.WIZARD_NAME
    ok = driver.name("mine")
    assert ok.errors is None and driver.callback_id() == CallbackId.WIZARD_CONNECTION_SETUP


def test_resume_after_closing_the_modal(world: World) -> None:
    driver = WizardDriver(world)
    driver.start("create resumed")
    driver.name("resumed")
    driver.skip_top_off()
    closed = driver.sender.view_closed(driver.view_id)
    assert closed is not None and closed.status == 200

    again = WizardDriver(world)
    again.start("create")
    wait_until(lambda: again.callback_id() == CallbackId.WIZARD_RESUME)
    assert "*resumed* — step 3 of 5" in str(again.view.blocks)
    again.click(ActionId.RESUME, value=None, selected_option=None, block_id=BlockId.RESUME_ACTIONS)
    assert again.callback_id() == CallbackId.WIZARD_REVIEW_ACCESS
    again.site("acme")
    assert again.consent_in_browser().status_code == 200
    assert again.callback_id() == CallbackId.WIZARD_GRANT_ACCESS


def test_start_over_abandons_the_old_setup_and_frees_its_name(world: World) -> None:
    driver = WizardDriver(world)
    driver.start("create first-try")
    driver.name("first-try")
    driver.sender.view_closed(driver.view_id)
    again = WizardDriver(world)
    again.start()
    wait_until(lambda: again.callback_id() == CallbackId.WIZARD_RESUME)
    again.click(ActionId.START_OVER, block_id=BlockId.RESUME_ACTIONS)
    assert again.callback_id() == CallbackId.WIZARD_NAME
    assert again.name("first-try").errors is None


def test_consent_after_the_modal_was_closed_arrives_as_a_dm_that_reopens_the_wizard(world: World) -> None:
    driver = WizardDriver(world)
    driver.start("create late")
    driver.name("late")
    driver.skip_top_off()
    driver.site("acme")
    url = driver.open_window_url()
    driver.sender.view_closed(driver.view_id)
    page = httpx.get(url, follow_redirects=True, timeout=10)
    assert page.status_code == 200
    dm = world.slack.wait_for_call("chat.postMessage", timeout=5)
    assert "Confluence is connected for *late*" in dm.args["text"]
    dm_channel = dm.response["channel"]
    response = driver.sender.block_actions(
        ActionId.CONTINUE_SETUP, message=(dm_channel, dm.response["ts"]), user_id=driver.user_id
    )
    assert response.status == 200
    opened = world.slack.wait_for_call("views.open", count=2, timeout=5)
    assert opened.response["view"]["callback_id"] == CallbackId.WIZARD_GRANT_ACCESS


def test_space_picker_type_ahead_on_a_site_with_1500_spaces(world: World) -> None:
    world.atlassian.site.add_spaces(1500)
    driver = WizardDriver(world)
    driver.connect("big")
    everything = driver.share_spaces("")
    assert len(everything) == 100
    some = driver.sender.block_suggestion(
        driver.view_id, ActionId.SPACES, BlockId.SPACES, everything[7]["text"]["text"][:12]
    )
    assert 1 <= len(some) <= 100
    assert everything[7]["value"] in {o["value"] for o in some}
    nothing = driver.sender.block_suggestion(driver.view_id, ActionId.SPACES, BlockId.SPACES, "zzzz-no-such-space")
    assert nothing == []


def test_announcement_falls_back_to_a_dm_when_the_channel_refuses(world: World) -> None:
    world.slack.add_channel(
        "C0SECRET", "secret", is_private=True, bot_is_member=False, members=[world.slack.default_user_id]
    )
    driver = WizardDriver(world, channel_id="C0SECRET")
    driver.connect("private-one")
    driver.grant(None)
    driver.submit()
    wait_until(lambda: len([c for c in world.slack.calls("chat.postMessage") if c.ok]) >= 3)
    dms = world.slack.dms(driver.user_id)
    texts = " ".join(m.text for m in dms)
    assert "I could not post about *private-one*" in texts and "/invite" in texts
    assert any("*private-one* — Confluence" in m.text for m in dms)


def test_a_wizard_expires_after_24_hours(world: World) -> None:
    from datetime import timedelta

    from storage.models import Wizard

    driver = WizardDriver(world)
    driver.start("create stale")
    driver.name("stale")
    with world.bot.services.sessions.begin() as session:
        wizard = session.scalars(select(Wizard)).one()
        wizard.expires_at = wizard.created_at + timedelta(hours=24) - timedelta(days=2)
    driver.click("wizard-topoff-choice", selected_option="skipped")
    assert "expired after 24 hours" in str(driver.view.blocks)
    assert driver.view.callback_id == CallbackId.WIZARD_ENDED
    fresh = WizardDriver(world)
    fresh.start("create stale")
    assert fresh.callback_id() == CallbackId.WIZARD_NAME
    assert fresh.name("stale").errors is None


def test_the_picker_lists_spaces_itself_when_listing_after_consent_failed(world: World) -> None:
    from sqlalchemy import delete

    from storage.models import ConfluenceSpace, Connection

    driver = WizardDriver(world)
    driver.connect("retry-spaces")
    with world.bot.services.sessions.begin() as session:
        session.execute(delete(ConfluenceSpace))
        session.scalars(select(Connection)).one().spaces_listed_at = None
    options = driver.share_spaces("")
    if not options:  # a machine so busy that listing took longer than the picker waits: the next keystroke has them

        def listed() -> bool:
            with world.bot.services.sessions() as session:
                return session.scalars(select(Connection)).one().spaces_listed_at is not None

        wait_until(listed, timeout=30)
        options = driver.share_spaces("")
    assert len(options) == len(world.atlassian.site.spaces)


def test_the_picker_answers_in_time_while_a_slow_space_listing_goes_on_in_the_background(world: World) -> None:
    """Confluence takes longer to list the spaces than Slack gives the picker: the picker answers (no spaces
    yet) within the 3 s, the listing goes on, and the next keystroke finds every space."""
    from sqlalchemy import delete

    from storage.models import ConfluenceSpace, Connection

    driver = WizardDriver(world)
    driver.connect("slow-spaces")
    with world.bot.services.sessions.begin() as session:
        session.execute(delete(ConfluenceSpace))
        session.scalars(select(Connection)).one().spaces_listed_at = None
    world.atlassian.set_latency(slack_limits.SLACK_SECONDS + 0.5, "GET /wiki/api/v2/spaces")
    assert driver.share_spaces("") == []  # the sender asserts the answer came before the listing could

    def listed() -> bool:
        with world.bot.services.sessions() as session:
            return session.scalars(select(Connection)).one().spaces_listed_at is not None

    wait_until(listed, timeout=30)
    world.atlassian.clear_faults()
    assert len(driver.share_spaces("")) == len(world.atlassian.site.spaces)
