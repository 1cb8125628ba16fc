"""The tiers of a common word (storage.search_pg on PostgreSQL, the FTS5 column filter on SQLite), on both
backends: past the common bound, a title hit is never dropped for the thousands of heading matches a bounded
tier ranks in index order, a phrase in a title ranks first, and every tier applies the same ACL filter (hidden
and unknown documents stay out, however many matches there are)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from bot.access.filter import store_document_acls, visibility_for, visible_acl_ids
from bot.access.model import AccessMode, Acl, effective_acl, group_key, person_principals
from storage import search_pg
from storage.db import make_engine, make_sessionmaker
from storage.migrate import upgrade_to_head
from storage.models import Datastore
from storage.search import Visibility, search
from storage.search_index import ChunkInput, DocumentInput, bulk_replace_documents, content_hash
from tests.storage.test_acl_search import WHEN

SPACE = [group_key("staff")]
HR = group_key("hr")
ALICE = person_principals("alice", ["staff", "hr"])
BOB = person_principals("bob", ["staff"])
FILLER = 2100  # past both backends' common bounds (SQLite 2,000 chunks, PostgreSQL search_pg.COMMON_MATCHES)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    upgrade_to_head(engine)
    with make_sessionmaker(engine).begin() as session:
        session.add(Datastore(team_id="T1", name="one", name_key="one", created_by="U1"))
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return make_sessionmaker(engine)


def page(source_id: str, title: str, body: str, heading: str = "") -> tuple[DocumentInput, list[ChunkInput]]:
    url = f"https://acme.atlassian.net/wiki/x/{source_id}"
    return DocumentInput(source_id, title, url, content_hash(body)), [ChunkInput(text=body, heading=heading)]


def index(sessions: sessionmaker[Session], pages: list[tuple[DocumentInput, list[ChunkInput]]]) -> None:
    with sessions.begin() as session:
        bulk_replace_documents(session, 1, pages)


def heading_filler(prefix: str = "p") -> list[tuple[DocumentInput, list[ChunkInput]]]:
    """Many more heading matches than the bounded heading tier ranks, all in the index before what follows."""
    return [
        page(f"{prefix}{n}", f"Page {n}", "deployment deployment incident runbook notes", "Deployment incident runbook")
        for n in range(FILLER)
    ]


def titles(sessions: sessionmaker[Session], query: str, visible: Visibility, limit: int = 5) -> list[str]:
    with sessions() as session:
        return [hit.title for hit in search(session, datastore_id=1, query=query, visible=visible, limit=limit)]


def seen_by(sessions: sessionmaker[Session], principals: frozenset[str]) -> Visibility:
    with sessions() as session:
        return visibility_for(AccessMode.EACH, visible_acl_ids(session, datastore_id=1, principals=principals))


def analyze(engine: Engine) -> None:
    """On PostgreSQL, statistics: the planner's estimate then says "common" without the bounded count."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("ANALYZE chunks"))
            connection.execute(text("ANALYZE documents"))


def test_the_bench_sized_filler_is_past_the_postgresql_bounds() -> None:
    assert search_pg.TIER_BOUND < FILLER and search_pg.COMMON_MATCHES < FILLER


def test_a_title_hit_is_never_dropped_for_heading_matches(engine: Engine, sessions: sessionmaker[Session]) -> None:
    """The title-only match is indexed last, so a tier that ranked only the first heading matches in index
    order (or only chunks) would never reach it."""
    index(sessions, [*heading_filler(), page("guide", "Deployment handbook", "how we ship")])
    everyone = Visibility.everyone()
    assert titles(sessions, "deployment", everyone)[0] == "Deployment handbook"
    analyze(engine)
    found = titles(sessions, "deployment", everyone)
    assert found[0] == "Deployment handbook" and len(found) == 5 and len(set(found)) == 5


def test_a_phrase_in_a_title_ranks_first(engine: Engine, sessions: sessionmaker[Session]) -> None:
    index(
        sessions,
        [
            *heading_filler(),
            page("loose", "Runbook for every incident", "notes"),
            page("exact", "Incident runbook", "notes"),
        ],
    )
    analyze(engine)
    found = titles(sessions, "incident runbook", Visibility.everyone())
    assert found[0] == "Incident runbook" and len(found) == 5  # the phrase beats the same words apart


def test_every_tier_hides_what_the_acl_hides(engine: Engine, sessions: sessionmaker[Session]) -> None:
    """All heading matches but the last few are restricted to HR; a restricted title match and one with an
    unknown ACL are there too. Bob sees only the open ones (from whichever tier), Alice the HR title first."""
    opened = [page(f"open{n}", f"Open {n}", "a deployment note", "Deployment") for n in range(3)]
    body_only = [page(f"body{n}", f"Body {n}", "deployment in the text only") for n in range(2)]
    pages = [
        *heading_filler("hr"),
        page("secret", "Deployment secrets", "hr only"),
        page("unknown", "Deployment unknown", "facts could not be read"),
        *opened,
        *body_only,
    ]
    index(sessions, pages)
    acls: dict[str, Acl | None] = {doc.source_id: effective_acl(SPACE, [HR]) for doc, _ in heading_filler("hr")}
    acls.update({"secret": effective_acl(SPACE, [HR]), "unknown": None})
    acls.update({doc.source_id: effective_acl(SPACE) for doc, _ in (*opened, *body_only)})
    with sessions.begin() as session:
        store_document_acls(session, datastore_id=1, acls=acls, checked_at=WHEN)
    for _ in range(2):  # by the bounded count, then (PostgreSQL) by the planner's estimate
        bob, alice = seen_by(sessions, BOB), seen_by(sessions, ALICE)
        assert set(titles(sessions, "deployment", bob, limit=20)) == {"Open 0", "Open 1", "Open 2", "Body 0", "Body 1"}
        assert len(titles(sessions, "deployment", bob, limit=3)) == 3
        found = titles(sessions, "deployment", alice, limit=20)
        assert found[0] == "Deployment secrets" and "Deployment unknown" not in found and len(found) == 20
        assert "Deployment unknown" in titles(sessions, "deployment", Visibility.everyone(), limit=5)
        analyze(engine)
