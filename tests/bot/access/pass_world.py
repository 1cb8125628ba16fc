"""A synced per-person datastore over the fake Atlassian (real sockets) and a permission pass runner for it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select, update

from bot.access.filter import stored_acls
from bot.access.model import AccessMode, Acl, person_principals
from bot.access.passes import PassReport, PermissionPasses
from bot.confluence.budget import PermissionLane, RequestBudget
from demo.fakes.atlassian import FakeAtlassian, SiteSpec
from storage.documents import Document
from storage.models import Datastore, utcnow
from storage.permission_passes import PermissionPass
from tests.bot.sync.conftest import SyncWorld, make_world

__all__ = ["PassWorld", "pass_world"]

SPEC = SiteSpec(spaces=2, pages_per_space=40, blogposts_per_space=2, body_bytes=300)


@dataclass
class PassWorld:
    """The world's clock (``now``) is the pass runner's, its lane's and what its waits advance."""

    sync: SyncWorld
    lane_points: int = 10_000_000
    now: datetime = field(default_factory=utcnow)
    slept: list[float] = field(default_factory=list)
    lane: PermissionLane = field(init=False)

    def __post_init__(self) -> None:
        self.lane = PermissionLane(RequestBudget(10_000_000, clock=self.clock), self.lane_points, clock=self.clock)

    @property
    def fake(self) -> FakeAtlassian:
        return self.sync.atlassian

    @property
    def datastore_id(self) -> int:
        return self.sync.datastore_id

    def clock(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.advance(timedelta(seconds=seconds))

    def runner(self, owner: str = "passes-test") -> PermissionPasses:
        return PermissionPasses(
            self.sync.services, self.sync.tokens, self.lane, owner=owner, sleep=self.sleep, clock=self.clock
        )

    def run(self, owner: str = "passes-test") -> list[PassReport]:
        return self.runner(owner).run_due()

    def sync_now(self, kind: str = "incremental") -> None:
        self.sync.queue(kind)
        self.sync.worker().run_until_idle()

    def page_ids(self, space: int = 0) -> list[int]:
        space_id = sorted(self.fake.site.spaces)[space]
        return self.fake.site.ids("page", space_id)

    def space_id(self, space: int = 0) -> int:
        return sorted(self.fake.site.spaces)[space]

    def account(self, index: int) -> str:
        return self.fake.site.users[index].account_id

    def acls(self) -> dict[str, Acl | None]:
        """Each document's stored ACL (None: unknown)."""
        with self.sync.services.sessions() as session:
            stored = stored_acls(session, datastore_id=self.datastore_id)
            rows = session.execute(
                select(Document.source_id, Document.acl_id).where(Document.datastore_id == self.datastore_id)
            )
            return {source: (stored[acl_id] if acl_id is not None else None) for source, acl_id in rows}

    def acl_count(self) -> int:
        with self.sync.services.sessions() as session:
            return len(stored_acls(session, datastore_id=self.datastore_id))

    def sees(self, index: int, content_id: int, *, classes: tuple[str, ...] = ()) -> bool:
        """Whether the fake's user ``index`` (with their groups) satisfies the document's stored ACL."""
        account = self.account(index)
        principals = person_principals(account, self.fake.site.people.groups_of(account), classes)
        acl = self.acls()[str(content_id)]
        return acl is not None and acl.allows(principals)

    def pass_row(self) -> PermissionPass:
        with self.sync.services.sessions() as session:
            row = session.get(PermissionPass, self.datastore_id)
            assert row is not None
            session.expunge(row)
            return row

    def make_due(self) -> None:
        with self.sync.services.sessions.begin() as session:
            session.execute(
                update(PermissionPass)
                .where(PermissionPass.datastore_id == self.datastore_id)
                .values(next_due_at=self.now)
            )


def pass_world(database_url: str, spec: SiteSpec = SPEC, *, lane_points: int = 10_000_000) -> Iterator[PassWorld]:
    for sync in make_world(database_url, spec):
        sync.queue("full")
        sync.worker().run_until_idle()
        with sync.services.sessions.begin() as session:
            datastore = session.get(Datastore, sync.datastore_id)
            assert datastore is not None
            datastore.access_mode = AccessMode.EACH.value
        yield PassWorld(sync, lane_points)
