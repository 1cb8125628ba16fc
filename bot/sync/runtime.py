"""Everything a process needs to run syncs, built once from the services: tokens, the app-wide request
budget, the conversion pool, engines and workers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from bot.atlassian.oauth import AtlassianOAuth
from bot.atlassian.tokens import TokenManager
from bot.confluence.client import RequestBudget
from bot.liveness import Heartbeat, Loop
from bot.services import Services
from bot.sync.confluence_source import ConfluenceSources
from bot.sync.convert import Converter
from bot.sync.engine import EngineOptions, SyncEngine
from bot.sync.worker import SyncWorker, worker_id

__all__ = ["SyncRuntime"]


@dataclass
class SyncRuntime:
    services: Services
    processes: int | None = None  # conversion processes (None: one per core; 0: convert inline)
    converter: Converter = field(init=False)
    sources: ConfluenceSources = field(init=False)

    def __post_init__(self) -> None:
        settings = self.services.settings
        tokens = TokenManager(self.services, AtlassianOAuth(settings))
        self.sources = ConfluenceSources(self.services, tokens, RequestBudget(settings.atlassian_points_per_hour))
        self.converter = Converter(self.processes)

    def engine(self, owner: str | None = None) -> SyncEngine:
        settings = self.services.settings
        options = EngineOptions(
            cost_per_page=settings.credits_per_page, lease=timedelta(seconds=settings.sync_lease_seconds)
        )
        return SyncEngine(self.services, self.sources, self.converter, owner=owner or worker_id(), options=options)

    def worker(self, *, poll_seconds: float = 1.0) -> SyncWorker:
        """A worker whose loop beats the ``worker`` heartbeat of this process (owner: its lease owner)."""
        engine = self.engine()
        heartbeat = Heartbeat(self.services, Loop.WORKER, engine.owner)
        return SyncWorker(self.services, engine, poll_seconds=poll_seconds, heartbeat=heartbeat)

    def close(self) -> None:
        self.converter.close()
