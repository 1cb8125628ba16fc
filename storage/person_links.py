"""Person links (issue #12 step 4): a Slack person's link to their Atlassian account on one Confluence site, and
the single-use OAuth states that make one. Repositories never commit.

A link holds its own tokens (encrypted by the caller; ``token_version`` is the same compare-and-set guard as
``connections.token_version``: even = settled, odd = a refresh is claimed), or, for the person who consented in
the wizard, none: ``connection_id`` then names the connection whose tokens *are* that consent (copying them would
fork one rotating refresh-token family into two rows, and the first reuse after the other's rotation would revoke
both). Its principals (account, groups, classes) are stored one key per line with when they were read.

A link state is stored only as its SHA-256, bound to team, enterprise, Slack user, datastore and that datastore's
site, single use (``used_at``) and short-lived (``expires_at``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import (
    CursorResult,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    delete,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage.models import Base, Connection, utcnow
from storage.states import ConnectionStatus

__all__ = [
    "LinkState",
    "PersonLink",
    "add_link_state",
    "claim_link_state",
    "compare_and_set_link_version",
    "compare_and_store_link_tokens",
    "delete_link",
    "delete_links_of_connection",
    "delete_links_of_team",
    "delete_links_of_user",
    "get_link",
    "get_link_state",
    "link_of",
    "links_due_principals",
    "links_of_site",
    "parse_principals",
    "save_link",
    "set_principals",
]


class PersonLink(Base):
    """One Slack person (team, user) linked to one Atlassian account on one site (``cloud_id``)."""

    __tablename__ = "person_links"
    __table_args__ = (
        UniqueConstraint("team_id", "slack_user_id", "cloud_id", name="uq_person_links_person_site"),
        Index("ix_person_links_principals_at", "principals_at"),
        # A link id is a token owner's key (TokenManager caches by it): SQLite must never hand a deleted
        # person's id to someone linking later.
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    enterprise_id: Mapped[str | None] = mapped_column(String(32))
    slack_user_id: Mapped[str] = mapped_column(String(32))
    cloud_id: Mapped[str] = mapped_column(String(64))
    account_id: Mapped[str] = mapped_column(String(128))
    account_name: Mapped[str | None] = mapped_column(String(255))
    #: The wizard's consenter: the connection's tokens are theirs (no tokens of the link's own).
    connection_id: Mapped[int | None] = mapped_column(ForeignKey("connections.id", ondelete="CASCADE"))
    access_token_enc: Mapped[str | None] = mapped_column(Text)
    refresh_token_enc: Mapped[str | None] = mapped_column(Text)
    access_expires_at: Mapped[datetime | None]
    token_version: Mapped[int] = mapped_column(default=0)
    scopes: Mapped[str] = mapped_column(Text, default="")
    principals: Mapped[str | None] = mapped_column(Text)  # principal keys, one per line
    principals_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class LinkState(Base):
    """A single-use "Connect your Confluence account" state: only its hash is stored."""

    __tablename__ = "link_states"

    state_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    enterprise_id: Mapped[str | None] = mapped_column(String(32))
    slack_user_id: Mapped[str] = mapped_column(String(32))
    datastore_id: Mapped[int] = mapped_column(ForeignKey("datastores.id", ondelete="CASCADE"))
    cloud_id: Mapped[str] = mapped_column(String(64))
    site_url: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


# ----- states -----------------------------------------------------------------------------------
def add_link_state(session: Session, state: LinkState) -> None:
    session.add(state)
    session.flush()


def get_link_state(session: Session, *, state_hash: str) -> LinkState | None:
    return session.get(LinkState, state_hash)


def claim_link_state(session: Session, *, state_hash: str, now: datetime) -> bool:
    """Mark a state used; False when it already was (two callbacks cannot both win)."""
    statement = (
        update(LinkState)
        .where(LinkState.state_hash == state_hash, LinkState.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    return _count(session.execute(statement)) == 1


# ----- links ------------------------------------------------------------------------------------
def _count(result: object) -> int:
    return result.rowcount if isinstance(result, CursorResult) else 0


def get_link(session: Session, *, link_id: int) -> PersonLink | None:
    return session.get(PersonLink, link_id)


def link_of(session: Session, *, team_id: str, slack_user_id: str, cloud_id: str) -> PersonLink | None:
    statement = select(PersonLink).where(
        PersonLink.team_id == team_id, PersonLink.slack_user_id == slack_user_id, PersonLink.cloud_id == cloud_id
    )
    return session.scalars(statement).first()


def save_link(session: Session, link: PersonLink) -> PersonLink:
    """Store ``link`` in place of any link of the same person to the same site (a new consent replaces it);
    its version starts newer than any claim on the row it replaces."""
    old = link_of(session, team_id=link.team_id, slack_user_id=link.slack_user_id, cloud_id=link.cloud_id)
    if old is not None:
        link.token_version = old.token_version + 2 - old.token_version % 2
        session.delete(old)
        session.flush()
    session.add(link)
    session.flush()
    return link


def links_of_site(session: Session, *, team_id: str, cloud_id: str) -> list[PersonLink]:
    statement = (
        select(PersonLink)
        .where(PersonLink.team_id == team_id, PersonLink.cloud_id == cloud_id)
        .order_by(PersonLink.created_at, PersonLink.id)
    )
    return list(session.scalars(statement))


def links_due_principals(session: Session, *, read_before: datetime | None, limit: int) -> list[tuple[PersonLink, int]]:
    """Links whose principals were never read or read before ``read_before`` (None: never read only), never-read
    and oldest first, each with an active connection of its workspace to its site to read them with (links with
    none are left out)."""
    connection = (
        select(func.max(Connection.id))
        .where(
            Connection.team_id == PersonLink.team_id,
            Connection.cloud_id == PersonLink.cloud_id,
            Connection.status == ConnectionStatus.ACTIVE,
        )
        .correlate(PersonLink)
        .scalar_subquery()
    )
    statement = (
        select(PersonLink, connection)
        .where(
            PersonLink.principals_at.is_(None)
            if read_before is None
            else or_(PersonLink.principals_at.is_(None), PersonLink.principals_at < read_before)
        )
        .where(connection.is_not(None))
        .order_by(PersonLink.principals_at.is_not(None), PersonLink.principals_at, PersonLink.id)
        .limit(limit)
    )
    return [(link, int(connection_id)) for link, connection_id in session.execute(statement).all()]


def parse_principals(text: str | None) -> frozenset[str]:
    return frozenset(line for line in (text or "").split("\n") if line)


def set_principals(session: Session, *, link_id: int, principals: Iterable[str], at: datetime) -> bool:
    """The link's principals as read at ``at``; False when the link is gone."""
    statement = (
        update(PersonLink)
        .where(PersonLink.id == link_id)
        .values(principals="\n".join(sorted(set(principals))), principals_at=at)
        .execution_options(synchronize_session=False)
    )
    return _count(session.execute(statement)) == 1


def delete_link(session: Session, *, link_id: int, expected_version: int | None = None) -> bool:
    """Delete one link; with ``expected_version`` only if its version still is that one."""
    statement = delete(PersonLink).where(PersonLink.id == link_id)
    if expected_version is not None:
        statement = statement.where(PersonLink.token_version == expected_version)
    return _count(session.execute(statement.execution_options(synchronize_session=False))) == 1


def delete_links_of_user(
    session: Session, *, team_id: str, slack_user_id: str, enterprise_id: str | None = None
) -> int:
    """Every link of this Slack user in this workspace (and, given an Enterprise Grid org, in all of its
    workspaces: a user deactivated in the org is gone from each); how many."""
    where = PersonLink.team_id == team_id
    if enterprise_id:
        where = or_(where, PersonLink.enterprise_id == enterprise_id)
    statement = delete(PersonLink).where(PersonLink.slack_user_id == slack_user_id, where)
    return _count(session.execute(statement.execution_options(synchronize_session=False)))


def delete_links_of_connection(session: Session, *, connection_id: int) -> int:
    """The links that borrow this connection's consent (its consenter's, before a reconnect by someone)."""
    statement = delete(PersonLink).where(PersonLink.connection_id == connection_id)
    return _count(session.execute(statement.execution_options(synchronize_session=False)))


def delete_links_of_team(session: Session, *, team_id: str) -> int:
    statement = delete(PersonLink).where(PersonLink.team_id == team_id)
    return _count(session.execute(statement.execution_options(synchronize_session=False)))


# ----- tokens (the compare-and-set protocol of storage.connections) ------------------------------
def _swap(session: Session, link_id: int, expected_version: int, values: dict[str, object]) -> bool:
    statement = (
        update(PersonLink)
        .where(PersonLink.id == link_id, PersonLink.token_version == expected_version)
        .values(updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    return _count(session.execute(statement)) == 1


def compare_and_set_link_version(session: Session, *, link_id: int, expected_version: int, new_version: int) -> bool:
    return _swap(session, link_id, expected_version, {"token_version": new_version})


def compare_and_store_link_tokens(
    session: Session,
    *,
    link_id: int,
    expected_version: int,
    access_token_enc: str,
    refresh_token_enc: str | None,
    access_expires_at: datetime,
    scopes: str | None = None,
) -> bool:
    """Store a refreshed (encrypted) pair and move the version to ``expected_version + 1``; False if it moved."""
    values: dict[str, object] = {
        "token_version": expected_version + 1,
        "access_token_enc": access_token_enc,
        "refresh_token_enc": refresh_token_enc,
        "access_expires_at": access_expires_at,
    }
    if scopes:
        values["scopes"] = scopes
    return _swap(session, link_id, expected_version, values)
