"""Where a :class:`~bot.atlassian.tokens.TokenManager` keeps the tokens it refreshes: one protocol, two stores.

The refresh protocol (compare-and-set on an even/odd ``token_version``, see ``bot.atlassian.tokens``) is the same
for every owner of a rotating Atlassian token family; only the rows differ. :class:`ConnectionTokens` keeps a
connection's (the connecting account's) and marks it for reconnect when Atlassian refuses it for good;
:class:`PersonLinkTokens` keeps a linked person's own and *deletes the link* then (the person is asked to link
again). Every method runs inside the caller's transaction and never commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy.orm import Session

from bot.errors import AtlassianError, ReconnectRequired
from storage.connections import (
    compare_and_set_version,
    compare_and_store_tokens,
    get_connection,
    mark_needs_reconnect,
)
from storage.person_links import (
    compare_and_set_link_version,
    compare_and_store_link_tokens,
    delete_link,
    get_link,
)
from storage.states import ConnectionStatus

__all__ = [
    "LINK_GONE_MESSAGE",
    "RECONNECT_MESSAGE",
    "ConnectionTokens",
    "PersonLinkTokens",
    "StoredTokens",
    "TokenStore",
]

RECONNECT_MESSAGE = "Atlassian no longer accepts this Confluence connection."
LINK_GONE_MESSAGE = "Your Confluence account is no longer linked: connect it again."


@dataclass(frozen=True)
class StoredTokens:
    version: int
    access_token_enc: str | None
    expires_at: datetime | None


class TokenStore(Protocol):
    """The rows one kind of token owner keeps its encrypted tokens and ``token_version`` in."""

    #: What an owner is called in log lines ("Confluence connection", "person link").
    noun: str

    def read(self, session: Session, owner_id: int) -> StoredTokens:
        """The stored tokens; ReconnectRequired when the owner may not be used (revoked, gone)."""
        ...

    def claim(self, session: Session, owner_id: int, *, expected_version: int, new_version: int) -> bool: ...

    def refresh_token_enc(self, session: Session, owner_id: int) -> str | None: ...

    def store(
        self,
        session: Session,
        owner_id: int,
        *,
        expected_version: int,
        access_token_enc: str,
        refresh_token_enc: str | None,
        access_expires_at: datetime,
        scopes: str | None,
    ) -> bool: ...

    def refused(self, session: Session, owner_id: int, *, expected_version: int | None) -> None:
        """Atlassian refused the owner for good: nothing may try its tokens again (only if the version still
        is ``expected_version``, when given)."""
        ...


class ConnectionTokens:
    """A connection's tokens (``storage.connections``); a refusal marks it ``needs_reconnect``."""

    noun = "Confluence connection"

    def read(self, session: Session, owner_id: int) -> StoredTokens:
        connection = get_connection(session, connection_id=owner_id)
        if connection is None:
            raise AtlassianError(f"Confluence connection {owner_id} does not exist.")
        if connection.status != ConnectionStatus.ACTIVE:
            raise ReconnectRequired(RECONNECT_MESSAGE)
        return StoredTokens(connection.token_version, connection.access_token_enc, connection.access_expires_at)

    def claim(self, session: Session, owner_id: int, *, expected_version: int, new_version: int) -> bool:
        return compare_and_set_version(
            session, connection_id=owner_id, expected_version=expected_version, new_version=new_version
        )

    def refresh_token_enc(self, session: Session, owner_id: int) -> str | None:
        connection = get_connection(session, connection_id=owner_id)
        return connection.refresh_token_enc if connection is not None else None

    def store(
        self,
        session: Session,
        owner_id: int,
        *,
        expected_version: int,
        access_token_enc: str,
        refresh_token_enc: str | None,
        access_expires_at: datetime,
        scopes: str | None,
    ) -> bool:
        return compare_and_store_tokens(
            session,
            connection_id=owner_id,
            expected_version=expected_version,
            access_token_enc=access_token_enc,
            refresh_token_enc=refresh_token_enc,
            access_expires_at=access_expires_at,
            scopes=scopes,
        )

    def refused(self, session: Session, owner_id: int, *, expected_version: int | None) -> None:
        mark_needs_reconnect(session, connection_id=owner_id, expected_version=expected_version)


class PersonLinkTokens:
    """A linked person's own tokens (``storage.person_links``); a refusal deletes the link. A link without
    tokens of its own (the wizard's consenter) is not read here: see ``bot.access.links.LinkTokens``."""

    noun = "person link"

    def read(self, session: Session, owner_id: int) -> StoredTokens:
        link = get_link(session, link_id=owner_id)
        if link is None or (link.refresh_token_enc is None and link.access_token_enc is None):
            raise ReconnectRequired(LINK_GONE_MESSAGE)
        return StoredTokens(link.token_version, link.access_token_enc, link.access_expires_at)

    def claim(self, session: Session, owner_id: int, *, expected_version: int, new_version: int) -> bool:
        return compare_and_set_link_version(
            session, link_id=owner_id, expected_version=expected_version, new_version=new_version
        )

    def refresh_token_enc(self, session: Session, owner_id: int) -> str | None:
        link = get_link(session, link_id=owner_id)
        return link.refresh_token_enc if link is not None else None

    def store(
        self,
        session: Session,
        owner_id: int,
        *,
        expected_version: int,
        access_token_enc: str,
        refresh_token_enc: str | None,
        access_expires_at: datetime,
        scopes: str | None,
    ) -> bool:
        return compare_and_store_link_tokens(
            session,
            link_id=owner_id,
            expected_version=expected_version,
            access_token_enc=access_token_enc,
            refresh_token_enc=refresh_token_enc,
            access_expires_at=access_expires_at,
            scopes=scopes,
        )

    def refused(self, session: Session, owner_id: int, *, expected_version: int | None) -> None:
        delete_link(session, link_id=owner_id, expected_version=expected_version)
