"""serve's worker supervisor against stand-in worker processes: each slot gets its own owner, a worker that dies
is started again after a pause that grows while it keeps dying, stop hands the runs back (SIGTERM, the pipe)
and kills a worker that will not stop."""

from __future__ import annotations

import logging
import os
import sys
import textwrap
import time
from pathlib import Path

import pytest

from bot.sync import supervisor
from bot.sync.supervisor import WorkerSupervisor
from tests.harness import wait_until

STAND_IN = textwrap.dedent(
    """
    import argparse, os, signal, sys, time
    parser = argparse.ArgumentParser()
    parser.add_argument("mode")
    parser.add_argument("out")
    parser.add_argument("--owner")
    parser.add_argument("--parent", type=int)
    parser.add_argument("--report-fd", type=int)
    args = parser.parse_args()
    def stop(_signum, _frame):
        os.write(args.report_fd, f"{os.getpid()}\\n".encode())  # the "run" it hands back: its pid
        sys.exit(0)
    if args.mode == "steady":
        signal.signal(signal.SIGTERM, stop)
    elif args.mode == "stubborn":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    with open(args.out, "a") as out:  # only once it is ready for SIGTERM
        out.write(f"{args.owner} {os.getpid()} {args.parent}\\n")
    if args.mode == "dies":
        sys.exit(3)
    if args.mode == "hands-back-alone":  # Ctrl-C reached it with serve: it hands its run back on its own
        time.sleep(0.3)
        os.write(args.report_fd, b"9\\n")
        sys.exit(0)
    while True:
        time.sleep(0.05)
    """
)


def _supervisor(tmp_path: Path, mode: str, count: int = 1) -> tuple[WorkerSupervisor, Path]:
    script, out = tmp_path / "stand_in.py", tmp_path / "started.txt"
    script.write_text(STAND_IN)
    return WorkerSupervisor(count, command=(sys.executable, str(script), mode, str(out))), out


def _started(out: Path) -> list[list[str]]:
    return [line.split() for line in out.read_text().splitlines()] if out.exists() else []


def test_each_worker_has_its_own_owner_and_stopping_hands_their_runs_back(tmp_path: Path) -> None:
    workers, out = _supervisor(tmp_path, "steady", count=2)
    workers.start()
    try:
        wait_until(lambda: len(_started(out)) == 2, timeout=20)
        owners = {beat.owner for beat in workers.beats()}
        assert owners == {line[0] for line in _started(out)} and len(owners) == 2
        assert {line[2] for line in _started(out)} == {str(os.getpid())}
        assert all(beat.loop == "worker" for beat in workers.beats())
    finally:
        handed = workers.stop(timeout=10)
    assert handed == sorted(int(line[1]) for line in _started(out))  # each worker's own run
    assert all(slot.process is None for slot in workers.slots)


def test_a_worker_that_keeps_dying_is_started_again_after_growing_pauses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(supervisor, "RESTART_DELAYS", (0.2, 0.4, 0.8))
    monkeypatch.setattr(supervisor, "WATCH_SECONDS", 0.05)
    workers, out = _supervisor(tmp_path, "dies")
    caplog.set_level(logging.INFO, logger="bot.sync.supervisor")
    started = time.monotonic()
    workers.start()
    try:
        wait_until(lambda: len(_started(out)) >= 4, timeout=20)
    finally:
        workers.stop(timeout=5)
    took = time.monotonic() - started
    assert took >= 0.2 + 0.4 + 0.8  # the pauses grew: 0.2, 0.4, then 0.8 s
    owners = [line[0] for line in _started(out)]
    assert len(set(owners)) == len(owners)  # a new owner each time: the dead one's lease is not reused
    died = [r.getMessage() for r in caplog.records if "exited with code 3" in r.getMessage()]
    assert died[:3] == [
        f"sync worker 0 (pid {pid}) exited with code 3; starting it again in {delay}"
        for (_owner, pid, _parent), delay in zip(_started(out), ("0.2 s", "0.4 s", "0.8 s"), strict=False)
    ]


def test_a_worker_that_will_not_stop_is_killed(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    workers, out = _supervisor(tmp_path, "stubborn")
    workers.start()
    wait_until(lambda: len(_started(out)) == 1, timeout=20)
    process = workers.slots[0].process
    assert process is not None
    caplog.set_level(logging.ERROR, logger="bot.sync.supervisor")
    assert workers.stop(timeout=0.5) == []
    assert process.poll() == -9
    assert "sync worker 0 did not stop within 0.5 s: killing it" in caplog.text


def test_a_run_a_worker_handed_back_on_its_own_is_still_reported(tmp_path: Path) -> None:
    """Ctrl-C reaches serve's whole process group: the worker hands its run back before serve's stop asks."""
    workers, out = _supervisor(tmp_path, "hands-back-alone")
    workers.start()
    wait_until(lambda: len(_started(out)) == 1, timeout=20)
    process = workers.slots[0].process
    assert process is not None
    process.wait(timeout=20)
    time.sleep(3 * supervisor.WATCH_SECONDS)  # the watcher saw it exit
    assert workers.stop(timeout=5) == [9]
