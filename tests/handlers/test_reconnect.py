"""An expired connection: the paused thread offers "Reconnect Confluence"; consenting again resumes the sync."""

from __future__ import annotations

from slack_sdk import WebClient
from sqlalchemy import select

from handlers.ids import ActionId, CallbackId
from handlers.progress import ProgressUpdater
from storage.models import Connection, Datastore, SyncRun
from storage.states import ConnectionStatus, PauseKind, RunOutcome, RunPhase, RunState
from tests.handlers.conftest import World
from tests.handlers.wizard_driver import WizardDriver
from tests.harness import wait_until


def _created(world: World) -> WizardDriver:
    driver = WizardDriver(world)
    driver.connect("expiring")
    driver.grant(None)
    driver.submit()

    def announced() -> bool:
        with world.bot.services.sessions() as session:
            return session.scalars(select(Datastore.progress_ts)).first() is not None

    wait_until(announced)
    with world.bot.services.sessions.begin() as session:
        connection = session.scalars(select(Connection)).one()
        connection.status = ConnectionStatus.NEEDS_RECONNECT
        run = session.scalars(select(SyncRun)).one()
        run.state, run.pause_kind, run.reason = (
            RunState.PAUSED,
            PauseKind.RECONNECT,
            "The Confluence connection expired.",
        )
    return driver


def test_reconnect_from_the_thread_resumes_the_sync(world: World) -> None:
    driver = _created(world)
    client = WebClient(token=sorted(world.slack.bot_tokens)[0], base_url=world.slack.api_url)
    ProgressUpdater(world.bot.services, lambda _team: client, owner="t").tick()
    with world.bot.services.sessions() as session:
        datastore = session.scalars(select(Datastore)).one()
        channel, progress_ts = datastore.channel_id, datastore.progress_ts
    assert channel and progress_ts
    assert "Reconnect Confluence" in str(world.slack.message(channel, progress_ts).blocks)

    opened_before = len(world.slack.calls("views.open"))
    clicked = driver.sender.block_actions(ActionId.RECONNECT, message=(channel, progress_ts), user_id=driver.user_id)
    assert clicked.status == 200
    opened = world.slack.wait_for_call("views.open", count=opened_before + 1, timeout=5)
    driver.view_id = opened.response["view"]["id"]
    assert driver.callback_id() == CallbackId.RECONNECT
    page = driver.consent_in_browser()
    assert page.status_code == 200 and "Reconnected to acme.atlassian.net" in page.text
    assert "The sync of *expiring* resumes" in str(driver.view.blocks)
    with world.bot.services.sessions() as session:
        assert session.scalars(select(Connection)).one().status == "active"
        assert session.scalars(select(SyncRun)).one().state == "queued"
        assert session.scalars(select(Connection.token_version)).one() % 2 == 0


def test_only_the_creator_or_an_admin_may_reconnect(world: World) -> None:
    _created(world)
    world.slack.add_user("U0OTHER", "other")
    world.slack.add_channel_member(world.slack.default_channel_id, "U0OTHER")
    before = len(world.slack.calls("response_url"))
    assert world.bot.sender.slash_command("reconnect expiring", user_id="U0OTHER").status == 200
    refusal = world.slack.wait_for_call("response_url", count=before + 1, timeout=5)
    assert "or a workspace admin can reconnect it" in str(refusal.args["text"])
    world.slack.add_user("U0ADMIN", "admin", is_admin=True)
    world.slack.add_channel_member(world.slack.default_channel_id, "U0ADMIN")
    opened_before = len(world.slack.calls("views.open"))
    assert world.bot.sender.slash_command("reconnect EXPIRING", user_id="U0ADMIN").status == 200
    opened = world.slack.wait_for_call("views.open", count=opened_before + 1, timeout=5)
    assert opened.response["view"]["callback_id"] == CallbackId.RECONNECT


def test_retry_in_a_failed_thread_is_for_the_creator_or_an_admin(world: World) -> None:
    from storage.models import utcnow

    driver = _created(world)
    with world.bot.services.sessions.begin() as session:
        run = session.scalars(select(SyncRun)).one()
        run.state, run.outcome, run.phase, run.finished_at = (
            RunState.FINISHED,
            RunOutcome.FAILED,
            RunPhase.FAILED,
            utcnow(),
        )
        run.reason = "the site could not be read"
    client = WebClient(token=sorted(world.slack.bot_tokens)[0], base_url=world.slack.api_url)
    ProgressUpdater(world.bot.services, lambda _team: client, owner="t").tick()
    with world.bot.services.sessions() as session:
        datastore = session.scalars(select(Datastore)).one()
        channel, parent_ts = datastore.channel_id, datastore.parent_ts
    assert channel and parent_ts
    failed_reply = world.slack.thread_replies(channel, parent_ts)[-1]
    assert "Retry" in str(failed_reply.blocks)
    world.slack.add_user("U0OTHER", "other")
    world.slack.add_channel_member(channel, "U0OTHER")
    driver.sender.block_actions(ActionId.RETRY_SYNC, message=(channel, failed_reply.ts), user_id="U0OTHER")
    refused = world.slack.wait_for_call("chat.postEphemeral", timeout=5)
    assert "or a workspace admin can retry it" in str(refused.args["text"])
    with world.bot.services.sessions() as session:
        assert len(session.scalars(select(SyncRun)).all()) == 1
    driver.sender.block_actions(ActionId.RETRY_SYNC, message=(channel, failed_reply.ts), user_id=driver.user_id)
    accepted = world.slack.wait_for_call("chat.postEphemeral", count=2, timeout=5)
    assert "Retrying *expiring*" in str(accepted.args["text"])
    with world.bot.services.sessions() as session:
        assert [run.state for run in session.scalars(select(SyncRun).order_by(SyncRun.id))] == ["finished", "queued"]
