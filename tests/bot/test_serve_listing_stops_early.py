"""Issue #11, class 9, end to end through `datastore-bot serve`: a resync whose listing stops early prunes nothing.

A datastore is created through the real wizard and synced. Then pages are deleted in Confluence (a complete
listing would prune them) and two resyncs are typed in Slack — `/datastore sync eng-wiki` with its deletion
check due (it lists every page), then with `--full` —
while the fake Atlassian breaks the listing of one space: a bad next link (to another host, back to a page
already listed, disagreeing between body and Link header) or errors mid-listing. Each resync must end Partially
Synced with nothing deleted, say so in the thread, and post exactly one completion reply.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from demo.fakes.atlassian import FakeAtlassian, FaultKind, FaultRule, SiteSpec
from demo.fakes.slack_api import FakeSlack
from tests.bot.served_datastore import NAME, ServedDatastore, served_datastore

# Heavy end to end: of this module's PostgreSQL cases every other one runs (SQLite runs them all).
pytestmark = pytest.mark.postgresql_sample(every=2, per="module")

PAGES_PER_SPACE = 300  # two listing pages of 250: the first one names a next page
SPEC = SiteSpec(spaces=2, pages_per_space=PAGES_PER_SPACE, blogposts_per_space=0, body_bytes=800)
DOCUMENTS = 2 * PAGES_PER_SPACE


def _listing(space_id: int) -> str:
    return f"GET */wiki/api/v2/spaces/{space_id}/pages"


def _elsewhere(atlassian: FakeAtlassian, space_id: int) -> list[FaultRule]:
    rewrite = lambda nxt: f"https://evil.example{nxt}" if nxt else nxt  # noqa: E731
    return [atlassian.inject(_listing(space_id), FaultKind.NEXT_LINK, rewrite_next=rewrite)]


def _remembered(seen: list[str]) -> Callable[[str], str]:
    """A next link rewritten to itself, remembered in ``seen``."""

    def rewrite(next_link: str) -> str:
        seen.append(next_link)
        return next_link

    return rewrite


def _loop(atlassian: FakeAtlassian, space_id: int) -> list[FaultRule]:
    """The last listing page names itself as the next one."""
    seen: list[str] = []
    remember = atlassian.inject(_listing(space_id), FaultKind.NEXT_LINK, rewrite_next=_remembered(seen))
    loop = atlassian.inject(_listing(space_id), FaultKind.NEXT_LINK, rewrite_next=lambda _n: seen[0])
    return [remember, loop]


def _disagreeing(atlassian: FakeAtlassian, space_id: int) -> list[FaultRule]:
    rewrite = lambda nxt: nxt.replace("cursor=", "cursor=other") if nxt else nxt  # noqa: E731
    return [atlassian.inject(_listing(space_id), FaultKind.NEXT_LINK, rewrite_next=rewrite, where="header")]


def _failing(atlassian: FakeAtlassian, space_id: int) -> list[FaultRule]:
    return [atlassian.inject(_listing(space_id), FaultKind.SERVER_ERROR, times=None, skip=1)]


STOPS: dict[str, Callable[[FakeAtlassian, int], list[FaultRule]]] = {
    "next-to-another-host": _elsewhere,
    "next-loops": _loop,
    "next-disagrees-with-link-header": _disagreeing,
    "errors-mid-listing": _failing,
}


def _resync_stopped_early(world: ServedDatastore, stop: str, *, full: bool) -> None:
    atlassian = world.atlassian
    atlassian.clear_faults()
    space_id = sorted(atlassian.site.spaces)[0]
    rules = STOPS[stop](atlassian, space_id)
    posted = len(world.thread_posts())
    world.deletion_check_due()  # an incremental resync lists every page only for its deletion check
    run_id = world.resync(full=full)
    run = world.announced(run_id)
    assert all(rule.hits >= 1 for rule in rules), f"{stop}: the injected fault was never served"
    assert (run.kind, run.outcome, run.enumeration_complete, run.deleted) == (
        "full" if full else "incremental",
        "partially_synced",
        False,
        0,
    )
    assert run.reason == "some spaces could not be listed, so nothing was deleted"
    assert world.datastore().document_count == DOCUMENTS  # nothing pruned
    # Exactly one completion reply for this run, and it says what happened.
    (completion,) = world.thread_posts()[posted:]
    assert completion.response["ts"] == run.announced_ts
    text = str(completion.args.get("blocks"))
    assert str(completion.args["text"]).startswith(f"⚠️ *{NAME}* is partly ready — {DOCUMENTS:,} synced")
    assert "some spaces could not be listed, so nothing was deleted" in text
    assert "*Partially Synced ⚠️*" in world.progress_text()


@pytest.mark.parametrize(
    ("incremental", "full"),
    [("next-to-another-host", "next-loops"), ("next-disagrees-with-link-header", "errors-mid-listing")],
)
def test_resyncs_whose_listing_stops_early_prune_nothing(
    fake_slack: FakeSlack, database_url: str, tmp_path: Path, incremental: str, full: str
) -> None:
    with served_datastore(fake_slack, database_url, tmp_path, SPEC) as world:
        assert world.datastore().document_count == DOCUMENTS
        site = world.atlassian.site
        first, second = sorted(site.spaces)
        site.purge_page(site.ids("page", first)[0])  # on the first listing page of the broken space
        site.purge_page(site.ids("page", first)[-1])  # on its second listing page
        site.trash_page(site.ids("page", second)[7])  # in the space that is listed completely

        _resync_stopped_early(world, incremental, full=False)
        _resync_stopped_early(world, full, full=True)

        time.sleep(2.5)  # a few more progress ticks: nothing else may be posted in the thread
        posts = world.thread_posts()
        assert [c.response["ts"] for c in posts[1:]] == [run.announced_ts for run in world.runs()]
        assert [m.ts for m in world.slack.thread_replies(world.channel, world.parent_ts)] == [
            world.progress_ts,
            *(run.announced_ts for run in world.runs()),
        ]
        # The same listing, unbroken, does prune: the three deleted pages go.
        world.atlassian.clear_faults()
        world.deletion_check_due()
        final = world.announced(world.resync())
        assert (final.outcome, final.deleted) == ("synced", 3)
        assert world.datastore().document_count == DOCUMENTS - 3
