"""The link store: :class:`PersonLinks` is the :class:`~bot.access.people.PersonDirectory` per-person search uses.

* :meth:`PersonLinks.link_url` issues a single-use state (only its SHA-256 is stored, 15 minutes, bound to the
  team, enterprise, Slack user, datastore and that datastore's site) and returns Atlassian's consent URL; the
  callback (``bot.access.link_flow``) turns a consent into a link.
* :meth:`PersonLinks.linked` reads a link: its principals always hold the account key, plus the groups and
  classes last read from Confluence (``bot.access.link_groups``).
* :attr:`PersonLinks.tokens` (:class:`LinkTokens`) hands out the person's access token: their own, refreshed by
  the same compare-and-set protocol as a connection's (a refusal deletes the link), or, for the person who
  consented in the wizard, the connection's — their link borrows it (see ``storage.person_links``).
* Removal: :meth:`unlink_person`, :meth:`unlink_team`, :meth:`unlink_everywhere` (a Slack user deactivated).

Build it from the services: ``person_directory(services)`` (typed as the contract), or
``PersonLinks(services, AtlassianOAuth(services.settings))`` for the removal methods too.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

import httpx
from sqlalchemy.orm import Session

from bot.access.model import person_principals
from bot.access.people import LinkedPerson, PersonDirectory
from bot.atlassian.oauth import AtlassianOAuth
from bot.atlassian.token_stores import LINK_GONE_MESSAGE, PersonLinkTokens
from bot.atlassian.tokens import AccessToken, TokenManager, TokenSource
from bot.errors import ReconnectRequired, UserFacingError
from bot.services import Services
from storage.models import Connection, Datastore, utcnow
from storage.person_links import (
    LinkState,
    PersonLink,
    add_link_state,
    delete_link,
    delete_links_of_connection,
    delete_links_of_team,
    delete_links_of_user,
    get_link,
    link_of,
    links_of_site,
    parse_principals,
    save_link,
)

__all__ = ["LINK_STATE_TTL", "LinkTokens", "PersonLinks", "link_consenter", "person_directory", "state_hash"]

logger = logging.getLogger(__name__)

LINK_STATE_TTL = timedelta(minutes=15)


def state_hash(state: str) -> str:
    return hashlib.sha256(state.encode("utf-8")).hexdigest()


def link_consenter(session: Session, connection: Connection, *, enterprise_id: str | None, slack_user_id: str) -> None:
    """The person who consented in the wizard (or reconnected) is linked by that consent: their link borrows the
    connection's tokens. Whoever consented for it before (a reconnect by someone else) is no longer linked by it."""
    delete_links_of_connection(session, connection_id=connection.id)
    save_link(
        session,
        PersonLink(
            team_id=connection.team_id,
            enterprise_id=enterprise_id or None,
            slack_user_id=slack_user_id,
            cloud_id=connection.cloud_id,
            account_id=connection.account_id or "",
            account_name=connection.account_name,
            connection_id=connection.id,
            scopes=connection.scopes,
        ),
    )


def _person(link: PersonLink) -> LinkedPerson:
    return LinkedPerson(
        link_id=link.id,
        team_id=link.team_id,
        slack_user_id=link.slack_user_id,
        cloud_id=link.cloud_id,
        account_id=link.account_id,
        account_name=link.account_name,
        principals=parse_principals(link.principals) | person_principals(link.account_id),
        principals_at=link.principals_at,
    )


class LinkTokens:
    """The :class:`~bot.atlassian.tokens.TokenSource` of person links, keyed by link id."""

    def __init__(self, services: Services, own: TokenManager, connections: TokenManager) -> None:
        self._services = services
        self._own = own
        self._connections = connections

    def _borrowed(self, link_id: int) -> int | None:
        """The connection whose tokens this link uses (the wizard's consenter), None for its own; the link must
        exist (ReconnectRequired: link again)."""
        with self._services.sessions.begin() as session:
            link = get_link(session, link_id=link_id)
            if link is None:
                raise ReconnectRequired(LINK_GONE_MESSAGE)
            return link.connection_id

    def current(self, owner_id: int) -> AccessToken:
        connection_id = self._borrowed(owner_id)
        return self._own.current(owner_id) if connection_id is None else self._connections.current(connection_id)

    def force_refresh(self, owner_id: int, seen_version: int) -> AccessToken:
        connection_id = self._borrowed(owner_id)
        if connection_id is None:
            return self._own.force_refresh(owner_id, seen_version)
        return self._connections.force_refresh(connection_id, seen_version)

    def lost_access(self, owner_id: int, reason: str) -> None:
        """Confluence refuses the person even with a fresh token: the link is deleted (they link again)."""
        with self._services.sessions.begin() as session:
            delete_link(session, link_id=owner_id)
        logger.warning("person link %s lost its access and was removed: %s", owner_id, reason)


class PersonLinks:
    """Linked people of every workspace; implements :class:`~bot.access.people.PersonDirectory`."""

    def __init__(
        self,
        services: Services,
        oauth: AtlassianOAuth,
        *,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], datetime] = utcnow,
        connection_tokens: TokenManager | None = None,
    ) -> None:
        self.services = services
        self.oauth = oauth
        self._clock = clock
        own = TokenManager(services, oauth, store=PersonLinkTokens(), transport=transport, clock=clock)
        connections = connection_tokens or TokenManager(services, oauth, transport=transport, clock=clock)
        self.tokens: TokenSource = LinkTokens(services, own, connections)

    # ----- PersonDirectory ---------------------------------------------------------------------
    def linked(self, *, team_id: str, slack_user_id: str, cloud_id: str) -> LinkedPerson | None:
        with self.services.sessions.begin() as session:
            link = link_of(session, team_id=team_id, slack_user_id=slack_user_id, cloud_id=cloud_id)
            return _person(link) if link is not None else None

    def link_url(self, *, team_id: str, enterprise_id: str | None, slack_user_id: str, datastore_id: int) -> str:
        now = self._clock()
        raw = secrets.token_urlsafe(32)
        with self.services.sessions.begin() as session:
            datastore = session.get(Datastore, datastore_id)
            connection = (
                session.get(Connection, datastore.connection_id) if datastore and datastore.connection_id else None
            )
            if datastore is None or datastore.team_id != team_id or connection is None:
                raise UserFacingError("This datastore has no Confluence site to link your account to.")
            add_link_state(
                session,
                LinkState(
                    state_hash=state_hash(raw),
                    team_id=team_id,
                    enterprise_id=enterprise_id or None,
                    slack_user_id=slack_user_id,
                    datastore_id=datastore_id,
                    cloud_id=connection.cloud_id,
                    site_url=connection.site_url,
                    created_at=now,
                    expires_at=now + LINK_STATE_TTL,
                ),
            )
        return self.oauth.authorize_url(raw)

    # ----- listing and removal -----------------------------------------------------------------
    def people_of_site(self, *, team_id: str, cloud_id: str) -> list[LinkedPerson]:
        """Everyone of the workspace linked to this site, oldest link first."""
        with self.services.sessions.begin() as session:
            return [_person(link) for link in links_of_site(session, team_id=team_id, cloud_id=cloud_id)]

    def people_of_datastore(self, *, team_id: str, datastore_id: int) -> tuple[str, list[LinkedPerson]]:
        """(the datastore's site, everyone of the workspace linked to it); ("", []) without a connection."""
        with self.services.sessions.begin() as session:
            datastore = session.get(Datastore, datastore_id)
            connection_id = datastore.connection_id if datastore is not None and datastore.team_id == team_id else None
            connection = session.get(Connection, connection_id) if connection_id is not None else None
            if connection is None:
                return "", []
            links = links_of_site(session, team_id=team_id, cloud_id=connection.cloud_id)
            return connection.site_host, [_person(link) for link in links]

    def unlink_person(self, *, team_id: str, slack_user_id: str) -> int:
        """``/datastore unlink``: every link of this person in this workspace; how many there were."""
        with self.services.sessions.begin() as session:
            removed = delete_links_of_user(session, team_id=team_id, slack_user_id=slack_user_id)
        logger.info("unlinked %s/%s from %d Confluence site(s)", team_id, slack_user_id, removed)
        return removed

    def unlink_everywhere(self, *, team_id: str, enterprise_id: str | None, slack_user_id: str) -> int:
        """A Slack user deactivated: their links in this workspace and every workspace of its Grid org."""
        with self.services.sessions.begin() as session:
            removed = delete_links_of_user(
                session, team_id=team_id, slack_user_id=slack_user_id, enterprise_id=enterprise_id
            )
        logger.info("removed %d link(s) of deactivated Slack user %s/%s", removed, team_id, slack_user_id)
        return removed

    def unlink_team(self, *, team_id: str) -> int:
        """The app was uninstalled (or its bot token revoked): every link of the workspace."""
        with self.services.sessions.begin() as session:
            removed = delete_links_of_team(session, team_id=team_id)
        logger.info("removed all %d person link(s) of workspace %s", removed, team_id)
        return removed


def person_directory(services: Services, *, transport: httpx.BaseTransport | None = None) -> PersonDirectory:
    """The :class:`~bot.access.people.PersonDirectory` per-person search uses (and mypy checks the contract here)."""
    return PersonLinks(services, AtlassianOAuth(services.settings, transport=transport), transport=transport)
