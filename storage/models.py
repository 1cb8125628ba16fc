"""SQLAlchemy 2.0 typed models. Schema changes go through Alembic migrations in storage/migrations."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, MetaData, String, Text, UniqueConstraint, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from storage.access_modes import AccessMode
from storage.columns import EnumColumn, UtcDateTime
from storage.states import (
    SYNCING_STATUSES,
    ConnectionStatus,
    DatastoreStatus,
    PauseKind,
    RunKind,
    RunOutcome,
    RunPhase,
    RunState,
    RunTrigger,
    WizardPurpose,
    WizardStatus,
)

__all__ = [
    "SYNCING_STATUSES",
    "Base",
    "ConfluenceSpace",
    "Connection",
    "CreditEntry",
    "Datastore",
    "DeletionNotice",
    "Heartbeat",
    "HomeViewer",
    "OAuthState",
    "SlackPost",
    "SyncRun",
    "Wizard",
    "Workspace",
    "utcnow",
]

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UtcDateTime(), dict[str, Any]: JSON()}


class Workspace(Base):
    """A Slack workspace (team): its ingestion credits and auto top-off settings."""

    __tablename__ = "workspaces"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    team_name: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    credit_balance: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    topoff_threshold: Mapped[int | None] = mapped_column(BigInteger)
    topoff_amount: Mapped[int | None] = mapped_column(BigInteger)
    topoff_monthly_cap: Mapped[int | None] = mapped_column(BigInteger)
    topoff_updated_by: Mapped[str | None] = mapped_column(String(32))
    topoff_updated_at: Mapped[datetime | None]


class Wizard(Base):
    """One run of /datastore create, keyed by an id that rides in the modal's private_metadata."""

    __tablename__ = "wizards"
    __table_args__ = (
        Index(
            "uq_wizards_open_name",
            "team_id",
            "name_key",
            unique=True,
            sqlite_where=text("status = 'open' AND name_key IS NOT NULL"),
            postgresql_where=text("status = 'open' AND name_key IS NOT NULL"),
        ),
        Index("ix_wizards_owner", "team_id", "user_id", "status"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    enterprise_id: Mapped[str | None] = mapped_column(String(32))  # the Enterprise Grid org, if any
    user_id: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[WizardStatus] = mapped_column(EnumColumn(WizardStatus, 16), default=WizardStatus.OPEN)
    purpose: Mapped[WizardPurpose] = mapped_column(
        EnumColumn(WizardPurpose, 16), default=WizardPurpose.CREATE, server_default=WizardPurpose.CREATE.value
    )
    step: Mapped[str] = mapped_column(String(32))
    name: Mapped[str | None] = mapped_column(String(64))
    name_key: Mapped[str | None] = mapped_column(String(64))
    view_id: Mapped[str | None] = mapped_column(String(64))
    view_closed: Mapped[bool] = mapped_column(default=False)
    top_off: Mapped[str | None] = mapped_column(String(16))  # configured | skipped
    site_url: Mapped[str | None] = mapped_column(String(255))
    connection_id: Mapped[int | None] = mapped_column(ForeignKey("connections.id", ondelete="SET NULL"))
    oauth_error: Mapped[str | None] = mapped_column(Text)
    offered_sites: Mapped[dict[str, Any] | None]  # {"urls": [...]} when consent covered other sites only
    share_all: Mapped[bool | None]
    spaces: Mapped[dict[str, Any] | None]  # {"items": [{"id", "key", "name"}]}
    access_mode: Mapped[str | None] = mapped_column(String(16))  # AccessMode chosen in "Grant access"; None: not yet
    datastore_id: Mapped[int | None] = mapped_column(ForeignKey("datastores.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    expires_at: Mapped[datetime]


class OAuthState(Base):
    """A single-use OAuth ``state``: only its hash is stored; bound to team, user and wizard; 15-minute life."""

    __tablename__ = "oauth_states"

    state_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    wizard_id: Mapped[str] = mapped_column(ForeignKey("wizards.id", ondelete="CASCADE"))
    team_id: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class Connection(Base):
    """A consented Atlassian site: tokens encrypted at rest, ``token_version`` guards refresh races."""

    __tablename__ = "connections"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32), index=True)
    created_by: Mapped[str] = mapped_column(String(32))
    cloud_id: Mapped[str] = mapped_column(String(64))
    site_url: Mapped[str] = mapped_column(String(255))
    site_name: Mapped[str | None] = mapped_column(String(255))
    account_id: Mapped[str | None] = mapped_column(String(128))
    account_name: Mapped[str | None] = mapped_column(String(255))
    scopes: Mapped[str] = mapped_column(Text, default="")
    access_token_enc: Mapped[str | None] = mapped_column(Text)
    refresh_token_enc: Mapped[str | None] = mapped_column(Text)
    access_expires_at: Mapped[datetime | None]
    token_version: Mapped[int] = mapped_column(default=0)
    spaces_listed_at: Mapped[datetime | None]
    status: Mapped[ConnectionStatus] = mapped_column(EnumColumn(ConnectionStatus, 24), default=ConnectionStatus.ACTIVE)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @property
    def site_host(self) -> str:
        """The site as people name it: ``acme.atlassian.net``."""
        return self.site_url.removeprefix("https://")


class ConfluenceSpace(Base):
    """A space a connection can see: feeds the wizard's type-ahead picker and names spaces in results."""

    __tablename__ = "confluence_spaces"
    __table_args__ = (Index("ix_confluence_spaces_lookup", "connection_id", "name_folded"),)

    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id", ondelete="CASCADE"), primary_key=True)
    space_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255))
    name_folded: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), default="current")


class Datastore(Base):
    """A searchable copy of a Confluence site (or some of its spaces) for one workspace."""

    __tablename__ = "datastores"
    __table_args__ = (UniqueConstraint("team_id", "name_key", name="uq_datastores_team_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(64))
    name_key: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(32), default="confluence")
    connection_id: Mapped[int | None] = mapped_column(ForeignKey("connections.id", ondelete="SET NULL"))
    share_all: Mapped[bool] = mapped_column(default=True)
    spaces: Mapped[dict[str, Any] | None]
    status: Mapped[DatastoreStatus] = mapped_column(
        EnumColumn(DatastoreStatus, 24), default=DatastoreStatus.INITIALIZING
    )
    status_detail: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(32))
    created_by_name: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    wizard_id: Mapped[str | None] = mapped_column(String(32), unique=True)
    channel_id: Mapped[str | None] = mapped_column(String(32))
    parent_ts: Mapped[str | None] = mapped_column(String(32))
    progress_ts: Mapped[str | None] = mapped_column(String(32))
    thread_url: Mapped[str | None] = mapped_column(Text)  # permalink of parent_ts, looked up once
    document_count: Mapped[int] = mapped_column(default=0)
    sync_interval_minutes: Mapped[int | None]  # None: the SYNC_INTERVAL_MINUTES default
    deletion_interval_minutes: Mapped[int | None]  # how often a resync lists every id; None: once a day
    deletions_checked_at: Mapped[datetime | None]  # Atlassian's time when the last complete id listing began
    progress_owner: Mapped[str | None] = mapped_column(String(64))  # the process updating its Slack thread
    progress_lease_until: Mapped[datetime | None]
    access_mode: Mapped[str] = mapped_column(
        String(16), default=AccessMode.EVERYONE.value, server_default=AccessMode.EVERYONE.value
    )
    access_account_name: Mapped[str | None] = mapped_column(String(255))  # the account the last change named
    access_offer: Mapped[str | None] = mapped_column(String(16))  # AccessOffer: the one DM offering "each"


class SyncRun(Base):
    """One sync of a datastore: queued → running (→ paused) → finished, with the counters the progress job
    reads. A worker owns a running run through a lease (owner + expiry, renewed by heartbeats); a run whose
    lease expired is picked up again and resumes from its checkpoints."""

    __tablename__ = "sync_runs"
    __table_args__ = (Index("ix_sync_runs_claim", "state", "lease_expires_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    datastore_id: Mapped[int] = mapped_column(ForeignKey("datastores.id", ondelete="CASCADE"), index=True)
    kind: Mapped[RunKind] = mapped_column(EnumColumn(RunKind, 16), default=RunKind.FULL)
    trigger: Mapped[RunTrigger] = mapped_column(EnumColumn(RunTrigger, 16), default=RunTrigger.CREATE)
    state: Mapped[RunState] = mapped_column(EnumColumn(RunState, 16), default=RunState.QUEUED)
    phase: Mapped[RunPhase] = mapped_column(EnumColumn(RunPhase, 24), default=RunPhase.INITIALIZING)
    outcome: Mapped[RunOutcome | None] = mapped_column(EnumColumn(RunOutcome, 24))
    reason: Mapped[str | None] = mapped_column(Text)  # why it failed or paused, in words a user understands
    pause_kind: Mapped[PauseKind | None] = mapped_column(EnumColumn(PauseKind, 24))
    paused_until: Mapped[datetime | None]
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None]
    heartbeat_at: Mapped[datetime | None]
    spaces_total: Mapped[int] = mapped_column(default=0)
    spaces_done: Mapped[int] = mapped_column(default=0)
    found: Mapped[int] = mapped_column(default=0)
    to_process: Mapped[int] = mapped_column(default=0)
    processed: Mapped[int] = mapped_column(default=0)
    unchanged: Mapped[int] = mapped_column(default=0)
    failed: Mapped[int] = mapped_column(default=0)
    deleted: Mapped[int] = mapped_column(default=0)
    credits_charged: Mapped[int] = mapped_column(BigInteger, default=0)
    enumeration_complete: Mapped[bool] = mapped_column(default=False)
    # Whether the run lists every id (a full sync, a first sync, the deletion check) or only what changed
    lists_everything: Mapped[bool] = mapped_column(default=True, server_default=text("true"))
    # A one-pass listing (full and first syncs): pages come with their bodies and are indexed as they arrive
    lists_bodies: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    total_estimated: Mapped[bool] = mapped_column(default=False, server_default=text("false"))  # to_process: a count
    listing_finished: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    progress_digest: Mapped[str | None] = mapped_column(String(64))  # what the thread shows now
    progress_updated_at: Mapped[datetime | None]
    announce_claimed_at: Mapped[datetime | None]  # a process is posting the completion reply
    announced_ts: Mapped[str | None] = mapped_column(String(32))  # the completion reply, once all is announced
    announce_steps: Mapped[str | None] = mapped_column(String(64))  # announcement steps done, comma-separated
    attempts: Mapped[int] = mapped_column(default=0, server_default=text("0"))  # unexpected failures so far
    error_id: Mapped[str | None] = mapped_column(String(16))  # the id the last unexpected failure was logged with
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    processing_started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class CreditEntry(Base):
    """The credit ledger of a workspace: grants, top-offs, charges (negative) and manual additions."""

    __tablename__ = "credit_ledger"
    __table_args__ = (Index("ix_credit_ledger_team", "team_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))  # grant | top_off | charge | manual
    amount: Mapped[int] = mapped_column(BigInteger)
    balance_after: Mapped[int] = mapped_column(BigInteger)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("sync_runs.id", ondelete="SET NULL"))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class HomeViewer(Base):
    """Someone who opened the bot's App Home: their tab is published again when a sync finishes."""

    __tablename__ = "home_viewers"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)


class DeletionNotice(Base):
    """A deleted datastore's channel message still to be marked "deleted by …" (written with the deletion,
    delivered by whichever process speaks Slack, so a deletion from the CLI or a rate limit loses nothing)."""

    __tablename__ = "deletion_notices"
    __table_args__ = (Index("ix_deletion_notices_pending", "delivered_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[str] = mapped_column(String(32))
    message_ts: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(64))
    site: Mapped[str] = mapped_column(String(255), default="")
    deleted_by: Mapped[str | None] = mapped_column(String(32))  # a Slack user id; None: an operator (CLI)
    documents: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_at: Mapped[datetime | None]  # a process is updating the message
    delivered_at: Mapped[datetime | None]


class SlackPost(Base):
    """A message the bot posts at most once (keyed by what it is, e.g. a run's completion reply): claimed before
    chat.postMessage, its ts recorded after. A claim whose call timed out or failed with a 5xx is
    ``uncertain``: Slack may have posted it, so it is looked up in Slack before it is posted again."""

    __tablename__ = "slack_posts"

    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    datastore_id: Mapped[int] = mapped_column(ForeignKey("datastores.id", ondelete="CASCADE"), index=True)
    channel_id: Mapped[str] = mapped_column(String(32))
    thread_ts: Mapped[str | None] = mapped_column(String(32))
    claimed_at: Mapped[datetime]
    uncertain: Mapped[bool] = mapped_column(default=False)
    ts: Mapped[str | None] = mapped_column(String(32))
    posted_at: Mapped[datetime | None]


class Heartbeat(Base):
    """Liveness of a long-running loop (the sync worker, the scheduler) of one process: /healthz reports a
    loop whose last beat is too old."""

    __tablename__ = "heartbeats"

    component: Mapped[str] = mapped_column(String(32), primary_key=True)  # worker | scheduler
    owner: Mapped[str] = mapped_column(String(96), primary_key=True)  # the process (and loop) beating
    beat_at: Mapped[datetime]
    detail: Mapped[str | None] = mapped_column(String(255))  # what it was doing (idle, run 12, ...)
