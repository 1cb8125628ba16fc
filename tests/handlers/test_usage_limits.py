"""Who may use a datastore (issue #12 item 5) over HTTP: `/datastore limit NAME channels …|group @handle|none`
by the creator or admins, enforced on search, Share in channel and App Home; refusals say who can change it;
a user group Slack will not describe closes the datastore instead of opening it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from handlers.ids import ActionId, BlockId
from storage.usage_limits import UsageLimit
from tests.handlers.access_world import ADMIN, CREATOR, OTHER, AccessWorld, access_world
from tests.harness import wait_until

WHO = f"Only <@{CREATOR}> or a workspace admin can change who may use *eng-wiki*."
GENERAL, ELSEWHERE = "C0GENERAL", "C0OTHER"


@pytest.fixture
def world(database_url: str) -> Iterator[AccessWorld]:
    yield from access_world(database_url)


def _text(reply: dict[str, Any]) -> str:
    return str(reply.get("text", ""))


def _search(world: AccessWorld, *, user_id: str = OTHER, channel_id: str = GENERAL) -> dict[str, Any]:
    tag = world.sync.atlassian.site.page_text_hints(sorted(world.sync.atlassian.site.ids("page"))[1]).tag
    return world.reply(f"search eng-wiki {tag}", user_id=user_id, channel_id=channel_id)


def _found(reply: dict[str, Any]) -> bool:
    return any(b.get("block_id") == BlockId.SEARCH_ACTIONS for b in reply.get("blocks") or [])


def _limit(world: AccessWorld) -> UsageLimit | None:
    with world.bot.services.sessions() as session:
        row = session.get(UsageLimit, world.sync.datastore_id)
        if row is not None:
            session.expunge(row)
        return row


def _share(world: AccessWorld, reply: dict[str, Any], channel_id: str) -> dict[str, Any]:
    value = reply["blocks"][-1]["elements"][0]["value"]
    before = len(world.slack.calls("response_url"))
    clicked = world.bot.sender.click_in_ephemeral(ActionId.SHARE_RESULTS, BlockId.SEARCH_ACTIONS, value, channel_id)
    assert clicked.status == 200
    return world.slack.wait_for_call("response_url", count=before + 1, timeout=5).args


def test_limited_to_channels_search_and_share_work_only_there(world: AccessWorld) -> None:
    shared_from_elsewhere = _search(world, channel_id=ELSEWHERE)  # before the limit: found anywhere
    assert _found(shared_from_elsewhere)
    done = world.reply("limit eng-wiki channels here", user_id=CREATOR, channel_id=GENERAL)
    assert f"Done. *eng-wiki* can now be used by only in <#{GENERAL}>" in _text(done)
    limit = _limit(world)
    assert limit is not None and limit.channel_ids == (GENERAL,)
    assert world.audit() == [(CREATOR, "slack", "limit", "none", f"channels:{GENERAL}")]

    assert _found(_search(world, channel_id=GENERAL))
    refused = _search(world, channel_id=ELSEWHERE)
    assert not _found(refused)
    assert _text(refused) == f"*eng-wiki* can be searched and shared only in <#{GENERAL}>. {WHO}"
    # A result list shown before the limit cannot be shared where the datastore may no longer be used.
    shared = _share(world, shared_from_elsewhere, ELSEWHERE)
    assert shared.get("response_type") != "in_channel" and WHO in _text(shared)

    status = world.reply("status eng-wiki")
    assert f"who may use it: no limit → channels <#{GENERAL}> · by <@{CREATOR}>" in str(status["blocks"])
    cleared = world.reply("limit eng-wiki none", user_id=ADMIN)
    assert "can now be used by everyone in this workspace" in _text(cleared) and _limit(world) is None
    assert _found(_search(world, channel_id=ELSEWHERE))


def test_limited_to_a_user_group_only_its_members_search_and_see_it_on_app_home(world: AccessWorld) -> None:
    world.slack.add_usergroup("S0ENGTEAM", "eng-team", [CREATOR])
    done = world.reply("limit eng-wiki group @Eng-Team", user_id=CREATOR)
    assert "can now be used by only members of *@eng-team*" in _text(done)
    assert world.audit() == [(CREATOR, "slack", "limit", "none", "group:S0ENGTEAM|eng-team")]

    assert _found(_search(world, user_id=CREATOR))
    refused = _search(world, user_id=OTHER)
    assert _text(refused) == f"*eng-wiki* is only for members of *@eng-team*, and you are not one. {WHO}"

    for user_id, listed in ((OTHER, False), (CREATOR, True)):
        assert world.bot.sender.app_home_opened(user_id).status == 200
        wait_until(lambda u=user_id: world.slack.home_view(u) is not None, timeout=5)  # type: ignore[misc]
        home = world.slack.home_view(user_id)
        assert home is not None and ("*eng-wiki*" in str(home.blocks)) is listed


def test_a_user_group_that_cannot_be_read_closes_the_datastore(world: AccessWorld) -> None:
    world.slack.add_usergroup("S0ENGTEAM", "eng-team", [CREATOR, OTHER])
    world.reply("limit eng-wiki group S0ENGTEAM", user_id=CREATOR)
    world.slack.fail("usergroups.users.list", "missing_scope", times=5)
    refused = _search(world, user_id=OTHER)
    assert not _found(refused)
    assert "I couldn't read who is in it just now (Slack answered `missing_scope`), so nothing is shown" in _text(
        refused
    )
    assert WHO in _text(refused)
    assert world.bot.sender.app_home_opened(OTHER).status == 200
    wait_until(lambda: world.slack.home_view(OTHER) is not None, timeout=5)
    home = world.slack.home_view(OTHER)
    assert home is not None and "*eng-wiki*" not in str(home.blocks)


def test_only_the_creator_or_an_admin_sets_a_limit(world: AccessWorld) -> None:
    reply = world.reply("limit eng-wiki channels here", user_id=OTHER)
    assert _text(reply) == f"{WHO} Nothing changed."
    assert _limit(world) is None and world.audit() == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("limit eng-wiki", "Say which datastore and who may use it"),
        ("limit eng-wiki sometimes", "I don't know the limit `sometimes`"),
        ("limit eng-wiki channels", "Name between 1 and 50 channels"),
        ("limit eng-wiki channels #random", "I can't tell which channel `#random` is"),
        ("limit eng-wiki group", "Name one user group"),
        ("limit eng-wiki group @nobody", "There is no user group `@nobody` in this workspace"),
        ("limit eng-wiki group <!channel>", "`&lt;!channel&gt;` is not a user group"),
        ("limit eng-wiki none extra", "`none` takes nothing after it"),
        ("limit nope none", "There is no datastore named *nope* here"),
    ],
)
def test_bad_input_gets_a_usage_message_and_changes_nothing(world: AccessWorld, text: str, expected: str) -> None:
    reply = world.reply(text, user_id=CREATOR)
    assert expected in _text(reply)
    assert "<!channel>" not in str(reply)
    assert _limit(world) is None and world.audit() == []
