from __future__ import annotations

from datetime import UTC, datetime

from slack_sdk.models.views import View

from bot.datastores.queries import DatastoreInfo
from bot.states import DatastoreStatus
from demo.fakes.slack_blockkit import validate_blocks, validate_view
from handlers.views.home import home_view
from handlers.views.usage import list_message, status_message

WHEN = datetime(2026, 11, 2, 10, 4, tzinfo=UTC)


def info(index: int, status: str = "synced") -> DatastoreInfo:
    return DatastoreInfo(
        id=index,
        name=f"store-{index} <&>",
        site="acme.atlassian.net",
        status=DatastoreStatus(status),
        status_detail=None,
        documents=1000 + index,
        created_by="U1",
        channel_id="C1",
        parent_ts="1.1",
        thread_url=None,
        last_sync=WHEN,
        next_sync=WHEN,
        run_phase=None,
        run_processed=0,
        run_to_process=0,
        run_failed=0,
        run_found=0,
    )


def test_home_with_50_datastores_passes_block_kit_validation() -> None:
    links = {i: f"https://fake.slack.com/archives/C1/p{i}" for i in range(0, 50, 2)}
    notice = "Only <@U1>, who created *store-3*, or a workspace admin can delete it. Nothing changed."
    view = home_view([info(i) for i in range(50)], links=links, notice=notice)
    assert validate_view(view) == []
    View(**view).validate_json()
    text = str(view["blocks"])
    assert "store-49 &lt;&amp;&gt;" in text and "Synced ✅" in text and "1,049 documents" in text
    menus = [block["accessory"] for block in view["blocks"] if "accessory" in block]
    assert len(menus) == 50
    assert [o["text"]["text"] for o in menus[0]["options"]] == ["Sync now", "Open thread", "Delete…"]
    assert menus[0]["options"][1]["url"] == links[0]
    assert [o["text"]["text"] for o in menus[1]["options"]] == ["Sync now", "Delete…"]  # thread not known yet
    assert notice in text


def test_home_with_more_datastores_than_blocks_allow_says_how_many_more() -> None:
    view = home_view([info(i) for i in range(120)], notice="A resync of *store-1* is queued.")
    assert validate_view(view) == []
    View(**view).validate_json()
    assert "…and 30 more" in str(view["blocks"][-1])


def test_empty_home_and_list() -> None:
    assert "No datastores yet" in str(home_view([])["blocks"])
    assert "No datastores in this workspace yet" in list_message([])["text"]


def test_list_and_status_messages_are_valid() -> None:
    listing = list_message([info(i) for i in range(60)])
    assert validate_blocks(listing["blocks"], "message") == []
    status = status_message(info(1, "processing"), thread_link="https://fake.slack.com/archives/C1/p1")
    assert validate_blocks(status["blocks"], "message") == []
    assert "Open its thread" in status["text"]
