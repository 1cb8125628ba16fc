"""Everything a process needs to run syncs and permission passes, built once from the services: tokens, the
app-wide request budget and its one permission lane, the conversion pool, engines and workers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from bot.access.passes import PermissionPasses
from bot.atlassian.oauth import AtlassianOAuth
from bot.atlassian.tokens import TokenManager
from bot.confluence.budget import PermissionLane
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
    lane: PermissionLane = field(init=False)
    """The process's one lane of the app-wide budget for permission work (a fifth of its points)."""

    def __post_init__(self) -> None:
        settings = self.services.settings
        self.tokens = TokenManager(self.services, AtlassianOAuth(settings))
        self.lane = self.services.permission_lane  # the process's one lane, shared with search and group reads
        self.sources = ConfluenceSources(self.services, self.tokens, self.services.budget)
        self.converter = Converter(self.processes)

    def passes(self) -> PermissionPasses:
        """The permission passes of this process, drawing from its lane."""
        return PermissionPasses(self.services, self.tokens, self.lane)

    def engine(self, owner: str | None = None) -> SyncEngine:
        settings = self.services.settings
        options = EngineOptions(
            cost_per_page=settings.credits_per_page, lease=timedelta(seconds=settings.sync_lease_seconds)
        )
        return SyncEngine(self.services, self.sources, self.converter, owner=owner or worker_id(), options=options)

    def worker(self, *, owner: str | None = None, poll_seconds: float = 1.0) -> SyncWorker:
        """A worker whose loop beats the ``worker`` heartbeat of this process (owner: its lease owner, by default
        a new one)."""
        engine = self.engine(owner)
        heartbeat = Heartbeat(self.services, Loop.WORKER, engine.owner)
        return SyncWorker(self.services, engine, poll_seconds=poll_seconds, heartbeat=heartbeat)

    def close(self) -> None:
        self.converter.close()
