"""The person-link repository on both backends: one link per person and site (a new one replaces it), removal by
person, org, team and connection, the compare-and-set token guard, single-use states, and which links are due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from storage.deletion import delete_datastore
from storage.models import Connection, Datastore
from storage.person_links import (
    LinkState,
    PersonLink,
    add_link_state,
    claim_link_state,
    compare_and_set_link_version,
    compare_and_store_link_tokens,
    delete_links_of_connection,
    delete_links_of_team,
    delete_links_of_user,
    get_link,
    link_of,
    links_due_principals,
    parse_principals,
    save_link,
    set_principals,
)

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def sessions(migrated_sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    return migrated_sessions


def _link(team: str, user: str, cloud: str = "c1", **values: object) -> PersonLink:
    return PersonLink(team_id=team, slack_user_id=user, cloud_id=cloud, account_id=f"acc-{user}", **values)


def _connection(session: Session, team: str = "T1", cloud: str = "c1", status: str = "active") -> int:
    connection = Connection(
        team_id=team, created_by="U1", cloud_id=cloud, site_url="https://a.atlassian.net", status=status
    )
    session.add(connection)
    session.flush()
    return connection.id


def _count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(PersonLink)) or 0)


def test_a_new_link_replaces_the_old_and_nothing_is_committed(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        save_link(session, _link("T1", "U1"))
        session.rollback()
    with sessions.begin() as session:
        assert _count(session) == 0
        first = save_link(session, _link("T1", "U1", access_token_enc="a", token_version=3))
        first_id = first.id
    with sessions.begin() as session:
        second = save_link(session, _link("T1", "U1", access_token_enc="b"))
        assert second.id != first_id and second.token_version == 4  # even, and newer than the old row's claim
        save_link(session, _link("T1", "U1", cloud="c2"))
        save_link(session, _link("T2", "U1"))
    with sessions.begin() as session:
        assert _count(session) == 3
        found = link_of(session, team_id="T1", slack_user_id="U1", cloud_id="c1")
        assert found is not None and found.access_token_enc == "b"


def test_removal_by_person_org_team_and_connection(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        connection_id = _connection(session)
        save_link(session, _link("T1", "U1", enterprise_id="E1"))
        save_link(session, _link("T1", "U1", cloud="c2", enterprise_id="E1"))
        save_link(session, _link("T3", "U1", enterprise_id="E1"))  # the same Grid user in another workspace
        save_link(session, _link("T4", "U1"))  # someone else with that id, elsewhere
        save_link(session, _link("T1", "U2", connection_id=connection_id))
        save_link(session, _link("T2", "U5"))
    with sessions.begin() as session:
        assert delete_links_of_user(session, team_id="T1", slack_user_id="U1") == 2
        assert delete_links_of_user(session, team_id="T1", slack_user_id="U1", enterprise_id="E1") == 1
        assert delete_links_of_connection(session, connection_id=connection_id) == 1
        assert delete_links_of_team(session, team_id="T2") == 1
        assert [link.team_id for link in session.scalars(select(PersonLink))] == ["T4"]


def test_deleting_a_datastore_with_its_connection_removes_the_consenter_link(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        connection_id = _connection(session)
        datastore = Datastore(team_id="T1", name="w", name_key="w", connection_id=connection_id, created_by="U1")
        session.add(datastore)
        session.flush()
        save_link(session, _link("T1", "U1", connection_id=connection_id))
        add_link_state(session, _state("h1", datastore.id))
    with sessions.begin() as session:
        datastore = session.scalars(select(Datastore)).one()
        assert delete_datastore(session, datastore=datastore, deleted_by="U1", now=NOW).connection_deleted
    with sessions.begin() as session:
        assert _count(session) == 0 and session.get(LinkState, "h1") is None


def test_token_versions_are_compared_and_set(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        link_id = save_link(session, _link("T1", "U1", access_token_enc="a0", refresh_token_enc="r0")).id
    with sessions.begin() as session:
        assert compare_and_set_link_version(session, link_id=link_id, expected_version=0, new_version=1)
        assert not compare_and_set_link_version(session, link_id=link_id, expected_version=0, new_version=1)
        assert not compare_and_store_link_tokens(
            session, link_id=link_id, expected_version=0, access_token_enc="x", refresh_token_enc="y",
            access_expires_at=NOW,
        )  # fmt: skip
        assert compare_and_store_link_tokens(
            session, link_id=link_id, expected_version=1, access_token_enc="a1", refresh_token_enc="r1",
            access_expires_at=NOW, scopes="read:me",
        )  # fmt: skip
    with sessions.begin() as session:
        link = get_link(session, link_id=link_id)
        assert link is not None and (link.token_version, link.access_token_enc, link.refresh_token_enc) == (
            2,
            "a1",
            "r1",
        )


def _state(state_hash: str, datastore_id: int, expires: datetime = NOW + timedelta(minutes=15)) -> LinkState:
    return LinkState(
        state_hash=state_hash,
        team_id="T1",
        slack_user_id="U1",
        datastore_id=datastore_id,
        cloud_id="c1",
        site_url="https://a.atlassian.net",
        created_at=NOW,
        expires_at=expires,
    )


def test_a_state_is_claimed_once(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        connection_id = _connection(session)
        datastore = Datastore(team_id="T1", name="w", name_key="w", connection_id=connection_id, created_by="U1")
        session.add(datastore)
        session.flush()
        add_link_state(session, _state("h1", datastore.id))
    with sessions.begin() as session:
        assert claim_link_state(session, state_hash="h1", now=NOW)
        assert not claim_link_state(session, state_hash="h1", now=NOW)
        assert not claim_link_state(session, state_hash="nope", now=NOW)


def test_links_due_for_their_groups_have_a_connection_to_read_them_with(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        old = _connection(session)
        newer = _connection(session)
        _connection(session, cloud="c9", status="needs_reconnect")
        fresh = save_link(session, _link("T1", "U1")).id
        stale = save_link(session, _link("T1", "U2")).id
        never = save_link(session, _link("T1", "U3")).id
        save_link(session, _link("T1", "U4", cloud="c9"))  # no usable connection to its site
        save_link(session, _link("T2", "U5"))  # no connection of its workspace
        assert set_principals(session, link_id=fresh, principals=["u:a", "g:b"], at=NOW)
        assert set_principals(session, link_id=stale, principals=["u:a"], at=NOW - timedelta(hours=2))
    with sessions.begin() as session:
        due = links_due_principals(session, read_before=NOW - timedelta(hours=1), limit=10)
        assert [(link.id, connection_id) for link, connection_id in due] == [(never, newer), (stale, newer)]
        assert old < newer
        assert links_due_principals(session, read_before=NOW - timedelta(hours=1), limit=1)[0][0].id == never
        # None: only links never read (what a consent reads at once)
        assert [link.id for link, _ in links_due_principals(session, read_before=None, limit=10)] == [never]
        fresh_link = get_link(session, link_id=fresh)
        assert fresh_link is not None and parse_principals(fresh_link.principals) == {"u:a", "g:b"}
