"""A real `datastore-bot serve` in its own process, healthy before it is handed out and always killed afterwards.

The demo runs the bot this way, and the end-to-end tests too (tests/served.py): ``python -m bot.cli serve`` —
what the ``datastore-bot serve`` script runs — in a new process group, so killing the group also ends its
conversion workers. Its output goes to a log file, so a full pipe never blocks it.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

__all__ = ["ServeError", "Served", "free_port", "serve"]

#: Ports handed out for servers that must know their port before they start. Below the kernel's ephemeral
#: range (32768–60999 on Linux), so no client connection or port-0 server can take one between the pick and
#: the bind, which a port-0 probe could not promise (seen as "Address already in use" under load).
PICKED_PORTS = range(20000, 32000)


class ServeError(Exception):
    """`serve` did not come up (it exited, or never answered /healthz in time)."""


def _our_ports() -> range:
    """The picked ports of this process: a slice of PICKED_PORTS of its own when it is one of several pytest-xdist
    workers. A port is free between its pick and the bind of the ``serve`` it is for (a second or two of
    imports), so two workers picking from the same range met there (seen in CI: one test drove another's serve)."""
    worker, count = os.environ.get("PYTEST_XDIST_WORKER", ""), os.environ.get("PYTEST_XDIST_WORKER_COUNT", "")
    if not (worker.startswith("gw") and worker[2:].isdigit() and count.isdigit() and int(count) > 0):
        return PICKED_PORTS
    size = len(PICKED_PORTS) // int(count)
    start = PICKED_PORTS.start + (int(worker[2:]) % int(count)) * size
    return range(start, start + size)


def free_port() -> int:
    """A port that is free now and outside the ephemeral range; random so parallel runs rarely meet."""
    ports = _our_ports()
    for _attempt in range(200):
        port = random.choice(ports)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise ServeError("no free port between 20000 and 32000")


@dataclass
class Served:
    """One `serve` process and the file its stdout and stderr go to."""

    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def crash(self) -> None:
        """SIGKILL `serve` itself, as `kill -9` or the OOM killer would: its conversion workers must then exit."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def kill(self) -> None:
        """SIGKILL whatever is left of the process and its conversion workers (its own process group)."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=10)

    def living_group_members(self) -> list[int]:
        """Processes of its group (itself and its conversion workers; zombies aside), from /proc."""
        members = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                state, _ppid, group = stat.read_text().rpartition(")")[2].split()[:3]
            except (OSError, ValueError):
                continue  # the process went away while we looked
            if int(group) == self.process.pid and state != "Z":
                members.append(int(stat.parent.name))
        return members


def _wait_healthy(served: Served, port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        code = served.process.poll()
        if code is not None:
            said = [line.strip() for line in served.output().splitlines() if line.strip()]
            last = f": {said[-1][:300]}" if said else ""
            raise ServeError(f"serve exited with code {code} before it answered /healthz{last}")
        if time.monotonic() > deadline:
            raise ServeError(f"serve did not answer /healthz within {timeout:.0f} s")
        time.sleep(0.1)


@contextmanager
def serve(env: dict[str, str], port: int, log: Path, *, timeout: float = 30) -> Iterator[Served]:
    """`python -m bot.cli serve` on 127.0.0.1:``port`` with exactly ``env``, run in the folder of ``log``;
    yielded once /healthz answers 200 (ServeError if it exits or ``timeout`` passes first), always killed."""
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=log.parent,
            stdout=sink,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    served = Served(process, log)
    try:
        _wait_healthy(served, port, timeout)
        yield served
    finally:
        served.kill()
