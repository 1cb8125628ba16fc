"""Full sync to searchable, incremental resync with 1% changed, and search latency over the result."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from bench import world
from bench.fakesite import FakeSite
from bench.stats import percentile
from bot.services import Services
from bot.sync.runtime import SyncRuntime
from storage.search import Visibility, search

COMMON_WORDS = ("deployment", "service", "release", "team", "configuration", "migration", "customer")


@dataclass
class SyncResult:
    backend: str
    pages: int
    spaces: int
    full_seconds: float
    full_requests: int
    full_points: int
    full_processed: int
    full_outcome: str
    incr_seconds: float
    incr_requests: int
    incr_points: int
    incr_changed: int
    incr_processed: int
    incr_body_fetches: int
    incr_outcome: str
    search_ms: list[float] = field(default_factory=list)
    search_hits: int = 0
    queries: int = 0

    def summary(self) -> dict[str, Any]:
        return {
            "backend": self.backend,
            "pages": self.pages,
            "spaces": self.spaces,
            "full_seconds": self.full_seconds,
            "pages_per_second": self.full_processed / self.full_seconds if self.full_seconds else 0.0,
            "requests_per_page": self.full_requests / max(1, self.full_processed),
            "points_per_page": self.full_points / max(1, self.full_processed),
            "full_outcome": self.full_outcome,
            "incremental_seconds": self.incr_seconds,
            "incremental_fraction": self.incr_seconds / self.full_seconds if self.full_seconds else 0.0,
            "incremental_changed": self.incr_changed,
            "incremental_processed": self.incr_processed,
            "incremental_body_fetches": self.incr_body_fetches,
            "incremental_requests": self.incr_requests,
            "incremental_points": self.incr_points,
            "incremental_points_per_changed_page": self.incr_points / max(1, self.incr_changed),
            "incremental_outcome": self.incr_outcome,
            "search_p50_ms": percentile(self.search_ms, 50),
            "search_p95_ms": percentile(self.search_ms, 95),
            "search_queries": self.queries,
            "search_hits": self.search_hits,
        }


def queries_for(fake: FakeSite, count: int = 12) -> list[str]:
    """A fixed list drawn from the corpus: page tags, common words, a phrase, non-ASCII words, a title."""
    hints = fake.hints(count)
    queries = [h["tag"] for h in hints]
    queries += list(COMMON_WORDS)
    queries += [h["phrase"] for h in hints[:3]]
    queries += [h["non_ascii_word"] for h in hints[:3]]
    queries += [h["title"] for h in hints[:2]]
    queries += ["Größe Überblick", "weekly update"]
    return queries


def measure_search(
    services: Services, datastore_id: int, queries: list[str], rounds: int = 5
) -> tuple[list[float], int]:
    """Latency (ms) of every query ``rounds`` times (the first round warms the caches and is dropped)."""
    samples: list[float] = []
    hits = 0
    with services.sessions() as session:
        for round_no in range(rounds + 1):
            for query in queries:
                started = time.perf_counter()
                found = search(session, datastore_id=datastore_id, query=query, visible=Visibility.everyone(), limit=5)
                elapsed = (time.perf_counter() - started) * 1000
                if round_no:
                    samples.append(elapsed)
                    hits += bool(found)
    return samples, hits // max(1, rounds)


def run_sync_pair(
    fake: FakeSite, database_url: str, backend: str, *, processes: int | None = None, search_rounds: int = 5
) -> SyncResult:
    """One full sync into a fresh datastore, then an incremental one after 1% of the content changed.

    The fake must hold the corpus at its first version; this leaves 1% of it one version newer."""
    services = world.build(database_url, fake.info)
    runtime = SyncRuntime(services, processes=processes)
    try:
        datastore_id = world.add_datastore(services, fake.info, fake.fresh_token())
        fake.clear_log()
        run_id = world.queue(services, datastore_id, "full")
        started = time.perf_counter()
        runtime.worker().run_until_idle()
        full_seconds = time.perf_counter() - started
        full = world.run_summary(services, run_id)
        full_stats = fake.stats()

        changed = fake.update_every(100)
        fake.clear_log()
        run_id = world.queue(services, datastore_id, "incremental")
        started = time.perf_counter()
        runtime.worker().run_until_idle()
        incr_seconds = time.perf_counter() - started
        incr = world.run_summary(services, run_id)
        incr_stats = fake.stats()

        queries = queries_for(fake)
        samples, hits = measure_search(services, datastore_id, queries, search_rounds)
        return SyncResult(
            backend=backend,
            pages=fake.total,
            spaces=fake.spaces,
            full_seconds=full_seconds,
            full_requests=full_stats["requests"],
            full_points=full_stats["points"],
            full_processed=int(full["processed"]),
            full_outcome=str(full["outcome"]),
            incr_seconds=incr_seconds,
            incr_requests=incr_stats["requests"],
            incr_points=incr_stats["points"],
            incr_changed=len(changed),
            incr_processed=int(incr["processed"]),
            incr_body_fetches=incr_stats["body_fetches"],
            incr_outcome=str(incr["outcome"]),
            search_ms=samples,
            search_hits=hits,
            queries=len(queries),
        )
    finally:
        runtime.close()
        services.engine.dispose()
