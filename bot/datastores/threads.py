"""Where a datastore's Slack thread is, as the handlers that speak Slack record it (they open no session)."""

from __future__ import annotations

from bot.services import Services
from storage.models import Datastore

__all__ = ["remember_thread_url"]


def remember_thread_url(services: Services, *, datastore_id: int, parent_ts: str, url: str) -> None:
    """Keep the permalink of the thread started at ``parent_ts``, unless the thread has moved since."""
    with services.sessions.begin() as session:
        datastore = session.get(Datastore, datastore_id)
        if datastore is not None and datastore.parent_ts == parent_ts:
            datastore.thread_url = url
