"""Every state and status the bot stores, as ``StrEnum``s (no imports: bot, handlers and the migrations share
them). The stored values are the enum values, in plain ``VARCHAR`` columns (``storage.columns.EnumColumn``), so
no migration was needed when they became enums; a value read back comes out as its enum member.

    SyncRun.state        RunState        queued → running (→ paused) → finished
    SyncRun.phase        RunPhase        initializing → syncing_metadata → processing → the outcome
    SyncRun.outcome      RunOutcome      synced | partially_synced | failed
    SyncRun.pause_kind   PauseKind       credits | rate_limit | reconnect
    SyncRun.trigger      RunTrigger      create | manual | schedule | retry
    SyncRun.kind         RunKind         full | incremental
    SyncItem.state       ItemState       pending → done | unchanged | failed | gone
    Datastore.status     DatastoreStatus the latest run's phase, or paused
    Wizard.status        WizardStatus    open → completed | abandoned
    Wizard.purpose       WizardPurpose   create | reconnect
    Connection.status    ConnectionStatus active | needs_reconnect | revoked
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "LISTING_PHASES",
    "SYNCING_STATUSES",
    "UNFINISHED_STATES",
    "ConnectionStatus",
    "DatastoreStatus",
    "ItemState",
    "PauseKind",
    "RunKind",
    "RunOutcome",
    "RunPhase",
    "RunState",
    "RunTrigger",
    "WizardPurpose",
    "WizardStatus",
]


class RunState(StrEnum):
    """Where a sync run is in its life."""

    QUEUED = "queued"
    RUNNING = "running"
    PAUSED = "paused"
    FINISHED = "finished"


class RunOutcome(StrEnum):
    """How a finished run ended."""

    SYNCED = "synced"
    PARTIALLY_SYNCED = "partially_synced"  # some pages failed, or a listing stopped early
    FAILED = "failed"


class RunPhase(StrEnum):
    """What a run is doing; a finished run's phase is its outcome."""

    INITIALIZING = "initializing"
    SYNCING_METADATA = "syncing_metadata"  # listing the spaces' pages and blog posts
    PROCESSING = "processing"  # fetching, converting and indexing what changed
    SYNCED = RunOutcome.SYNCED.value
    PARTIALLY_SYNCED = RunOutcome.PARTIALLY_SYNCED.value
    FAILED = RunOutcome.FAILED.value


class PauseKind(StrEnum):
    """Why a run is paused (what resumes it)."""

    CREDITS = "credits"  # the workspace ran out of credits: credits added resume it
    RATE_LIMIT = "rate_limit"  # Atlassian answered 429 for long: resumes at ``paused_until``
    QUOTA = "quota"  # the app's hourly points (every process's) are spent: resumes at the next UTC hour
    RECONNECT = "reconnect"  # the Confluence connection must be consented again


class RunTrigger(StrEnum):
    """What started a run."""

    CREATE = "create"  # the wizard's first full sync
    MANUAL = "manual"  # `/datastore sync`, App Home's Sync now, the CLI
    SCHEDULE = "schedule"  # the periodic resync
    RETRY = "retry"  # a thread's Retry button


class RunKind(StrEnum):
    FULL = "full"  # every page processed again
    INCREMENTAL = "incremental"  # only what changed since the last sync


class ItemState(StrEnum):
    """A listed page's place in its run's work list."""

    PENDING = "pending"
    DONE = "done"
    UNCHANGED = "unchanged"  # indexed at this version already
    FAILED = "failed"
    GONE = "gone"  # deleted in Confluence while the run was processing it


class DatastoreStatus(StrEnum):
    """``Datastore.status``: its latest run's phase, or paused."""

    INITIALIZING = RunPhase.INITIALIZING.value
    SYNCING_METADATA = RunPhase.SYNCING_METADATA.value
    PROCESSING = RunPhase.PROCESSING.value
    SYNCED = RunPhase.SYNCED.value
    PARTIALLY_SYNCED = RunPhase.PARTIALLY_SYNCED.value
    FAILED = RunPhase.FAILED.value
    PAUSED = RunState.PAUSED.value


class WizardStatus(StrEnum):
    OPEN = "open"
    COMPLETED = "completed"
    ABANDONED = "abandoned"


class WizardPurpose(StrEnum):
    CREATE = "create"  # /datastore create: a new datastore
    RECONNECT = "reconnect"  # consent again for an existing datastore's connection


class ConnectionStatus(StrEnum):
    ACTIVE = "active"
    NEEDS_RECONNECT = "needs_reconnect"  # Atlassian refused its tokens for good: someone must consent again
    REVOKED = "revoked"


#: Datastore statuses while a sync is under way (its documents are still changing).
SYNCING_STATUSES = (DatastoreStatus.INITIALIZING, DatastoreStatus.SYNCING_METADATA, DatastoreStatus.PROCESSING)
#: Run phases before processing: nothing is counted against the pages to process yet.
LISTING_PHASES = (RunPhase.INITIALIZING, RunPhase.SYNCING_METADATA)
#: Run states of a run that is not finished (at most one per datastore).
UNFINISHED_STATES = (RunState.QUEUED, RunState.RUNNING, RunState.PAUSED)
