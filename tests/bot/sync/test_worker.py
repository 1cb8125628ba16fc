from __future__ import annotations

from tests.bot.sync.conftest import SyncWorld
from tests.harness import wait_until


def test_a_background_worker_picks_up_queued_runs(sync_world: SyncWorld) -> None:
    worker = sync_world.worker()
    worker.poll_seconds = 0.05
    worker.start()
    try:
        run_id = sync_world.queue(kind="full", trigger="create")
        wait_until(lambda: sync_world.run(run_id).state == "finished", timeout=30)
        assert sync_world.run(run_id).outcome == "synced"
        second = sync_world.queue(kind="incremental")
        wait_until(lambda: sync_world.run(second).state == "finished", timeout=30)
        assert sync_world.run(second).processed == 0 and sync_world.run(second).unchanged > 0
    finally:
        worker.stop()
