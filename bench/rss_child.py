"""One full sync in a process of its own, so its peak RSS can be read: ``python -m bench.rss_child JSON``.

Prints one JSON line: the sync's own ``ru_maxrss``, the largest conversion-pool child's (RUSAGE_CHILDREN,
read after the pool is shut down and its processes reaped), and the largest sum of this process and its
children sampled from /proc every 100 ms while the sync ran (RSS, the number compared with the target,
and PSS, which counts the pages the forked pool shares with its parent once).
"""

from __future__ import annotations

import json
import os
import resource
import sys
import threading
import time
from typing import Any

from bench import world
from bench.fakesite import FakeInfo
from bot.sync.runtime import SyncRuntime

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _rss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm", encoding="ascii") as statm:
            return int(statm.read().split()[1]) * PAGE_SIZE
    except (OSError, IndexError, ValueError):
        return 0


def _pss_bytes(pid: int) -> int:
    """Proportional set size: shared (copy-on-write) pages split between the processes sharing them."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as rollup:
            for line in rollup:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, IndexError, ValueError):
        pass
    return 0


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as children:
            found = [int(c) for c in children.read().split()]
    except (OSError, ValueError):
        return []
    return found + [grandchild for child in found for grandchild in _children(child)]


class TreeSampler:
    """Largest RSS and PSS sums of this process and its descendants seen while running."""

    def __init__(self, interval: float = 0.1) -> None:
        self.interval, self.peak, self.peak_pss = interval, 0, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = os.getpid()
        while not self._stop.wait(self.interval):
            tree = [me, *_children(me)]
            self.peak = max(self.peak, sum(_rss_bytes(pid) for pid in tree))
            self.peak_pss = max(self.peak_pss, sum(_pss_bytes(pid) for pid in tree))

    def __enter__(self) -> TreeSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()


def main(argv: list[str]) -> int:
    config: dict[str, Any] = json.loads(argv[0])
    info = FakeInfo(**config["fake"])
    services = world.build(config["database_url"], info, atlassian_points_per_hour=100_000_000)
    runtime = SyncRuntime(services, processes=config.get("processes"))
    datastore_id = world.add_datastore(services, info, config["token"])
    run_id = world.queue(services, datastore_id, "full")
    with TreeSampler() as sampler:
        started = time.perf_counter()
        runtime.worker().run_until_idle()
        seconds = time.perf_counter() - started
    runtime.close()
    summary = world.run_summary(services, run_id)
    services.engine.dispose()
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    result = {
        "seconds": seconds,
        "processed": summary["processed"],
        "outcome": summary["outcome"],
        "datastore_id": datastore_id,
        "main_maxrss_mb": own,
        "pool_child_maxrss_mb": children,
        "tree_peak_mb": sampler.peak / 1024 / 1024,
        "tree_peak_pss_mb": sampler.peak_pss / 1024 / 1024,
    }
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
