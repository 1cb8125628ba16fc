"""Resyncs that ask only for what changed (issue #14 item 2), against the fake Atlassian: what they cost in
requests and points, what they find, and the deletion check's cadence."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.sync.resync import OVERLAP
from demo.fakes.atlassian import SiteSpec
from storage.models import Datastore, SyncRun, utcnow
from storage.watermarks import watermarks
from tests.bot.sync.conftest import SyncWorld, ids_of, make_world

#: 20 spaces of 50 pages and 2 blog posts: 1% changed is 10 pages.
SPEC = SiteSpec(spaces=20, pages_per_space=50, blogposts_per_space=2, body_bytes=300)
LISTINGS = ("GET /wiki/api/v2/spaces/{id}/pages", "GET /wiki/api/v2/spaces/{id}/blogposts")

pytestmark = pytest.mark.postgresql_sample(every=2, per="module")


@pytest.fixture
def world(database_url: str) -> Iterator[SyncWorld]:
    yield from make_world(database_url, SPEC)


def _sync(world: SyncWorld, kind: str = "incremental") -> SyncRun:
    run_id = world.queue(kind=kind)
    world.worker().run_until_idle()
    return world.run(run_id)


def _listings(world: SyncWorld) -> int:
    return sum(world.atlassian.log.count(endpoint) for endpoint in LISTINGS)


def _set(world: SyncWorld, **values: object) -> None:
    with world.services.sessions.begin() as session:
        datastore = session.get(Datastore, world.datastore_id)
        assert datastore is not None
        for name, value in values.items():
            setattr(datastore, name, value)


def test_a_resync_with_nothing_changed_makes_one_request_per_space_and_kind(world: SyncWorld) -> None:
    full = _sync(world, "full")
    assert full.outcome == "synced" and full.lists_everything
    documents = world.datastore().document_count
    world.atlassian.log.clear()
    run = _sync(world)
    assert (run.outcome, run.lists_everything, run.found, run.processed) == ("synced", False, 0, 0)
    assert run.unchanged == documents and world.datastore().document_count == documents
    assert _listings(world) == 20 * 2  # one first look per space and kind: O(spaces), not O(pages)
    assert len(world.atlassian.log) == 20 * 2 + 1  # and the spaces
    assert world.atlassian.log.points() <= 20 * 2 * 2 + 1 + 20  # a look costs 2 points; the spaces 1 + 20
    assert sum(world.atlassian.log.body_fetches().values()) <= 20 * 2  # a first look brings its one item


def _listed_kinds(world: SyncWorld) -> list[str]:
    return [r.endpoint.rsplit("/", 1)[-1] for r in world.atlassian.log if r.endpoint in LISTINGS]


def test_a_listing_of_changes_asks_the_biggest_listings_first(world: SyncWorld) -> None:
    """With one listing thread, every space's pages (50 documents each) are asked for before any space's blog
    posts (2 each): the listings likeliest to take a second request start while threads are free. A listing of
    everything keeps a space's kinds together (its spaces finish one by one in the thread's count)."""
    _sync(world, "full")
    world.atlassian.log.clear()
    run_id = world.queue()
    world.worker(metadata_threads=1).run_until_idle()
    assert world.run(run_id).outcome == "synced"
    assert _listed_kinds(world) == ["pages"] * 20 + ["blogposts"] * 20

    world.atlassian.log.clear()
    run_id = world.queue(kind="full")
    world.worker(metadata_threads=1).run_until_idle()
    assert world.run(run_id).outcome == "synced"
    spaces = [r.path.split("/")[-2] for r in world.atlassian.log if r.endpoint in LISTINGS]
    assert len(spaces) == 40 and all(spaces[i] == spaces[i + 1] for i in range(0, 40, 2)), spaces


def test_one_percent_changed_costs_at_most_five_points_per_changed_page_plus_ten_per_space(world: SyncWorld) -> None:
    _sync(world, "full")
    site = world.atlassian.site
    spaces = sorted(site.spaces)
    changed = [sorted(site.ids("page", space))[3] for space in spaces[:5]]  # one page in each of five spaces
    changed += sorted(site.ids("page", spaces[7]))[:5]  # and five in one space: its listing grows past a first look
    for page in changed:
        site.update_page(page)
    world.atlassian.log.clear()
    run = _sync(world)
    assert (run.outcome, run.processed, run.failed) == ("synced", 10, 0)
    bodies = world.atlassian.log.body_fetches()
    assert all(bodies[str(page)] == 1 for page in changed)  # each body once, with the listing of changes
    assert world.atlassian.log.count("GET /wiki/api/v2/pages") == 0  # no second request for them
    points = world.atlassian.log.points()
    assert points <= 5 * len(changed) + 10 * len(spaces), points
    assert ids_of(world) >= {str(page) for page in changed}


def test_watermarks_are_in_atlassians_clock_not_this_machines(world: SyncWorld) -> None:
    """The fake's clock runs a month behind this machine's: a watermark from this machine's clock would miss
    every change; the Date header of the listing's first answer is Atlassian's."""
    before = datetime.fromtimestamp(world.atlassian.clock.now(), tz=UTC)
    _sync(world, "full")
    after = datetime.fromtimestamp(world.atlassian.clock.now(), tz=UTC)
    with world.services.sessions() as session:
        marks = watermarks(session, datastore_id=world.datastore_id)
    assert len(marks) == 20 * 2
    assert all(before - timedelta(seconds=1) <= mark <= after for mark in marks.values())
    assert utcnow() - max(marks.values()) > timedelta(days=1)  # far from this machine's clock
    page = sorted(world.atlassian.site.ids("page"))[0]
    world.atlassian.site.update_page(page)
    run = _sync(world)
    assert run.processed == 1 and world.atlassian.log.body_fetches()[str(page)] == 2  # the full sync, then this


def test_a_page_changed_just_before_the_watermark_is_found_by_the_overlap(world: SyncWorld) -> None:
    _sync(world, "full")
    page = sorted(world.atlassian.site.ids("page"))[0]
    with world.services.sessions() as session:
        mark = watermarks(session, datastore_id=world.datastore_id)
    item = world.atlassian.site.content[page]
    item.version += 1
    item.updated_at = (min(mark.values()) - OVERLAP / 2).timestamp()  # changed while the listing ran
    run = _sync(world)
    assert run.processed == 1 and world.atlassian.log.body_fetches()[str(page)] == 2


def test_a_page_that_failed_is_fetched_again_by_a_resync_that_lists_only_changes(
    world: SyncWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = world.atlassian.site
    page = sorted(site.ids("page"))[10]
    real = site.body
    monkeypatch.setattr(site, "body", lambda item: None if item.id == page else real(item))  # served without it
    first = _sync(world, "full")
    assert first.outcome == "partially_synced" and first.failed == 1 and str(page) not in ids_of(world)
    monkeypatch.setattr(site, "body", real)
    run = _sync(world)  # the page did not change: only the failure record brings it back
    assert (run.outcome, run.lists_everything, run.processed, run.failed) == ("synced", False, 1, 0)
    # the full sync's listing and its fetch by id served it without a body; the resync fetched it once
    assert str(page) in ids_of(world) and world.atlassian.log.body_fetches()[str(page)] == 3


def test_a_space_chosen_later_is_listed_whole_and_one_no_longer_chosen_is_pruned(world: SyncWorld) -> None:
    spaces = [str(space) for space in sorted(world.atlassian.site.spaces)]
    world.set_spaces(spaces[:10])
    first = _sync(world, "full")
    assert first.outcome == "synced"
    world.set_spaces(spaces[5:15])
    world.atlassian.log.clear()
    run = _sync(world)
    assert (run.outcome, run.lists_everything) == ("synced", False)
    assert run.processed == 5 * 52 and run.deleted == 5 * 52  # five spaces listed whole, five pruned
    site = world.atlassian.site
    expected = {str(i) for space in spaces[5:15] for kind in ("page", "blogpost") for i in site.ids(kind, int(space))}
    assert ids_of(world) == expected
    with world.services.sessions() as session:
        assert {space for space, _kind in watermarks(session, datastore_id=world.datastore_id)} == set(spaces[5:15])


def test_the_deletion_check_runs_on_its_cadence_and_on_every_full_sync(world: SyncWorld) -> None:
    site = world.atlassian.site
    pages = sorted(site.ids("page"))
    _sync(world, "full")
    site.purge_page(pages[0])
    assert _sync(world).deleted == 0 and str(pages[0]) in ids_of(world)  # checked a moment ago: not due

    _set(world, deletion_interval_minutes=6 * 60, deletions_checked_at=utcnow() - timedelta(hours=7))
    run = _sync(world)
    assert (run.lists_everything, run.deleted) == (True, 1) and str(pages[0]) not in ids_of(world)
    checked = world.datastore().deletions_checked_at
    assert checked is not None and utcnow() - checked < timedelta(minutes=1)

    site.trash_page(pages[1])
    _set(world, deletions_checked_at=utcnow() - timedelta(hours=5))
    assert _sync(world).deleted == 0 and str(pages[1]) in ids_of(world)  # five hours of six: not yet
    run = _sync(world, "full")
    assert (run.lists_everything, run.deleted) == (True, 1) and str(pages[1]) not in ids_of(world)


def test_a_space_whose_listing_of_changes_fails_keeps_its_watermark(world: SyncWorld) -> None:
    _sync(world, "full")
    space = sorted(world.atlassian.site.spaces)[0]
    with world.services.sessions() as session:
        before = watermarks(session, datastore_id=world.datastore_id)
    page = sorted(world.atlassian.site.ids("page", space))[0]
    world.atlassian.site.update_page(page)
    world.atlassian.inject(f"GET */wiki/api/v2/spaces/{space}/pages*", "500", times=50)
    run = _sync(world)
    assert (run.outcome, run.enumeration_complete, run.processed) == ("partially_synced", False, 0)
    with world.services.sessions() as session:
        after = watermarks(session, datastore_id=world.datastore_id)
    assert after[(str(space), "page")] == before[(str(space), "page")]
    assert after[(str(space), "blogpost")] > before[(str(space), "blogpost")]
    world.atlassian.clear_faults()
    assert _sync(world).processed == 1 and str(page) in ids_of(world)


def test_a_sync_that_spends_the_apps_hour_pauses_until_the_next_utc_hour(world: SyncWorld) -> None:
    """Every process's points are counted together: a sync that finds the hour spent (here by another process)
    pauses for Atlassian's hourly quota, resuming at the top of the next hour."""
    from bot.confluence.shared_budget import SharedBudget, hour_of
    from bot.sync.confluence_source import ConfluenceSources
    from bot.sync.convert import Converter
    from bot.sync.engine import SyncEngine
    from bot.sync.worker import SyncWorker
    from storage.points import claim_points
    from storage.states import PauseKind

    budget = SharedBudget(world.services.sessions, 5_000, metered=False)
    with world.services.sessions.begin() as session:  # another process spent most of this hour
        assert claim_points(session, window=hour_of(utcnow()), points=4_900, limit=5_000)
    sources = ConfluenceSources(world.services, world.tokens, budget, sleep=world.slept.append)
    engine = SyncEngine(world.services, sources, Converter(processes=0), owner="quota-test")
    run_id = world.queue(kind="full")
    SyncWorker(world.services, engine).run_until_idle()
    run = world.run(run_id)
    assert (run.state, run.pause_kind) == ("paused", PauseKind.QUOTA)
    assert run.paused_until == hour_of(utcnow()) + timedelta(hours=1) or run.paused_until == hour_of(
        utcnow()
    )  # (the hour may have turned while the test ran)
    assert run.reason is not None and run.reason.startswith("Paused for Atlassian's hourly quota — resuming at")


def test_a_deletion_check_that_cannot_list_a_space_prunes_nothing_and_waits_for_its_cadence(
    world: SyncWorld,
) -> None:
    """Tried again at every resync, a space that keeps failing would make each one list the whole site."""
    _sync(world, "full")
    site = world.atlassian.site
    space = sorted(site.spaces)[0]
    site.purge_page(sorted(site.ids("page", sorted(site.spaces)[1]))[0])
    world.deletion_check_due()
    world.atlassian.inject(f"GET */wiki/api/v2/spaces/{space}/pages*", "500", times=None)
    run = _sync(world)
    assert (run.lists_everything, run.outcome, run.deleted) == (True, "partially_synced", 0)
    checked = world.datastore().deletions_checked_at
    assert checked is not None and utcnow() - checked < timedelta(minutes=1)
    world.atlassian.log.clear()
    again = _sync(world)  # still failing: a listing of changes, not of every page
    assert (again.lists_everything, again.outcome) == (False, "partially_synced")
    assert _listings(world) <= 20 * 2 + 10  # first looks (and the failing space's retries), not every page


def test_a_full_sync_lists_with_bodies_in_one_pass_for_about_one_point_per_page(database_url: str) -> None:
    """Two spaces of 1,000 pages: 250 bodies a listing request, converted as listed, no second request per page;
    the progress total came from one CQL count (its totalSize), not from a metadata pass."""
    spec = SiteSpec(spaces=2, pages_per_space=1_000, blogposts_per_space=0, body_bytes=200)
    for world in make_world(database_url, spec):
        run = _sync(world, "full")
        assert (run.outcome, run.processed, run.failed, run.lists_bodies) == ("synced", 2_000, 0, True)
        assert world.datastore().document_count == 2_000
        log = world.atlassian.log
        assert sum(log.body_fetches().values()) == 2_000  # each body once, with its listing
        assert log.count("GET /wiki/api/v2/pages") == 0  # no fetch by id
        assert log.count("GET /wiki/api/v2/spaces/{id}/pages") == 2 * 4  # 1,000 pages at 250 a request
        assert log.count("GET /wiki/rest/api/search") == 1  # the estimate: one count for both spaces
        assert run.total_estimated is False and run.to_process == 2_000  # exact once every space was listed
        points = log.points()
        assert points <= 1.02 * 2_000, points  # before the one-pass listing: 2.0 points a page
