"""Issue #11, class 11, end to end through `datastore-bot serve`: the unexpected never ends the sync worker.

A conversion process SIGKILLed mid-sync breaks the pool (BrokenProcessPool): the attempt is logged with an error
id, the pool is started again and the run, retried, ends synced with one ✅. A run that meets a real database
error on every attempt ends Failed after three, with the error id in its thread — and the worker goes on: the
next sync works and /healthz stays healthy.
"""

from __future__ import annotations

import os
import re
import signal
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from bot.sync.worker import MAX_ATTEMPTS
from demo.fakes.slack_api import FakeSlack
from tests.bot.served_sync import DONE, ServedSync, served_sync, settle
from tests.harness import wait_until

# Heavy end to end: of this module's PostgreSQL cases every other one runs (SQLite runs them all).
pytestmark = pytest.mark.postgresql_sample(every=2, per="module")


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _parent(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])


def _conversion_processes(sync: ServedSync) -> list[int]:
    """The pool's workers: forks of serve's sync worker process (same command line as it, its children), not
    helpers such as a resource tracker."""
    serve_pid = sync.served.process.pid
    members = sync.served.living_group_members()
    workers = [pid for pid in members if _parent(pid) == serve_pid and b"\0worker\0" in _cmdline(pid)]
    return [
        pid
        for pid in members
        for worker in workers
        if pid != worker and _parent(pid) == worker and _cmdline(pid) == _cmdline(worker)
    ]


def _healthy(sync: ServedSync) -> None:
    response = sync.healthz()
    assert response.status_code == 200 and response.json() == {"status": "ok", "database": "ok"}


@pytest.mark.timeout(300)  # two syncs of 2,000 pages in a real `serve` and a pool restart, on a busy CI machine
def test_a_killed_conversion_process_is_retried_and_the_run_ends_synced(
    fake_slack: FakeSlack, database_url: str, tmp_path: Path
) -> None:
    with served_sync(fake_slack, database_url, tmp_path, pages=2_000) as sync:
        wait_until(lambda: sync.wait_processing() is not None and bool(_conversion_processes(sync)), timeout=60)
        before = sync.run()
        assert before.processed < sync.pages // 2, "too late to kill: the pool might not be used again"
        victim = _conversion_processes(sync)[0]
        os.kill(victim, signal.SIGKILL)
        run = sync.wait_finished(timeout=120)
        settle()

        assert run.attempts == 1 and run.error_id is not None, "the killed process never broke a run's attempt"
        log = sync.served.output()
        assert f"error id {run.error_id}" in log and "BrokenProcessPool" in log
        assert "conversion pool was started again" in log
        assert run.outcome == "synced" and run.processed == sync.pages
        assert sync.datastore().document_count == sync.pages
        completions = fake_slack.all_messages(text_prefix=DONE)
        assert len(completions) == 1 and sync.run().announced_ts == completions[0].ts
        channel, parent, progress = sync.thread()
        assert [m.ts for m in fake_slack.thread_replies(channel, parent)] == [progress, completions[0].ts]
        assert f"*Synced ✅* — {sync.pages:,} processed" in fake_slack.message(channel, progress).text
        assert victim not in sync.served.living_group_members()
        assert _conversion_processes(sync), "the conversion pool was not started again"
        _healthy(sync)


def _worker_processes(sync: ServedSync) -> list[int]:
    serve_pid = sync.served.process.pid
    members = sync.served.living_group_members()
    return [pid for pid in members if _parent(pid) == serve_pid and b"\0worker\0" in _cmdline(pid)]


@pytest.mark.timeout(300)
def test_a_killed_worker_process_is_started_again_and_resumes_the_run_once(
    fake_slack: FakeSlack, database_url: str, tmp_path: Path
) -> None:
    """The OOM killer takes the sync worker mid-run: serve starts another, which resumes the run from its
    checkpoints once the dead one's lease is out; every page is indexed and charged once, one ✅."""
    with served_sync(fake_slack, database_url, tmp_path, pages=2_000) as sync:
        sync.wait_processing()
        wait_until(lambda: sync.run().processed > 0, timeout=60)
        [victim] = _worker_processes(sync)
        os.kill(victim, signal.SIGKILL)
        wait_until(lambda: bool(_worker_processes(sync)) and _worker_processes(sync) != [victim], timeout=30)
        run = sync.wait_finished(timeout=120)
        settle()

        log = sync.served.output()
        assert f"sync worker 0 (pid {victim}) was killed by SIGKILL; starting it again in 1 s" in log
        owners = re.findall(r"sync run \d+: started by (\S+)", log)
        assert len(owners) == 2 and owners[0] != owners[1], owners  # the dead worker's run, taken by the new one
        assert run.outcome == "synced" and run.processed == sync.pages
        assert sync.datastore().document_count == sync.pages
        assert sync.charged(run.id) == sync.pages  # each page once, also the ones the dead worker had stored
        completions = fake_slack.all_messages(text_prefix=DONE)
        assert len(completions) == 1 and sync.run().announced_ts == completions[0].ts
        _healthy(sync)


FAULT = "injected database fault"


def _break_document_writes(engine: Engine) -> None:
    """A real database error on every attempt: inserting a document fails (a trigger), nothing else does."""
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(
                text(
                    "CREATE FUNCTION refuse_documents() RETURNS trigger LANGUAGE plpgsql AS "
                    f"$$ BEGIN RAISE EXCEPTION '{FAULT}'; END $$"
                )
            )
            connection.execute(
                text(
                    "CREATE TRIGGER refuse_documents BEFORE INSERT ON documents "
                    "FOR EACH ROW EXECUTE FUNCTION refuse_documents()"
                )
            )
        else:
            connection.execute(
                text(
                    "CREATE TRIGGER refuse_documents BEFORE INSERT ON documents "
                    f"BEGIN SELECT RAISE(ABORT, '{FAULT}'); END"
                )
            )


def _mend_document_writes(engine: Engine) -> None:
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("DROP TRIGGER refuse_documents ON documents"))
        else:
            connection.execute(text("DROP TRIGGER refuse_documents"))


def test_a_run_failing_three_times_ends_failed_with_its_error_id_and_the_worker_goes_on(
    fake_slack: FakeSlack, database_url: str, tmp_path: Path
) -> None:
    with served_sync(
        fake_slack, database_url, tmp_path, pages=400, page_latency=0.5, on_started=_break_document_writes
    ) as sync:
        failed = sync.wait_finished(timeout=120)
        assert failed.outcome == "failed" and failed.attempts == MAX_ATTEMPTS
        assert failed.error_id is not None and failed.error_id in str(failed.reason)
        log = sync.served.output()
        assert len(re.findall(r"sync worker \S+: run \d+ failed, error id [0-9a-f]{8}", log)) == MAX_ATTEMPTS
        assert f"error id {failed.error_id}" in log and log.count(FAULT) >= MAX_ATTEMPTS  # with the traceback
        channel, parent, progress = sync.thread()
        replies = fake_slack.thread_replies(channel, parent)
        assert replies[-1].text.startswith("❌ Sync of *eng-wiki* failed: an unexpected error stopped it 3 times")
        assert f"error id {failed.error_id}" in replies[-1].text
        assert "Failed ❌" in fake_slack.message(channel, progress).text
        _healthy(sync)

        # The worker is alive: once the database takes documents again, the next sync works.
        _mend_document_writes(sync.engine)
        response = sync.sender.slash_command("sync eng-wiki")
        assert response.status == 200
        wait_until(lambda: len(sync.runs()) == 2, timeout=15)
        second = sync.wait_finished(timeout=120)
        settle()
        assert second.id != failed.id and second.outcome == "synced" and second.attempts == 0
        assert sync.datastore().document_count == sync.pages
        texts = [m.text[:1] for m in fake_slack.thread_replies(channel, parent)]
        assert texts.count("✅") == 1 and texts.count("❌") == 1
        _healthy(sync)
