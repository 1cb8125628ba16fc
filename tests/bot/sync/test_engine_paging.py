"""Class 9 through the engine: a listing that stops early — a bad, looping or disagreeing next link, an error
mid-listing, a bad stored cursor after a restart — marks that space's listing as errored, so the run ends
Partially Synced and prunes nothing, on incremental and full runs alike. A listing paged by the Link header
alone, or by ``_links.next`` alone, is complete and prunes what is gone."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

import pytest

import bot.confluence.client
from bot.confluence.client import RequestBudget
from bot.sync.confluence_source import ConfluenceSources
from demo.fakes.atlassian import FaultKind, FaultRule, SiteSpec
from storage.models import SyncRun
from storage.run_checkpoints import SyncRunSpace
from storage.states import RunPhase
from tests.bot.sync.conftest import SyncWorld, ids_of, make_world

#: Small listing pages, so a 60-page space takes three of them (the fake accepts any limit up to 250).
LIMIT = 20
SPEC = SiteSpec(spaces=2, pages_per_space=60, blogposts_per_space=2, body_bytes=300)


@pytest.fixture
def world(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[SyncWorld]:
    monkeypatch.setattr(bot.confluence.client, "PAGE_LIMIT", LIMIT)
    yield from make_world(database_url, SPEC)


def _synced(world: SyncWorld, kind: str = "full") -> SyncRun:
    """A run of ``kind``; an incremental one lists every id (its deletion check is due): paging is what these
    tests are about."""
    if kind == "incremental":
        world.deletion_check_due()
    run_id = world.queue(kind=kind)
    world.worker(metadata_threads=2).run_until_idle()
    return world.run(run_id)


def _listing(space_id: int) -> str:
    return f"GET */wiki/api/v2/spaces/{space_id}/pages*"


def _delete_some(world: SyncWorld) -> list[int]:
    """Pages gone from Confluence since the last sync: a complete listing would prune them."""
    site = world.atlassian.site
    first, second = sorted(site.spaces)
    pages = site.ids("page", first)
    site.purge_page(pages[0])
    site.purge_page(pages[-1])  # on the last listing page: not listed when the listing stops early
    site.trash_page(site.ids("page", second)[3])
    return [pages[0], pages[-1]]


Inject = Callable[[SyncWorld, int], list[FaultRule]]


def _rewrite(make: Callable[[str], object], *, skip: int = 0, where: str = "both") -> Inject:
    def inject(world: SyncWorld, space_id: int) -> list[FaultRule]:
        rewrite = lambda nxt: make(nxt) if nxt else nxt  # noqa: E731 - the last page keeps its missing next
        return [
            world.atlassian.inject(
                _listing(space_id), FaultKind.NEXT_LINK, skip=skip, rewrite_next=rewrite, where=where
            )
        ]

    return inject


def _remembered(seen: list[str]) -> Callable[[str], str]:
    """A next link rewritten to itself, remembered in ``seen``."""

    def rewrite(next_link: str) -> str:
        seen.append(next_link)
        return next_link

    return rewrite


def _loop(world: SyncWorld, space_id: int) -> list[FaultRule]:
    """The second listing page names itself as the next one."""
    seen: list[str] = []
    record = world.atlassian.inject(_listing(space_id), FaultKind.NEXT_LINK, rewrite_next=_remembered(seen))
    loop = world.atlassian.inject(_listing(space_id), FaultKind.NEXT_LINK, rewrite_next=lambda _n: seen[0])
    return [record, loop]


def _error_mid_listing(world: SyncWorld, space_id: int) -> list[FaultRule]:
    return [world.atlassian.inject(_listing(space_id), FaultKind.SERVER_ERROR, times=None, skip=1)]


STOPS: dict[str, Inject] = {
    "absolute": _rewrite(lambda n: f"https://evil.example{n}"),
    "scheme-relative": _rewrite(lambda n: f"//evil.example{n}"),
    "traversal": _rewrite(lambda n: n.replace("/wiki/api/v2/", "/wiki/../wiki/api/v2/")),
    "percent-encoded": _rewrite(lambda n: n.replace("/wiki/api/v2/", "/wiki/%2e%2e/wiki/api/v2/")),
    "other-endpoint": _rewrite(lambda n: n.replace("/pages?", "/blogposts?")),
    "other-space": _rewrite(lambda n: n.replace("/spaces/", "/spaces/9")),
    "placeholder": _rewrite(lambda _n: "string", where="body"),
    "disagreeing-header": _rewrite(lambda n: n.replace("cursor=", "cursor=x"), where="header"),
    "loop": _loop,
    "error-mid-listing": _error_mid_listing,
}


#: Every way of stopping on SQLite; a spread of them on PostgreSQL (what is pruned is the same query).
@pytest.mark.postgresql_sample(every=3)
@pytest.mark.parametrize("stop", sorted(STOPS))
def test_a_listing_that_stops_early_prunes_nothing_incremental_or_full(
    world: SyncWorld, stop: str, caplog: pytest.LogCaptureFixture
) -> None:
    assert _synced(world).outcome == "synced"
    before = ids_of(world)
    _delete_some(world)
    space_id = sorted(world.atlassian.site.spaces)[0]
    for kind in ("incremental", "full"):
        world.atlassian.clear_faults()
        rules = STOPS[stop](world, space_id)
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="bot.sync.engine"):
            run = _synced(world, kind)
        assert all(rule.hits >= 1 for rule in rules), "the injected fault was never served"
        assert (run.outcome, run.enumeration_complete, run.deleted) == ("partially_synced", False, 0)
        assert run.reason == "some spaces could not be listed, so nothing was deleted"
        assert ids_of(world) == before  # nothing pruned: not the purged pages, not the trashed one
        assert world.datastore().document_count == len(before)
        failed = [r for r in caplog.records if "listing space" in r.getMessage()]
        assert [r.args[0] for r in failed] == [str(space_id)]  # type: ignore[index]  # that space, that kind


@pytest.mark.parametrize("paging", ["header", "body"])
def test_a_listing_paged_by_one_mechanism_is_complete_and_prunes(world: SyncWorld, paging: str) -> None:
    world.atlassian.paging = paging
    first = _synced(world)
    assert first.outcome == "synced" and first.found == 2 * 62
    purged = _delete_some(world)
    run = _synced(world, "incremental")
    assert (run.outcome, run.enumeration_complete, run.deleted) == ("synced", True, 3)
    assert not {str(p) for p in purged} & ids_of(world)
    assert world.atlassian.log.count("GET /wiki/api/v2/spaces/{id}/pages") == 2 * 2 * 3  # 2 runs, 2 spaces, 3 pages


RESUMED: dict[str, Callable[[str], str]] = {
    "absolute": lambda c: f"https://evil.example{c}",
    "other-space": lambda c: c.replace("/spaces/", "/spaces/9"),
    "traversal": lambda c: c.replace("/wiki/api/v2/", "/wiki/./api/v2/"),
    "no-cursor": lambda c: c.split("&cursor=")[0],
    "changed-query": lambda c: c.replace("limit=", "limit=1"),
    "not-a-path": lambda _c: "string",
}


def _resumable(world: SyncWorld, tamper: Callable[[str], str]) -> tuple[int, int, str]:
    """A run stopped (as by a crash) in Syncing Metadata, with a stored cursor for the first space's pages:
    the real one (of its second listing page), tampered with. Returns the run, that space and what was stored."""
    run_id = world.queue(kind="incremental")
    space_id = sorted(world.atlassian.site.spaces)[0]
    source = ConfluenceSources(world.services, world.tokens, RequestBudget(1_000_000))(world.datastore())
    try:
        cursor = source.list_page(str(space_id), "page", None).next_cursor
    finally:
        source.close()
    assert cursor is not None
    stored = tamper(cursor)
    with world.services.sessions.begin() as session:
        run = session.get(SyncRun, run_id)
        assert run is not None
        run.phase, run.spaces_total = RunPhase.SYNCING_METADATA, 2
        for space in sorted(world.atlassian.site.spaces):
            for kind in ("page", "blogpost"):
                mine = stored if (space, kind) == (space_id, "page") else None
                session.add(SyncRunSpace(run_id=run_id, space_id=str(space), kind=kind, cursor=mine))
    return run_id, space_id, stored


@pytest.mark.postgresql_sample(every=3)
@pytest.mark.parametrize("tamper", sorted(RESUMED))
def test_a_resumed_run_checks_its_stored_cursor_like_a_fresh_one(world: SyncWorld, tamper: str) -> None:
    assert _synced(world).outcome == "synced"
    before = ids_of(world)
    _delete_some(world)
    run_id, space_id, _stored = _resumable(world, RESUMED[tamper])
    world.atlassian.log.clear()
    world.worker().run_until_idle()
    run = world.run(run_id)
    assert (run.outcome, run.enumeration_complete, run.deleted) == ("partially_synced", False, 0)
    assert ids_of(world) == before
    # The stored cursor was refused before anything was asked for with it: that space's pages were not listed.
    listed = [r.path.rsplit("/spaces/", 1)[1] for r in world.atlassian.log.filter("GET /wiki/api/v2/spaces/{id}/pages")]
    assert f"{space_id}/pages" not in listed and len(listed) == 3  # only the other space's three listing pages


def test_a_resumed_run_whose_stored_cursor_comes_back_is_a_loop(world: SyncWorld) -> None:
    assert _synced(world).outcome == "synced"
    before = ids_of(world)
    _delete_some(world)
    run_id, space_id, stored = _resumable(world, lambda cursor: cursor)
    rule = world.atlassian.inject(_listing(space_id), FaultKind.NEXT_LINK, rewrite_next=lambda n: stored if n else n)
    world.worker().run_until_idle()
    run = world.run(run_id)
    assert rule.hits == 1  # the stored page was asked for, and named itself as the next one
    assert (run.outcome, run.enumeration_complete, run.deleted) == ("partially_synced", False, 0)
    assert ids_of(world) == before
