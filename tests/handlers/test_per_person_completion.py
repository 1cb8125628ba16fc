"""A per-person datastore's ✅ comes once its pages' permissions are read, not before: until the permission pass
has read them, those pages are hidden from everyone in per-person search, so a ✅ would promise pages nobody
can find. Through `serve`'s background work (worker, progress job, permission passes) and the real wizard."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from demo.fakes.atlassian import SiteConfig, SiteSpec
from demo.fakes.slack_api import FakeSlack
from storage.documents import Document
from tests.handlers.conftest import World, make_world
from tests.handlers.wizard_driver import WizardDriver
from tests.harness import wait_until

CHECKING = "Checking who can see each page"


@pytest.fixture
def serving(fake_slack: FakeSlack, database_url: str) -> Iterator[World]:
    spec = SiteSpec(spaces=1, pages_per_space=16, blogposts_per_space=0, body_bytes=1500)
    yield from make_world(fake_slack, database_url, [SiteConfig(name="acme", spec=spec)], background=True)


def test_the_check_mark_waits_for_the_permission_pass_and_the_reply_says_so(serving: World) -> None:
    world, slack = serving, serving.slack
    driver = WizardDriver(world)
    assert driver.connect().status_code == 200
    assert driver.grant(None).errors is None  # "each person", the default
    world.atlassian.set_latency(1.0, "GET /wiki/rest/api/*")  # permission reads (v1) are slow; the sync (v2) is not
    assert driver.submit().json == {"response_action": "clear"}

    wait_until(lambda: bool(slack.all_messages(text_prefix="✅")), timeout=90, interval=0.2)
    with world.bot.services.sessions() as session:
        documents = list(session.scalars(select(Document)))
    assert len(documents) == 16 and all(d.acl_checked_at is not None for d in documents)
    updates = [c.args for c in slack.calls("chat.update")]
    assert any(CHECKING in str(args.get("blocks")) for args in updates), "the hold was never shown"
    [done] = slack.all_messages(text_prefix="✅")
    assert "per-person search once" not in str(done.blocks)  # every page was read in time: no caveat
