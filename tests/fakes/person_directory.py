"""An in-memory :class:`bot.access.people.PersonDirectory` for tests (the real one, the person-link store, is
built separately and drops in). Links are added by hand; their tokens are held here, optionally refreshed for
real against the fake Atlassian's token endpoint (so a revoked grant answers ``invalid_grant``)."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from bot.access.model import person_principals
from bot.access.people import LinkedPerson
from bot.atlassian.tokens import AccessToken, TokenSource, refresh_tokens
from bot.errors import ReconnectRequired
from storage.models import utcnow

__all__ = ["LINK_BASE", "FakePersonDirectory", "FakePersonTokens"]

LINK_BASE = "https://link.example/connect"


@dataclass
class _Held:
    access: str
    refresh: str | None
    version: int
    expires_at: datetime


@dataclass
class FakePersonTokens:
    """A TokenSource keyed by link id. ``token_url``/``client`` set: force_refresh really refreshes."""

    token_url: str | None = None
    client: tuple[str, str] = ("cid", "secret")
    held: dict[int, _Held] = field(default_factory=dict)
    lost: list[tuple[int, str]] = field(default_factory=list)
    refreshes: int = 0
    on_lost: list[Any] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def current(self, owner_id: int) -> AccessToken:
        with self._lock:
            held = self.held.get(owner_id)
            if held is None:
                raise ReconnectRequired("This person's Confluence link is gone.")
            return AccessToken(value=held.access, version=held.version, expires_at=held.expires_at)

    def force_refresh(self, owner_id: int, seen_version: int) -> AccessToken:
        with self._lock:
            held = self.held.get(owner_id)
        if held is None or held.refresh is None or self.token_url is None:
            self._forget(owner_id, "no refresh token")
            raise ReconnectRequired("This person's Confluence link is gone.")
        self.refreshes += 1
        try:
            tokens = refresh_tokens(*self.client, self.token_url, held.refresh, now=utcnow())
        except ReconnectRequired:
            self._forget(owner_id, "invalid_grant")
            raise
        with self._lock:
            held = _Held(tokens.access_token, tokens.refresh_token or held.refresh, held.version + 2, tokens.expires_at)
            self.held[owner_id] = held
            return AccessToken(value=held.access, version=held.version, expires_at=held.expires_at)

    def lost_access(self, owner_id: int, reason: str) -> None:
        self._forget(owner_id, reason)

    def _forget(self, owner_id: int, reason: str) -> None:
        with self._lock:
            self.held.pop(owner_id, None)
            self.lost.append((owner_id, reason))
        for callback in self.on_lost:
            callback(owner_id)


class FakePersonDirectory:
    """Linked people by (team, Slack user, cloud id); a lost grant unlinks, as the real store does."""

    def __init__(self, tokens: FakePersonTokens | None = None) -> None:
        self.held_tokens = tokens or FakePersonTokens()
        self.tokens: TokenSource = self.held_tokens  # what a PersonDirectory offers
        self.held_tokens.on_lost.append(self._unlink)
        self._links: dict[tuple[str, str, str], LinkedPerson] = {}
        self._next_id = 1
        self.urls: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def link(
        self,
        *,
        team_id: str,
        slack_user_id: str,
        cloud_id: str,
        account_id: str,
        groups: Iterable[str] = (),
        classes: Iterable[str] = (),
        token: dict[str, Any] | str = "token",
        account_name: str | None = None,
    ) -> LinkedPerson:
        """Link a person; ``token`` is a token response of the fake Atlassian (``issue_token``/``complete_oauth``)
        or a bare access token."""
        with self._lock:
            link_id = self._next_id
            self._next_id += 1
            person = LinkedPerson(
                link_id=link_id,
                team_id=team_id,
                slack_user_id=slack_user_id,
                cloud_id=cloud_id,
                account_id=account_id,
                account_name=account_name,
                principals=person_principals(account_id, groups, classes),
                principals_at=utcnow(),
            )
            self._links[(team_id, slack_user_id, cloud_id)] = person
        access = token if isinstance(token, str) else str(token["access_token"])
        refresh = None if isinstance(token, str) else token.get("refresh_token")
        expires = utcnow() + timedelta(seconds=3000)
        self.held_tokens.held[link_id] = _Held(access, refresh, 0, expires)
        return person

    def unlink(self, *, team_id: str, slack_user_id: str, cloud_id: str) -> None:
        with self._lock:
            person = self._links.pop((team_id, slack_user_id, cloud_id), None)
        if person is not None:
            self.held_tokens.held.pop(person.link_id, None)

    def _unlink(self, link_id: int) -> None:
        with self._lock:
            for key, person in list(self._links.items()):
                if person.link_id == link_id:
                    del self._links[key]

    def linked(self, *, team_id: str, slack_user_id: str, cloud_id: str) -> LinkedPerson | None:
        with self._lock:
            return self._links.get((team_id, slack_user_id, cloud_id))

    def link_url(self, *, team_id: str, enterprise_id: str | None, slack_user_id: str, datastore_id: int) -> str:
        params = {"team": team_id, "user": slack_user_id, "datastore": str(datastore_id)}
        if enterprise_id:
            params["enterprise"] = enterprise_id
        self.urls.append(params)
        return f"{LINK_BASE}?{urlencode(params)}"
