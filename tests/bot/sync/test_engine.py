"""The sync engine against the fake Atlassian: phases, statuses, incremental, deletions, pauses, credits."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.sync.engine import NO_PAGES
from storage.credits import add_credits
from storage.documents import DocumentFailure
from storage.models import Connection, CreditEntry, utcnow
from storage.run_checkpoints import SyncItem
from storage.search import Visibility, search
from storage.states import RunKind, RunState, RunTrigger
from tests.bot.sync.conftest import TEAM, SyncWorld, ids_of


def _expected_ids(world: SyncWorld) -> set[str]:
    site = world.atlassian.site
    visible = ("current", "archived")
    return {str(i) for kind in ("page", "blogpost") for i in site.ids(kind) if site.content[i].status in visible}


def test_full_sync_indexes_every_page_and_blog_post(sync_world: SyncWorld) -> None:
    run_id = sync_world.queue(kind="full", trigger="create")
    assert sync_world.worker().run_until_idle() == [run_id]
    run = sync_world.run(run_id)
    expected = _expected_ids(sync_world)
    assert (run.state, run.outcome, run.phase) == ("finished", "synced", "synced")
    assert run.found == run.processed == len(expected) and run.failed == 0
    assert run.spaces_total == 3 and run.enumeration_complete
    assert ids_of(sync_world) == expected
    datastore = sync_world.datastore()
    assert (datastore.status, datastore.document_count) == ("synced", len(expected))
    page_id = sorted(sync_world.atlassian.site.ids("page"))[5]
    hints = sync_world.atlassian.site.page_text_hints(page_id)
    with sync_world.services.sessions() as session:
        hits = search(session, visible=Visibility.everyone(), datastore_id=sync_world.datastore_id, query=hints.tag)
        assert hits and hits[0].title == hints.title
        assert hits[0].url.startswith("https://acme.atlassian.net/wiki/") and str(page_id) in hits[0].url
        charged = session.scalar(
            select(func.sum(CreditEntry.amount)).where(CreditEntry.team_id == TEAM, CreditEntry.kind == "charge")
        )
        assert charged == -len(expected)
        assert session.scalar(select(func.count()).select_from(SyncItem)) == 0  # work list cleaned up


def test_incremental_sync_asks_only_for_changes_and_the_deletion_check_prunes(sync_world: SyncWorld) -> None:
    world = sync_world
    world.worker().run_until_idle() if world.queue(kind="full") else None
    assert world.datastore().deletions_checked_at is not None  # the full sync listed every id
    site = world.atlassian.site
    pages = sorted(site.ids("page"))
    site.update_page(pages[0])
    added = site.add_page(next(iter(site.spaces)))
    site.trash_page(pages[1])
    site.purge_page(pages[2])
    world.atlassian.log.clear()
    run_id = world.queue(kind="incremental", trigger="schedule")
    world.worker().run_until_idle()
    run = world.run(run_id)
    assert (run.outcome, run.processed, run.deleted, run.lists_everything) == ("synced", 2, 0, False)
    bodies = world.atlassian.log.body_fetches()
    assert bodies[str(pages[0])] == bodies[str(added.id)] == 1  # with the listing of changes: no second request
    assert world.atlassian.log.count("GET /wiki/api/v2/pages") == 0  # nothing fetched by id
    # every other document is unchanged: the site's N pages, the added one, less the two processed
    assert run.unchanged == len(_expected_ids(world))
    listings = [
        r for r in world.atlassian.log.records if "/spaces/" in r.path and r.path.endswith(("pages", "blogposts"))
    ]
    assert all("sort=-modified-date" in r.query for r in listings)
    assert len(listings) <= 2 * 3 * 2  # two looks at most per space and kind: O(spaces), not O(pages)
    assert str(pages[1]) in ids_of(world) and str(pages[2]) in ids_of(world)  # the deletion check is not due

    world.deletion_check_due()
    run_id = world.queue(kind="incremental", trigger="schedule")
    world.worker().run_until_idle()
    run = world.run(run_id)
    assert (run.outcome, run.processed, run.deleted, run.lists_everything) == ("synced", 0, 2, True)
    assert ids_of(world) == _expected_ids(world)
    assert str(pages[1]) not in ids_of(world) and str(pages[2]) not in ids_of(world)


def test_a_partial_listing_never_deletes_anything(sync_world: SyncWorld) -> None:
    world = sync_world
    world.queue(kind="full")
    world.worker().run_until_idle()
    before = ids_of(world)
    space_id = sorted(world.atlassian.site.spaces)[0]
    world.atlassian.site.delete_space(space_id)  # its pages would be pruned after a complete listing …
    other = sorted(world.atlassian.site.spaces)[0]
    world.atlassian.inject(f"GET */wiki/api/v2/spaces/{other}/pages*", "500", times=50)  # … but this one fails
    run_id = world.queue()
    world.worker(metadata_threads=1).run_until_idle()
    run = world.run(run_id)
    assert run.outcome == "partially_synced" and not run.enumeration_complete
    assert "nothing was deleted" in (run.reason or "")
    assert ids_of(world) == before


def test_zero_documents_is_failed_with_a_reason(sync_world: SyncWorld) -> None:
    world = sync_world
    world.set_spaces([])
    run_id = world.queue(kind="full")
    world.worker().run_until_idle()
    run = world.run(run_id)
    assert run.outcome == "failed" and run.reason == NO_PAGES
    assert world.datastore().status == "failed"


def test_out_of_credits_pauses_then_resumes_charging_each_page_once(sync_world: SyncWorld) -> None:
    world = sync_world
    with world.services.sessions.begin() as session:
        add_credits(session, team_id=TEAM, amount=-99_950, now=utcnow(), note="leave 50")
    run_id = world.queue(kind="full")
    world.worker(batch_size=20).run_until_idle()
    run = world.run(run_id)
    assert (run.state, run.pause_kind) == ("paused", "credits")
    assert run.processed == 50 and world.datastore().status == "paused"
    # What is processed is searchable while the rest waits: search works during a sync.
    with world.services.sessions() as session:
        from storage.documents import Document

        indexed = session.scalars(select(Document.source_id).where(Document.datastore_id == world.datastore_id)).all()
        assert len(indexed) == 50
        hints = world.atlassian.site.page_text_hints(int(indexed[0]))
        hits = search(session, visible=Visibility.everyone(), datastore_id=world.datastore_id, query=hints.tag)
        assert [hit.title for hit in hits] == [hints.title]
        missing = next(i for i in world.atlassian.site.ids("page") if str(i) not in set(indexed))
        assert (
            search(
                session,
                visible=Visibility.everyone(),
                datastore_id=world.datastore_id,
                query=world.atlassian.site.page_text_hints(missing).tag,
            )
            == []
        )
    assert "Out of ingestion credits" in (world.datastore().status_detail or "")
    with world.services.sessions.begin() as session:
        add_credits(session, team_id=TEAM, amount=1000, now=utcnow())
        paused = session.get(type(run), run_id)
        assert paused is not None
        paused.state = RunState.QUEUED  # what `credits add` does for paused runs
    world.worker(batch_size=20).run_until_idle()
    run = world.run(run_id)
    expected = _expected_ids(world)
    assert run.outcome == "synced" and run.processed == len(expected)
    with world.services.sessions() as session:
        charged = session.scalar(select(func.sum(CreditEntry.amount)).where(CreditEntry.kind == "charge"))
        assert charged == -len(expected)


def test_invalid_grant_pauses_for_reconnect(sync_world: SyncWorld) -> None:
    world = sync_world
    world.atlassian.advance(7200)  # the access token expired …
    with world.services.sessions() as session:
        connection = session.scalars(select(Connection)).one()
        refresh = world.services.cipher.decrypt(connection.refresh_token_enc or "")
    family = world.atlassian.oauth.family_of(refresh)
    assert family is not None
    world.atlassian.oauth.revoke_family(family)  # … and the refresh token was revoked
    run_id = world.queue(kind="full")
    world.worker().run_until_idle()
    run = world.run(run_id)
    assert (run.state, run.pause_kind) == ("paused", "reconnect")
    with world.services.sessions() as session:
        assert session.scalars(select(Connection)).one().status == "needs_reconnect"


def test_one_failing_page_fails_only_that_page(sync_world: SyncWorld) -> None:
    world = sync_world
    broken = sorted(world.atlassian.site.ids("page"))[3]
    world.break_page(broken)
    run_id = world.queue(kind="full")
    world.worker(batch_size=50).run_until_idle()
    run = world.run(run_id)
    assert run.outcome == "partially_synced" and run.failed == 1
    assert run.processed == len(_expected_ids(world)) - 1
    with world.services.sessions() as session:
        failure = session.scalars(select(DocumentFailure)).one()
        assert failure.source_id == str(broken) and failure.reason


def test_a_long_rate_limit_pauses_until_the_reset(sync_world: SyncWorld) -> None:
    world = sync_world
    world.atlassian.inject("GET /wiki/api/v2/spaces", "429", retry_after=1800, times=1)
    run_id = world.queue(kind="full")
    world.worker().run_until_idle()
    run = world.run(run_id)
    assert (run.state, run.pause_kind) == ("paused", "rate_limit") and run.paused_until is not None
    assert "resuming at" in (run.reason or "")


def test_two_workers_never_hold_the_same_run(sync_world: SyncWorld) -> None:
    world = sync_world
    run_id = world.queue(kind="full")
    first, second = world.worker("worker-a"), world.worker("worker-b")
    assert first.claim() == run_id
    assert second.claim() is None


def test_two_workers_running_together_share_runs_without_overlap(sync_world: SyncWorld) -> None:
    import threading

    from storage.models import Datastore, SyncRun

    world = sync_world
    with world.services.sessions.begin() as session:
        original = session.get(Datastore, world.datastore_id)
        assert original is not None
        for index in range(3):
            session.add(
                Datastore(
                    team_id=TEAM,
                    name=f"copy-{index}",
                    name_key=f"copy-{index}",
                    share_all=True,
                    created_by="U1",
                    connection_id=original.connection_id,
                )
            )
    with world.services.sessions.begin() as session:
        from storage.sync_runs import queue_run

        for datastore in session.scalars(select(Datastore)):
            queue_run(session, datastore_id=datastore.id, kind=RunKind.FULL, trigger=RunTrigger.CREATE)
    workers = [world.worker(f"worker-{i}", batch_size=20) for i in range(2)]
    done: list[list[int]] = [[], []]
    threads = [threading.Thread(target=lambda i=i: done[i].extend(workers[i].run_until_idle())) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(done[0] + done[1]) == sorted(set(done[0] + done[1]))  # no run driven twice
    expected = len(_expected_ids(world))
    with world.services.sessions() as session:
        runs = list(session.scalars(select(SyncRun)))
        assert len(runs) == 4 and all(run.outcome == "synced" and run.processed == expected for run in runs)
        for run in runs:
            charged = session.scalar(select(func.sum(CreditEntry.amount)).where(CreditEntry.run_id == run.id))
            assert charged == -expected
