"""Keep a connection's list of spaces (for the wizard's type-ahead picker) in the database."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
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

    def __post_init__(self) -> None:
        self.tokens = TokenManager(self.services, AtlassianOAuth(self.services.settings), transport=self.transport)

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
