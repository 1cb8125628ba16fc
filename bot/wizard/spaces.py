"""Keep a connection's list of spaces (for the wizard's type-ahead picker) in the database."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import httpx

from bot.atlassian.oauth import AtlassianOAuth
from bot.atlassian.tokens import TokenManager
from bot.confluence.client import ConfluenceClient
from bot.errors import AtlassianError
from bot.services import Services
from storage.connections import get_connection
from storage.datastores import replace_spaces
from storage.models import utcnow

__all__ = ["SpaceLister"]

logger = logging.getLogger(__name__)


@dataclass
class SpaceLister:
    services: Services
    transport: httpx.BaseTransport | None = None
    clock: Callable[[], datetime] = utcnow
    _listing: dict[int, threading.Thread] = field(default_factory=dict, init=False, repr=False)
    _guard: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __post_init__(self) -> None:
        self.tokens = TokenManager(self.services, AtlassianOAuth(self.services.settings), transport=self.transport)

    def refresh_within(self, connection_id: int, seconds: float) -> bool:
        """Refresh in the background and wait for it at most ``seconds`` (a Slack request must answer within 3):
        True when the listing finished in time. One listing per connection at a time, however many keystrokes
        ask for it; one that is late goes on and stores its spaces for the next keystroke."""
        with self._guard:
            thread = self._listing.get(connection_id)
            if thread is None or not thread.is_alive():
                thread = threading.Thread(
                    target=self._refresh_once, args=(connection_id,), name=f"list-spaces-{connection_id}", daemon=True
                )
                self._listing[connection_id] = thread
                thread.start()
        thread.join(timeout=seconds)
        return not thread.is_alive()

    def _refresh_once(self, connection_id: int) -> None:
        try:
            self.refresh(connection_id, timeout=10.0)
        finally:
            with self._guard:
                if self._listing.get(connection_id) is threading.current_thread():
                    del self._listing[connection_id]

    def refresh(self, connection_id: int, *, timeout: float = 20.0) -> bool:
        """List every space the connection can see and store them; False (logged) when Confluence fails.

        ``timeout`` bounds each request; inside a Slack request (the picker) use a short one and no retries.
        """
        with self.services.sessions() as session:
            connection = get_connection(session, connection_id=connection_id)
            if connection is None:
                return False
            cloud_id = connection.cloud_id
        client = ConfluenceClient(
            self.services.settings,
            self.tokens,
            connection_id,
            cloud_id,
            transport=self.transport,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
            max_tries=1 if timeout < 5 else 5,
            budget=self.services.budget,  # the app's one budget: every Atlassian call draws from it
        )
        try:
            spaces = [(space.id, space.key, space.name) for space in client.spaces() if space.status == "current"]
        except AtlassianError as exc:
            logger.warning("could not list the spaces of connection %s: %s", connection_id, exc)
            return False
        finally:
            client.close()
        with self.services.sessions.begin() as session:
            replace_spaces(session, connection_id=connection_id, spaces=spaces)
            connection = get_connection(session, connection_id=connection_id)
            if connection is not None:
                connection.spaces_listed_at = self.clock()
        return True
