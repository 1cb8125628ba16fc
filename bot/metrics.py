"""Prometheus metrics: module-level counters the few central points bump, and ``/metrics`` on its own port.

Where each is counted: sync runs, pages and page failures at the sync engine's end of a run and of a batch
(bot/sync/engine.py); Slack Web API calls in the bot's WebClient (bot/app.py), handler latency around each Slack
request (bot/app.py); Atlassian calls and 429s in the Confluence gateway (bot/confluence/gateway.py); points in
the app-wide RequestBudget (bot/confluence/budget.py). Runs queued, running and paused are read from the database
at each scrape, so they are the same whichever process is asked.

``serve`` listens on METRICS_HOST:METRICS_PORT (127.0.0.1:9464 by default; METRICS_PORT=0 turns it off). Its sync
workers are processes of their own (bot/sync/supervisor.py): serve starts them with PROMETHEUS_MULTIPROC_DIR set
to a folder of its own, where prometheus_client keeps their counters, and its /metrics adds them to its own
(a worker that died or was restarted still counts). A `datastore-bot worker` on its own serves its own /metrics.
"""

from __future__ import annotations

import errno
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from prometheus_client.samples import Sample
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from bot.errors import ConfigurationError
from storage.sync_runs import count_unfinished_runs

if TYPE_CHECKING:
    from bot.confluence.budget import PointsBudget
    from bot.settings import Settings

__all__ = [
    "ATLASSIAN_CALLS",
    "ATLASSIAN_POINTS",
    "ATLASSIAN_RATE_LIMITED",
    "HANDLER_SECONDS",
    "PAGES_PROCESSED",
    "PAGE_FAILURES",
    "SLACK_CALLS",
    "SYNC_RUNS",
    "MetricsServer",
    "atlassian_call",
    "http_outcome",
    "slack_call",
    "slack_method_label",
    "start_metrics_server",
]

SYNC_RUNS = Counter("datastore_bot_sync_runs", "Sync runs that ended or paused, by outcome.", ["outcome"])
PAGES_PROCESSED = Counter("datastore_bot_pages_processed", "Pages and blog posts a sync indexed.")
PAGE_FAILURES = Counter("datastore_bot_page_failures", "Pages and blog posts a sync could not index.")
SLACK_CALLS = Counter(
    "datastore_bot_slack_api_calls", "Slack Web API calls, by method and outcome.", ["method", "outcome"]
)
ATLASSIAN_CALLS = Counter(
    "datastore_bot_atlassian_calls",
    "Requests to Atlassian, by endpoint (confluence: the API gateway; token: token refreshes) and outcome.",
    ["endpoint", "outcome"],
)
ATLASSIAN_RATE_LIMITED = Counter("datastore_bot_atlassian_rate_limited", "Confluence answers 429 (rate limited).")
ATLASSIAN_POINTS = Counter(
    "datastore_bot_atlassian_points_spent", "Atlassian request points drawn from the app-wide budget."
)
HANDLER_SECONDS = Histogram(
    "datastore_bot_slack_handler_seconds",
    "Time from a Slack request's arrival to the bot's answer, by kind.",
    ["kind"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0),
)

_METHOD = re.compile(r"[a-z]+(?:\.[A-Za-z]+){1,3}")


def slack_method_label(method: str) -> str:
    """A Web API method as a label value; anything that does not look like one is ``other`` (bounded labels)."""
    return method if len(method) <= 64 and _METHOD.fullmatch(method) else "other"


def slack_call(method: str, outcome: str) -> None:
    SLACK_CALLS.labels(method=slack_method_label(method), outcome=outcome).inc()


def atlassian_call(endpoint: str, outcome: str) -> None:
    """One request to Atlassian (``outcome``: ok, refused, rate_limited, server_error or unreachable)."""
    ATLASSIAN_CALLS.labels(endpoint=endpoint, outcome=outcome).inc()
    if outcome == "rate_limited":
        ATLASSIAN_RATE_LIMITED.inc()


def http_outcome(status: int | None) -> str:
    """The outcome label of an HTTP answer (None: no answer at all)."""
    if status is None:
        return "unreachable"
    if status == 429:
        return "rate_limited"
    return "ok" if status < 400 else "server_error" if status >= 500 else "refused"


class _RunsCollector(Collector):
    """Runs queued, running and paused, read from the database at each scrape (empty if it cannot be read)."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "datastore_bot_sync_runs_unfinished", "Sync runs not finished, by state.", labels=["state"]
        )
        try:
            with self._sessions() as session:
                counts = count_unfinished_runs(session)
        except SQLAlchemyError:
            return
        for state, count in sorted(counts.items()):
            family.add_metric([state], count)
        yield family


class _PointsCollector(Collector):
    def __init__(self, budget: PointsBudget) -> None:
        self._budget = budget

    def collect(self) -> Iterator[GaugeMetricFamily]:
        yield GaugeMetricFamily(
            "datastore_bot_atlassian_points_available",
            "Atlassian request points left in the app-wide budget this hour.",
            value=self._budget.available,
        )


class _WithWorkers(Collector):
    """This process's metrics plus its worker processes' counters (kept in ``folder``), summed sample by sample."""

    def __init__(self, folder: Path) -> None:
        self._workers = MultiProcessCollector(None, path=str(folder))  # type: ignore[no-untyped-call]

    def collect(self) -> Iterator[Metric]:
        families = {family.name: family for family in REGISTRY.collect()}
        for theirs in self._workers.collect():  # type: ignore[no-untyped-call]
            ours = families.get(theirs.name)
            if ours is None:
                families[theirs.name] = theirs
                continue
            samples: dict[tuple[str, tuple[tuple[str, str], ...]], Sample] = {
                (sample.name, tuple(sorted(sample.labels.items()))): sample for sample in ours.samples
            }
            for sample in theirs.samples:
                key = (sample.name, tuple(sorted(sample.labels.items())))
                mine = samples.get(key)
                samples[key] = sample if mine is None else mine._replace(value=mine.value + sample.value)
            ours.samples = list(samples.values())
        yield from families.values()


@dataclass
class MetricsServer:
    """The /metrics listener of one ``serve``; ``close`` stops it and takes its gauges off the registry."""

    server: Any
    thread: threading.Thread
    collectors: list[Collector]

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        for collector in self.collectors:
            REGISTRY.unregister(collector)


def metrics_listen_error(host: str, port: int, exc: OSError) -> ConfigurationError:
    """The one-line error of a /metrics listener that cannot start (the port taken, the host not ours)."""
    if exc.errno == errno.EADDRINUSE:
        return ConfigurationError(
            "METRICS_PORT",
            f"METRICS_PORT {port} is already in use on {host} — stop what listens there, or set METRICS_PORT "
            "to a free port (0 turns /metrics off).",
        )
    return ConfigurationError(
        "METRICS_HOST", f"/metrics cannot listen on {host}:{port} ({exc.strerror or exc}) — check METRICS_HOST."
    )


def start_metrics_server(
    settings: Settings,
    sessions: sessionmaker[Session],
    budget: PointsBudget,
    *,
    port: int | None = None,
    workers: Path | None = None,
) -> MetricsServer | None:
    """Serve /metrics on METRICS_HOST:METRICS_PORT (``port`` overrides it), with the counters of the worker
    processes that keep theirs in ``workers``; None when METRICS_PORT is 0. ConfigurationError (one line,
    exit 2) when the port is taken or the host cannot be listened on."""
    chosen = settings.metrics_port if port is None else port
    if chosen == 0:
        return None
    host = settings.metrics_host
    registry = REGISTRY
    if workers is not None:
        registry = CollectorRegistry()
        registry.register(_WithWorkers(workers))
    try:
        server, thread = start_http_server(chosen, addr=host, registry=registry)
    except OSError as exc:
        raise metrics_listen_error(host, chosen, exc) from None
    collectors: list[Collector] = [_RunsCollector(sessions), _PointsCollector(budget)]
    for collector in collectors:
        REGISTRY.register(collector)
    return MetricsServer(server, thread, collectors)
