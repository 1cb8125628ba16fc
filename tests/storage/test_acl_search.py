"""Stored ACLs (storage.acl) and the search filter (storage.search Visibility) on both backends, with
hand-written ACLs: nothing restricted reaches someone the ACL does not name, nothing unknown reaches anyone."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.access.filter import store_document_acls, visibility_for, visible_acl_ids
from bot.access.model import AccessMode, effective_acl, group_key, person_principals, user_key
from storage.acl import (
    Acl as AclRow,
)
from storage.acl import (
    acl_digest,
    acl_generation,
    assign_acls,
    count_unknown_acl,
    ensure_acls,
    load_acls,
    prune_unused_acls,
)
from storage.db import make_engine, make_sessionmaker
from storage.documents import Document
from storage.migrate import upgrade_to_head
from storage.models import Datastore
from storage.search import Visibility, count_hits, search
from storage.search_index import ChunkInput, DocumentInput, bulk_replace_documents, content_hash

WHEN = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
SPACE = [group_key("staff")]
HR = group_key("hr")
ALICE = person_principals("alice", ["staff", "hr"])  # in HR
BOB = person_principals("bob", ["staff"])  # staff, not HR
CAROL = person_principals("carol", ["staff"])  # the one person a page is restricted to
OUTSIDER = person_principals("mallory", ["contractors"])  # cannot view the space
PAGES = {
    "open": effective_acl(SPACE),
    "direct": effective_acl(SPACE, [HR]),
    "child": effective_acl(SPACE, None, [[HR]]),  # restricted only through its parent
    "personal": effective_acl(SPACE, [user_key("carol")]),
    "unknown": None,  # facts could not be read
}


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    upgrade_to_head(engine)
    with make_sessionmaker(engine).begin() as session:
        for name in ("one", "two"):
            session.add(Datastore(team_id="T1", name=name, name_key=name, created_by="U1"))
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return make_sessionmaker(engine)


def put(sessions: sessionmaker[Session], pages: dict[str, str], datastore_id: int = 1) -> None:
    """Index ``{source_id: body}`` (the title is the source id)."""
    items = [
        (
            DocumentInput(
                source_id=sid,
                title=sid,
                url=f"https://acme.atlassian.net/wiki/x/{sid}",
                content_hash=content_hash(body),
            ),
            [ChunkInput(text=body)],
        )
        for sid, body in pages.items()
    ]
    with sessions.begin() as session:
        bulk_replace_documents(session, datastore_id, items)


def found(sessions: sessionmaker[Session], query: str, visible: Visibility, limit: int = 10) -> set[str]:
    with sessions() as session:
        return {hit.title for hit in search(session, datastore_id=1, query=query, visible=visible, limit=limit)}


def seen_by(sessions: sessionmaker[Session], principals: frozenset[str] | None) -> Visibility:
    if principals is None:  # not linked
        return visibility_for(AccessMode.EACH, None)
    with sessions() as session:
        return visibility_for(AccessMode.EACH, visible_acl_ids(session, datastore_id=1, principals=principals))


def test_acls_are_stored_once_per_datastore_and_bump_the_generation(sessions: sessionmaker[Session]) -> None:
    a, b = [["g:staff", "u:x"], ["g:hr"]], [["g:hr"], ["u:x", "g:staff", "u:x"]]  # one rule, two spellings
    assert acl_digest(a) == acl_digest(b) != acl_digest([["g:hr"]])
    with sessions.begin() as session:
        assert acl_generation(session, datastore_id=1) == 0
        first = ensure_acls(session, datastore_id=1, acls=[a, b, [["g:hr"]]])
        assert first[0] == first[1] != first[2]
        assert acl_generation(session, datastore_id=1) == 1
        assert ensure_acls(session, datastore_id=1, acls=[b]) == first[:1]  # nothing new: same generation
        assert acl_generation(session, datastore_id=1) == 1
        other = ensure_acls(session, datastore_id=2, acls=[a])  # per datastore
        assert other != first[:1] and acl_generation(session, datastore_id=2) == 1
        assert load_acls(session, datastore_id=1) == {
            first[0]: frozenset({frozenset({"g:staff", "u:x"}), frozenset({"g:hr"})}),
            first[2]: frozenset({frozenset({"g:hr"})}),
        }
        bad: Any
        for bad in ([], [[]], "g:hr", [["x" * 161]], [[""]]):
            with pytest.raises(ValueError):
                ensure_acls(session, datastore_id=1, acls=[bad])
    put(sessions, {"p1": "alpha", "p2": "beta", "p3": "gamma"})
    with sessions.begin() as session:
        with pytest.raises(ValueError, match="not ACLs of datastore 1"):
            assign_acls(session, datastore_id=1, assignments={"p1": other[0]}, checked_at=WHEN)
        assert assign_acls(session, datastore_id=1, assignments={"p1": first[0], "p2": first[0]}, checked_at=WHEN) == 2
        assert count_unknown_acl(session, datastore_id=1) == 1
        assert prune_unused_acls(session, datastore_id=1) == 1  # first[2]: no document has it
        assert acl_generation(session, datastore_id=1) == 2
        assert set(load_acls(session, datastore_id=1)) == {first[0]}
        assert prune_unused_acls(session, datastore_id=1) == 0 and acl_generation(session, datastore_id=1) == 2
        doc = session.scalars(select(Document).where(Document.source_id == "p1")).one()
        assert doc.acl_id == first[0] and doc.acl_checked_at == WHEN


def test_a_rolled_back_assignment_leaves_nothing(sessions: sessionmaker[Session]) -> None:
    put(sessions, {"p1": "alpha"})
    with sessions() as session:
        store_document_acls(session, datastore_id=1, acls={"p1": PAGES["open"]}, checked_at=WHEN)
        session.rollback()
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(AclRow)) == 0
        assert count_unknown_acl(session, datastore_id=1) == 1


def _restricted_world(sessions: sessionmaker[Session]) -> None:
    put(sessions, {sid: f"the zebra handbook, {sid} edition" for sid in PAGES})
    put(sessions, {"elsewhere": "zebra in another datastore"}, datastore_id=2)
    with sessions.begin() as session:
        assert store_document_acls(session, datastore_id=1, acls=PAGES, checked_at=WHEN) == len(PAGES)


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("alice", {"open", "direct", "child"}),
        ("bob", {"open"}),
        ("carol", {"open", "personal"}),
        ("outsider", set()),
        ("unlinked", set()),
    ],
)
def test_restricted_pages_are_hidden_from_others_and_shown_to_the_right_people(
    sessions: sessionmaker[Session], who: str, expected: set[str]
) -> None:
    _restricted_world(sessions)
    principals = {"alice": ALICE, "bob": BOB, "carol": CAROL, "outsider": OUTSIDER, "unlinked": None}[who]
    visible = seen_by(sessions, principals)
    assert not visible.is_everyone
    assert found(sessions, "zebra", visible) == expected
    assert found(sessions, "zebra handbook", visible) == expected  # the phrase form too
    with sessions() as session:
        assert count_hits(session, datastore_id=1, query="zebra", visible=visible) == len(expected)


def test_everyone_is_unchanged_and_shows_unknown_documents(sessions: sessionmaker[Session]) -> None:
    put(sessions, {sid: f"the zebra handbook, {sid} edition" for sid in PAGES})
    before = found(sessions, "zebra", Visibility.everyone())
    _restricted_world(sessions)
    assert found(sessions, "zebra", Visibility.everyone()) == before == set(PAGES)
    assert found(sessions, "zebra", visibility_for(AccessMode.EVERYONE, frozenset())) == set(PAGES)
    with sessions() as session:
        assert count_hits(session, datastore_id=1, query="zebra", visible=Visibility.everyone()) == len(PAGES)
        assert count_hits(session, datastore_id=1, query="zebra", visible=Visibility.everyone(), bound=2) == 2


def test_null_acl_is_hidden_even_from_someone_who_sees_every_acl(sessions: sessionmaker[Session]) -> None:
    _restricted_world(sessions)
    with sessions() as session:
        every_acl = frozenset(load_acls(session, datastore_id=1))
    assert found(sessions, "zebra", Visibility.acls(every_acl)) == set(PAGES) - {"unknown"}
    huge = Visibility.acls(every_acl | frozenset(range(10**6, 10**6 + 40_000)))  # past SQLite's variable limit
    assert found(sessions, "zebra", huge) == set(PAGES) - {"unknown"}
    with sessions() as session:
        assert count_hits(session, datastore_id=1, query="zebra", visible=huge) == len(PAGES) - 1


def test_an_empty_set_returns_nothing_before_any_sql(engine: Engine, sessions: sessionmaker[Session]) -> None:
    _restricted_world(sessions)
    statements: list[str] = []

    def record(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", record)
    try:
        with sessions() as session:
            assert search(session, datastore_id=1, query="zebra", visible=Visibility.acls(frozenset())) == []
            assert count_hits(session, datastore_id=1, query="zebra", visible=Visibility.acls(frozenset())) == 0
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert statements == []


def test_common_words_under_the_filter(sessions: sessionmaker[Session]) -> None:
    """Past the common-word bound the tier (title/heading matches) is ranked first; hidden documents must
    not fill it, and the visible ones with the word only in their body must still come back."""
    pages = {f"lorem secret {n}": "lorem ipsum dolor" for n in range(2100)}  # word in title: the tier
    pages.update({f"open {n}": "lorem ipsum dolor sit amet" for n in range(7)})  # body only
    put(sessions, pages)
    acls = {sid: effective_acl(SPACE, [HR]) if sid.startswith("lorem") else effective_acl(SPACE) for sid in pages}
    with sessions.begin() as session:
        store_document_acls(session, datastore_id=1, acls=acls, checked_at=WHEN)
    bob, alice = seen_by(sessions, BOB), seen_by(sessions, ALICE)
    assert found(sessions, "lorem", bob, limit=5) <= {f"open {n}" for n in range(7)}
    assert len(found(sessions, "lorem", bob, limit=5)) == 5
    assert found(sessions, "lorem", bob, limit=20) == {f"open {n}" for n in range(7)}
    assert all(title.startswith("lorem secret") for title in found(sessions, "lorem", alice, limit=5))
    with sessions() as session:
        assert count_hits(session, datastore_id=1, query="lorem", visible=bob) == 7
        assert count_hits(session, datastore_id=1, query="lorem ipsum", visible=bob) == 7
        assert count_hits(session, datastore_id=1, query="lorem", visible=alice) == 1000  # the bound
