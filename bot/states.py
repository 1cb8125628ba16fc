"""The states, statuses and modes the handlers and views name. They are defined where they are stored
(``storage/states.py``, ``storage/access_modes.py``) and re-exported here, so that handlers import from bot/
only (the import contract in pyproject.toml)."""

from __future__ import annotations

from storage.access_modes import AccessMode, AccessOffer, AuditAction, AuditSource, LimitKind
from storage.states import (
    LISTING_PHASES,
    SYNCING_STATUSES,
    UNFINISHED_STATES,
    ConnectionStatus,
    DatastoreStatus,
    ItemState,
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
    "LISTING_PHASES",
    "SYNCING_STATUSES",
    "UNFINISHED_STATES",
    "AccessMode",
    "AccessOffer",
    "AuditAction",
    "AuditSource",
    "ConnectionStatus",
    "DatastoreStatus",
    "ItemState",
    "LimitKind",
    "PauseKind",
    "RunKind",
    "RunOutcome",
    "RunPhase",
    "RunState",
    "RunTrigger",
    "WizardPurpose",
    "WizardStatus",
]
