"""/datastore delete and credits, and App Home's menu, over HTTP with data synced from the fake Atlassian."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial

import pytest
from slack_sdk import WebClient
from sqlalchemy import func, select
from sqlalchemy.orm import InstrumentedAttribute

from demo.fakes.atlassian import SiteSpec
from demo.fakes.slack_api import FakeSlack
from handlers.ids import ActionId, BlockId, CallbackId
from storage.documents import Chunk, Document
from storage.models import Connection, Datastore, DeletionNotice, SyncRun, Workspace
from storage.search import Visibility, search
from storage.states import PauseKind, RunKind, RunState, RunTrigger
from storage.sync_runs import queue_run
from tests.bot.sync.conftest import TEAM, SyncWorld, make_world
from tests.harness import RunningBot, add_connected_datastore, running_bot, wait_until

CREATOR = "U1"
OPERATOR = "U0OPS"  # in DATASTORE_ADMINS


@dataclass
class Managed:
    world: SyncWorld
    bot: RunningBot
    eng: int
    ops: int
    channel: str
    parents: dict[int, str]


@pytest.fixture
def managed(database_url: str) -> Iterator[Managed]:
    """Two synced datastores with their channel messages: eng-wiki and ops-wiki (its own connection)."""
    spec = SiteSpec(spaces=2, pages_per_space=20, blogposts_per_space=1, body_bytes=2000)
    with FakeSlack(team_id=TEAM) as slack:
        for world in make_world(database_url, spec):
            ops = add_connected_datastore(
                world.services,
                cloud_id=world.atlassian.cloud_id,
                token=world.atlassian.issue_token(),
                team_id=TEAM,
                credits=0,
                name="ops-wiki",
            )
            world.queue(kind="full")
            with world.services.sessions.begin() as session:
                queue_run(session, datastore_id=ops, kind=RunKind.FULL, trigger=RunTrigger.CREATE)
            world.worker().run_until_idle()
            slack.add_user(CREATOR, "creator")
            slack.add_user(OPERATOR, "operator")
            channel = slack.default_channel_id
            web = WebClient(token=sorted(slack.bot_tokens)[0], base_url=slack.api_url)
            parents = {}
            for datastore_id in (world.datastore_id, ops):
                parents[datastore_id] = str(
                    web.chat_postMessage(channel=channel, text=f"datastore {datastore_id}")["ts"]
                )
                with world.services.sessions.begin() as session:
                    datastore = session.get(Datastore, datastore_id)
                    assert datastore is not None
                    datastore.channel_id, datastore.parent_ts = channel, parents[datastore_id]
            settings = world.services.settings
            assert settings.encryption_key is not None
            key = settings.encryption_key.get_secret_value()
            with running_bot(slack, database_url, encryption_key=key, datastore_admins=OPERATOR) as bot:
                yield Managed(world, bot, world.datastore_id, ops, channel, parents)
                bot.sender.close()


def _counts(m: Managed, datastore_id: int) -> dict[str, int]:
    with m.world.services.sessions() as session:

        def count(model: type, column: InstrumentedAttribute[int]) -> int:
            return int(session.scalar(select(func.count()).select_from(model).where(column == datastore_id)) or 0)

        datastore = session.get(Datastore, datastore_id)
        connections = 0
        if datastore is not None and datastore.connection_id is not None:
            connection = session.get(Connection, datastore.connection_id)
            connections = int(connection is not None and bool(connection.refresh_token_enc))
        return {
            "datastores": int(datastore is not None),
            "documents": count(Document, Document.datastore_id),
            "chunks": count(Chunk, Chunk.datastore_id),
            "runs": count(SyncRun, SyncRun.datastore_id),
            "connections with tokens": connections,
        }


def _reply(bot: RunningBot, text: str, user_id: str | None = None) -> dict[str, object]:
    before = len(bot.slack.calls("response_url"))
    assert bot.sender.slash_command(text, user_id=user_id).status == 200
    return bot.slack.wait_for_call("response_url", count=before + 1, timeout=5).args


def test_delete_removes_that_datastore_only_and_marks_its_message(managed: Managed) -> None:
    m, slack = managed, managed.bot.slack
    eng_before, ops_before = _counts(m, m.eng), _counts(m, m.ops)
    assert eng_before["documents"] == 42 and eng_before["chunks"] >= 42 and eng_before["connections with tokens"] == 1
    with m.world.services.sessions() as session:
        eng_connection = session.get(Datastore, m.eng).connection_id  # type: ignore[union-attr]

    refused = _reply(m.bot, "delete eng-wiki")  # the default tester is neither its creator nor an admin
    assert "Only <@U1>, who created *eng-wiki*, or a workspace admin or <@U0OPS> can delete it" in str(refused["text"])
    assert slack.calls("views.open") == [] and _counts(m, m.eng) == eng_before

    assert m.bot.sender.slash_command("delete eng-wiki", user_id=CREATOR).status == 200
    slack.wait_for_call("views.open", timeout=5)
    [modal] = slack.open_views(CREATOR)
    assert modal.callback_id == CallbackId.DELETE_CONFIRM
    assert "42 documents" in str(modal.blocks) and "cannot be undone" in str(modal.blocks)

    wrong = m.bot.sender.view_submission(modal.id, {BlockId.DELETE_NAME: {ActionId.DELETE_NAME_INPUT: "eng"}})
    assert wrong.errors is not None and "Type eng-wiki to delete it" in wrong.errors[BlockId.DELETE_NAME]
    assert _counts(m, m.eng) == eng_before

    replies = len(slack.calls("response_url"))
    m.bot.sender.view_submission(modal.id, {BlockId.DELETE_NAME: {ActionId.DELETE_NAME_INPUT: " ENG-WIKI "}})
    assert slack.open_views(CREATOR) == []
    slack.wait_for_call("response_url", count=replies + 2, timeout=10)
    told = [call.args["text"] for call in slack.calls("response_url")]
    assert told[-2:] == [
        ":hourglass_flowing_sand: Deleting *eng-wiki*…",
        ":wastebasket: *eng-wiki* is deleted: 42 documents and "
        + f"{eng_before['chunks']:,} search chunks removed.\nIts Confluence connection and access tokens are gone. "
        + "To also remove the app from the Atlassian account, open id.atlassian.com → Connected apps.",
    ]

    assert _counts(m, m.eng) == {
        "datastores": 0,
        "documents": 0,
        "chunks": 0,
        "runs": 0,
        "connections with tokens": 0,
    }
    assert _counts(m, m.ops) == ops_before
    with m.world.services.sessions() as session:
        assert session.get(Connection, eng_connection) is None  # its tokens are gone with it
        hint = m.world.atlassian.site.page_text_hints(sorted(m.world.atlassian.site.ids("page"))[0])
        assert search(
            session, visible=Visibility.everyone(), datastore_id=m.ops, query=hint.tag
        )  # the other datastore still answers
        assert search(session, visible=Visibility.everyone(), datastore_id=m.eng, query=hint.tag) == []
        [notice] = session.scalars(select(DeletionNotice))
        assert notice.delivered_at is not None
    parent = slack.message(m.channel, m.parents[m.eng])
    assert "deleted by <@U1>" in parent.text and "deleted by" in str(parent.blocks)
    assert "deleted" not in slack.message(m.channel, m.parents[m.ops]).text

    gone = _reply(m.bot, "delete eng-wiki", user_id=CREATOR)
    assert "There is no datastore named *eng-wiki* here" in str(gone["text"])


def test_app_home_menu_syncs_opens_threads_and_deletes_with_the_same_rules(managed: Managed) -> None:
    m, slack = managed, managed.bot.slack
    assert m.bot.sender.app_home_opened().status == 200
    wait_until(lambda: slack.home_view(slack.default_user_id) is not None, timeout=5)
    home = slack.home_view(slack.default_user_id)
    assert home is not None
    menu_block = f"{BlockId.HOME_DATASTORE}-{m.eng}"
    [menu] = [b["accessory"] for b in home.blocks if b.get("block_id") == menu_block]
    thread = [o for o in menu["options"] if o["value"] == f"thread:{m.eng}"]
    assert thread and thread[0]["url"].endswith(m.parents[m.eng].replace(".", ""))

    def choose(value: str, user_id: str) -> None:
        view = slack.home_view(user_id)
        assert view is not None
        block = f"{BlockId.HOME_DATASTORE}-{value.partition(':')[2]}"
        result = m.bot.sender.block_actions(
            ActionId.HOME_DATASTORE_MENU, block, selected_option=value, view_id=view.id, user_id=user_id
        )
        assert result.status == 200

    before = _counts(m, m.eng)
    publishes = len(slack.calls("views.publish"))
    choose(f"delete:{m.eng}", slack.default_user_id)
    slack.wait_for_call("views.publish", count=publishes + 1, timeout=5)
    assert "can delete it. Nothing changed." in str(slack.home_view(slack.default_user_id).blocks)  # type: ignore[union-attr]
    assert slack.calls("views.open") == [] and _counts(m, m.eng) == before

    assert m.bot.sender.app_home_opened(OPERATOR).status == 200
    wait_until(lambda: slack.home_view(OPERATOR) is not None, timeout=5)
    publishes = len(slack.calls("views.publish"))
    choose(f"sync:{m.eng}", OPERATOR)
    slack.wait_for_call("views.publish", count=publishes + 1, timeout=5)
    assert "A resync of *eng-wiki* is queued" in str(slack.home_view(OPERATOR).blocks)  # type: ignore[union-attr]
    with m.world.services.sessions() as session:
        assert session.scalars(select(SyncRun).where(SyncRun.state == "queued")).one().datastore_id == m.eng

    choose(f"delete:{m.ops}", OPERATOR)
    slack.wait_for_call("views.open", timeout=5)
    [modal] = slack.open_views(OPERATOR)
    m.bot.sender.view_submission(modal.id, {BlockId.DELETE_NAME: {ActionId.DELETE_NAME_INPUT: "ops-wiki"}})
    wait_until(lambda: "*ops-wiki* is deleted" in str(slack.home_view(OPERATOR).blocks), timeout=10)  # type: ignore[union-attr]
    # Everyone who opened App Home sees the datastore gone.
    for user_id in (slack.default_user_id, OPERATOR):
        wait_until(partial(_home_shows, slack, user_id, [m.eng]), timeout=5)


def _home_shows(slack: FakeSlack, user_id: str, datastore_ids: list[int]) -> bool:
    return _home_datastores(slack, user_id) == datastore_ids


def _home_datastores(slack: FakeSlack, user_id: str) -> list[int]:
    view = slack.home_view(user_id)
    assert view is not None
    prefix = f"{BlockId.HOME_DATASTORE}-"
    return [int(b["block_id"].removeprefix(prefix)) for b in view.blocks if b.get("block_id", "").startswith(prefix)]


def test_credits_show_the_ledger_and_only_admins_change_auto_top_off(managed: Managed) -> None:
    m, slack = managed, managed.bot.slack
    with m.world.services.sessions.begin() as session:  # a sync waiting for credits
        paused = queue_run(session, datastore_id=m.ops, kind=RunKind.INCREMENTAL, trigger=RunTrigger.MANUAL)
        assert paused is not None
        paused.state, paused.pause_kind = RunState.PAUSED, PauseKind.CREDITS
        paused_id = paused.id

    shown = _reply(m.bot, "credits")
    text = str(shown["blocks"])
    assert "credits available" in str(shown["text"]) and "Auto top-off:* off" in text
    assert "Sync · eng-wiki (42 pages)" in text and "Free credits" in text
    assert "Only a workspace admin or <@U0OPS> can change auto top-off." in text and ActionId.CREDITS_CHANGE not in text

    forged = m.bot.sender.click_in_ephemeral(ActionId.CREDITS_CHANGE, BlockId.CREDITS_ACTIONS, TEAM, m.channel)
    assert forged.status == 200
    told = slack.wait_for_call("response_url", count=2, timeout=5).args
    assert "can change auto top-off. Nothing changed." in str(told["text"])
    assert slack.calls("views.open") == []

    slack.add_user("U0BOSS", "boss", is_admin=True)
    slack.add_channel_member(m.channel, "U0BOSS")
    admin_view = _reply(m.bot, "credits", user_id="U0BOSS")
    assert ActionId.CREDITS_CHANGE in str(admin_view["blocks"])
    m.bot.sender.click_in_ephemeral(ActionId.CREDITS_CHANGE, BlockId.CREDITS_ACTIONS, TEAM, m.channel, "U0BOSS")
    slack.wait_for_call("views.open", timeout=5)
    [modal] = slack.open_views("U0BOSS")
    fields: dict[str, dict[str, str]] = {
        BlockId.TOPOFF_THRESHOLD: {ActionId.TOPOFF_THRESHOLD: "1,000"},
        BlockId.TOPOFF_AMOUNT: {ActionId.TOPOFF_AMOUNT: "ten"},
        BlockId.TOPOFF_CAP: {ActionId.TOPOFF_CAP: ""},
    }
    refused = m.bot.sender.view_submission(modal.id, fields)
    assert refused.errors is not None and "whole number" in refused.errors[BlockId.TOPOFF_AMOUNT]
    with m.world.services.sessions() as session:
        assert session.get(Workspace, TEAM).topoff_amount is None  # type: ignore[union-attr]
        assert session.get(SyncRun, paused_id).state == "paused"  # type: ignore[union-attr]

    fields[BlockId.TOPOFF_AMOUNT] = {ActionId.TOPOFF_AMOUNT: "5000"}
    fields[BlockId.TOPOFF_CAP] = {ActionId.TOPOFF_CAP: "20000"}
    m.bot.sender.view_submission(modal.id, fields)
    saved = str(slack.view(modal.id).blocks)
    assert "Auto top-off is *on*: below 1,000 credits, 5,000 are added, at most 20,000 a month" in saved
    assert "1 sync paused for credits resumes now" in saved
    with m.world.services.sessions() as session:
        workspace = session.get(Workspace, TEAM)
        assert workspace is not None and (workspace.topoff_threshold, workspace.topoff_amount) == (1000, 5000)
        assert workspace.topoff_monthly_cap == 20000 and workspace.topoff_updated_by == "U0BOSS"
        assert session.get(SyncRun, paused_id).state == "queued"  # type: ignore[union-attr]
    again = _reply(m.bot, "credits")
    assert "when the balance drops below 1,000, add 5,000 · at most 20,000 a month" in str(again["blocks"])
