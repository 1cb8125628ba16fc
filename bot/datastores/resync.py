"""Queueing a resync asked for in Slack (a command, a thread's Retry, App Home's Sync now)."""

from __future__ import annotations

from bot.errors import UserFacingError
from bot.services import Services
from storage.models import Datastore
from storage.states import RunKind, RunTrigger
from storage.sync_runs import queue_run

__all__ = ["queue_resync"]


def queue_resync(services: Services, *, datastore_id: int, kind: RunKind, trigger: RunTrigger) -> bool:
    """Queue a run; False when one is already queued, running or paused. Refused when the datastore is gone."""
    with services.sessions.begin() as session:
        if session.get(Datastore, datastore_id) is None:
            raise UserFacingError("That datastore no longer exists.")
        return queue_run(session, datastore_id=datastore_id, kind=kind, trigger=trigger) is not None
