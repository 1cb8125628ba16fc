from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

import storage.documents  # noqa: F401 - registers the document models on Base (until storage.models imports it)
from storage.db import make_engine, make_sessionmaker
from storage.documents import Chunk, Document
from storage.migrate import upgrade_to_head
from storage.models import Base, Datastore
from storage.search import Visibility, search
from storage.search_index import (
    ChunkInput,
    DocumentInput,
    alembic_include_name,
    bulk_replace_documents,
    clear_failure,
    content_hash,
    count_documents,
    counts_by_space,
    delete_datastore_documents,
    delete_documents,
    document_versions,
    list_failures,
    record_failure,
    replace_document,
)

WHEN = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def sessions(database_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(database_url)
    upgrade_to_head(engine)
    factory = make_sessionmaker(engine)
    with factory.begin() as session:
        for name in ("one", "two"):
            session.add(Datastore(team_id="T1", name=name, name_key=name, created_by="U1"))
    yield factory
    engine.dispose()


def doc(source_id: str, title: str, *, version: int = 1, space_key: str = "ENG") -> DocumentInput:
    return DocumentInput(
        source_id=source_id,
        title=title,
        url=f"https://acme.atlassian.net/wiki/spaces/{space_key}/pages/{source_id}",
        content_hash=content_hash(title + str(version)),
        version=version,
        space_id="100",
        space_key=space_key,
        space_name="Engineering",
        last_modified=WHEN,
    )


def put(
    factory: sessionmaker[Session], source_id: str, title: str, *texts: str, datastore_id: int = 1, version: int = 1
) -> int:
    with factory.begin() as session:
        chunks = [ChunkInput(text=body, heading=f"Part {i}") for i, body in enumerate(texts)]
        document = doc(source_id, title, version=version)
        return replace_document(session, datastore_id=datastore_id, doc=document, chunks=chunks).id


def titles(factory: sessionmaker[Session], query: str, datastore_id: int = 1) -> list[str]:
    with factory() as session:
        return [
            hit.title for hit in search(session, visible=Visibility.everyone(), datastore_id=datastore_id, query=query)
        ]


def test_migration_matches_the_document_models_apart_from_the_search_index(sessions: sessionmaker[Session]) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    ours = {"documents", "chunks", "document_failures", "chunks_fts"}

    def include_name(name: str | None, type_: str, parents: dict[str, str | None]) -> bool:
        if type_ == "schema":
            return True
        table = name if type_ == "table" else parents.get("table_name")
        return bool(table and table.startswith(tuple(ours))) and alembic_include_name(name, type_, parents)

    def include_object(obj: object, name: str | None, type_: str, reflected: bool, other: object) -> bool:
        return type_ != "table" or name in ours

    with sessions() as session:
        opts = {"compare_type": True, "include_name": include_name, "include_object": include_object}
        assert compare_metadata(MigrationContext.configure(session.connection(), opts=opts), Base.metadata) == []


def test_replace_is_atomic_and_never_mixes_old_and_new_chunks(sessions: sessionmaker[Session]) -> None:
    first = put(sessions, "1", "Deploy guide", "Use the blue pipeline for kangaroo releases.", "More words here.")
    assert titles(sessions, "kangaroo") == ["Deploy guide"]
    with sessions() as session:
        replace_document(session, datastore_id=1, doc=doc("1", "Deploy guide v2", version=2), chunks=[])
        session.rollback()
    assert titles(sessions, "kangaroo") == ["Deploy guide"]
    second = put(sessions, "1", "Deploy guide v2", "Now we use the green pipeline for wombat releases.", version=2)
    assert second == first
    assert titles(sessions, "kangaroo") == []
    assert titles(sessions, "wombat") == ["Deploy guide v2"]
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Chunk)) == 1
        assert document_versions(session, datastore_id=1) == {"1": (2, content_hash("Deploy guide v22"))}
        stored = session.get(Document, first)
        assert stored is not None and stored.last_modified == WHEN and stored.version == 2


def test_deletes_cascade_to_chunks_and_the_index(sessions: sessionmaker[Session]) -> None:
    put(sessions, "1", "Alpha", "shared marmot text")
    put(sessions, "2", "Beta", "shared marmot text")
    put(sessions, "3", "Gamma", "shared marmot text", datastore_id=2)
    with sessions.begin() as session:
        assert delete_documents(session, datastore_id=1, source_ids=["1", "missing"]) == 1
    assert titles(sessions, "marmot") == ["Beta"]
    with sessions.begin() as session:
        record_failure(session, datastore_id=1, source_id="9", title="Broken", reason="403")
        assert delete_datastore_documents(session, datastore_id=1) == 1
        assert count_documents(session, datastore_id=1) == 0
        assert list_failures(session, datastore_id=1) == []
    assert titles(sessions, "marmot") == []
    assert titles(sessions, "marmot", datastore_id=2) == ["Gamma"]
    with sessions.begin() as session:  # a datastore deleted outright takes everything with it
        session.execute(text("DELETE FROM datastores WHERE id = 2"))
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Chunk)) == 0
        if session.get_bind().dialect.name == "sqlite":
            session.execute(text("INSERT INTO chunks_fts(chunks_fts, rank) VALUES ('integrity-check', 1)"))
            assert (
                session.execute(text("SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH 'marmot'")).scalar() == 0
            )


def test_title_match_beats_a_passing_mention(sessions: sessionmaker[Session]) -> None:
    put(sessions, "1", "Lunch menu", "On Friday someone mentioned the onboarding checklist in passing. " * 3)
    put(sessions, "2", "Onboarding checklist", "Steps for a new hire: laptop, accounts, buddy.")
    put(sessions, "3", "Unrelated", "Nothing to see here.")
    assert titles(sessions, "onboarding checklist") == ["Onboarding checklist", "Lunch menu"]


def test_one_hit_per_document_with_its_best_chunk(sessions: sessionmaker[Session]) -> None:
    put(sessions, "1", "Runbook", "general notes", "the falcon service restarts the falcon workers", "falcon")
    with sessions() as session:
        hits = search(session, visible=Visibility.everyone(), datastore_id=1, query="falcon workers")
    assert len(hits) == 1
    assert "*falcon" in hits[0].snippet and "workers*" in hits[0].snippet and "general" not in hits[0].snippet
    assert hits[0].space_key == "ENG" and hits[0].space_name == "Engineering" and hits[0].last_modified == WHEN
    assert hits[0].url.endswith("/pages/1")


def test_every_word_must_match_and_phrases_rank_higher(sessions: sessionmaker[Session]) -> None:
    put(sessions, "1", "Scattered", "The release went out. Later a different train departed.")
    put(sessions, "2", "Together", "The release train departs on Tuesdays after the review.")
    put(sessions, "3", "Half", "A release without the other word.")
    assert titles(sessions, "release train") == ["Together", "Scattered"]
    assert titles(sessions, '"release train"')[0] == "Together"


@pytest.mark.parametrize(
    ("query", "expected"),
    [("Zürich", "Offices"), ("zurich", "Offices"), ("ZÜRICH", "Offices"), ("cafe", "Offices"), ("東京", "Offices")],
)
def test_non_ascii_words_are_found(sessions: sessionmaker[Session], query: str, expected: str) -> None:
    put(sessions, "1", "Offices", "Our teams sit in Zürich and 東京 , and the café opens at eight.")
    put(sessions, "2", "Other", "Zurigo is not the same word.")
    assert titles(sessions, query) == [expected]


def test_snippets_mark_matches_in_slack_bold_and_escape_markup(sessions: sessionmaker[Session]) -> None:
    put(sessions, "1", "Tips", "Use **bold** & <angle> brackets; the `pelican` command prints List<String>.")
    with sessions() as session:
        [hit] = search(session, visible=Visibility.everyone(), datastore_id=1, query="pelican")
    assert "*pelican*" in hit.snippet
    assert "&amp;" in hit.snippet and "&lt;angle&gt;" in hit.snippet and "**" not in hit.snippet
    assert "List&lt;String" in hit.snippet
    assert titles(sessions, "angle") == titles(sessions, "String") == ["Tips"]


@pytest.mark.parametrize(
    "query",
    ['"', '""', "AND OR NOT", "*", "-foo", "title:x", "NEAR(", 'foo" OR "bar', "a*", "(", "^x", "{title}: x", "\x00"],
)
def test_hostile_queries_return_normally(sessions: sessionmaker[Session], query: str) -> None:
    put(sessions, "1", "Syntax", "foo bar and or not near title x")
    with sessions() as session:
        hits = search(session, visible=Visibility.everyone(), datastore_id=1, query=query)
    assert all(hit.title == "Syntax" for hit in hits)


def test_operators_are_searched_as_words(sessions: sessionmaker[Session]) -> None:
    put(sessions, "1", "Syntax", "foo bar and or not near title x")
    put(sessions, "2", "Other", "bar only")
    assert titles(sessions, "-foo") == ["Syntax"]
    assert titles(sessions, "title:x") == ["Syntax"]
    assert titles(sessions, "bar OR zebra") == []  # OR is a word here, not an operator
    assert titles(sessions, "bar NOT foo") == ["Syntax"]  # and so is NOT


def test_empty_queries_return_nothing(sessions: sessionmaker[Session]) -> None:
    put(sessions, "1", "Anything", "words")
    for query in ("", "   ", "\n\t", "*", "- : !"):
        assert titles(sessions, query) == []


def test_search_is_scoped_to_one_datastore(sessions: sessionmaker[Session]) -> None:
    put(sessions, "1", "Ours", "narwhal", datastore_id=1)
    put(sessions, "1", "Theirs", "narwhal", datastore_id=2)
    assert titles(sessions, "narwhal", datastore_id=1) == ["Ours"]
    assert titles(sessions, "narwhal", datastore_id=2) == ["Theirs"]


def test_failures_are_recorded_replaced_and_cleared(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        record_failure(session, datastore_id=1, source_id="7", title="Big page", reason="timeout")
        record_failure(session, datastore_id=1, source_id="7", title="Big page", reason="HTTP 500")
        record_failure(session, datastore_id=1, source_id="8", title=None, reason="forbidden")
    with sessions.begin() as session:
        assert sorted((f.source_id, f.reason) for f in list_failures(session, datastore_id=1)) == [
            ("7", "HTTP 500"),
            ("8", "forbidden"),
        ]
        assert clear_failure(session, datastore_id=1, source_id="8") is True
        assert clear_failure(session, datastore_id=1, source_id="8") is False
    put(sessions, "7", "Big page", "finally indexed")
    with sessions() as session:
        assert list_failures(session, datastore_id=1) == []


def test_counts_by_space_are_per_space_and_kind_of_one_datastore(sessions: sessionmaker[Session]) -> None:
    placed = [("1", "100", "page"), ("2", "100", "page"), ("3", "100", "blogpost"), ("4", "200", "page")]
    with sessions.begin() as session:
        items: list[tuple[DocumentInput, list[ChunkInput]]] = [
            (replace(doc(n, f"Doc {n}"), space_id=space, kind=kind), []) for n, space, kind in placed
        ]
        bulk_replace_documents(session, 1, items)
        bulk_replace_documents(session, 2, [(doc("9", "Elsewhere"), [])])
    with sessions() as session:
        expected = {("100", "page"): 2, ("100", "blogpost"): 1, ("200", "page"): 1}
        assert counts_by_space(session, datastore_id=1) == expected
        assert counts_by_space(session, datastore_id=3) == {}


def test_bulk_indexing_smoke(sessions: sessionmaker[Session]) -> None:
    body = "lorem ipsum dolor sit amet " * 50
    items = [
        (doc(str(n), f"Page {n}"), [ChunkInput(text=f"{body} token{n} part{p}", heading=f"H{p}") for p in range(4)])
        for n in range(500)
    ]
    with sessions.begin() as session:
        ids = bulk_replace_documents(session, 1, items[:250])
        ids.update(bulk_replace_documents(session, 1, items[200:]))  # overlaps: 50 documents replaced
    assert len(ids) == 500
    with sessions() as session:
        assert count_documents(session, datastore_id=1) == 500
        assert session.scalar(select(func.count()).select_from(Chunk)) == 2000
        assert [
            hit.title for hit in search(session, visible=Visibility.everyone(), datastore_id=1, query="token217")
        ] == ["Page 217"]
        assert len(search(session, visible=Visibility.everyone(), datastore_id=1, query="lorem ipsum", limit=10)) == 10
        assert len(document_versions(session, datastore_id=1)) == 500


def test_a_document_with_many_matching_chunks_does_not_crowd_out_others(sessions: sessionmaker[Session]) -> None:
    put(sessions, "big", "Heron handbook", *["heron heron heron heron" for _ in range(60)])
    for n in range(6):
        put(sessions, str(n), f"Note {n}", f"a heron was seen {n}")
    found = titles(sessions, "heron")
    assert len(found) == 5 and found[0] == "Heron handbook"


def test_numbers_match_text_not_the_datastore_scope(sessions: sessionmaker[Session]) -> None:
    put(sessions, "1", "Plain", "nothing numeric here", datastore_id=1)
    put(sessions, "2", "Version", "release 2 is out", datastore_id=2)
    assert titles(sessions, "1") == []
    assert titles(sessions, "2", datastore_id=1) == []
    assert titles(sessions, "2", datastore_id=2) == ["Version"]


def test_a_word_on_most_pages_ranks_title_and_heading_matches_first(sessions: sessionmaker[Session]) -> None:
    """Past 2,000 matching chunks the SQLite index ranks title/heading matches first (a bounded tier)."""
    with sessions.begin() as session:
        filler = "deployment deployment rollout notes " * 3
        batch = [(doc(f"p{i}", f"Page {i}"), [ChunkInput(text=filler, heading="")]) for i in range(2100)]
        batch.append((doc("about", "Deployment guide"), [ChunkInput(text="how we ship with a deployment", heading="")]))
        batch.append((doc("steps", "Runbook"), [ChunkInput(text="first deployment step", heading="Deployment")]))
        bulk_replace_documents(session, 1, batch)
    found = titles(sessions, "deployment")
    assert found[:2] == ["Deployment guide", "Runbook"] and len(found) == 5
    assert titles(sessions, "rollout")[0].startswith("Page ")  # in no title or heading: every match is ranked
    assert titles(sessions, "deployment", datastore_id=2) == []


def test_failures_keep_kind_and_space_for_a_retry_and_go_with_the_page(sessions: sessionmaker[Session]) -> None:
    from storage.search_index import delete_documents_outside, failed_items

    with sessions.begin() as session:
        record_failure(session, datastore_id=1, source_id="7", title="Broken", reason="500", kind="page", space_id="S1")
        record_failure(session, datastore_id=1, source_id="8", title="Older", reason="500")  # recorded before kinds
        assert failed_items(session, datastore_id=1) == [("7", "page", "S1", "Broken")]
        delete_documents(session, datastore_id=1, source_ids=["7"])  # gone in Confluence: nothing to retry
        assert failed_items(session, datastore_id=1) == []
    put(sessions, "1", "Alpha", "kept words")  # in space 100
    put(sessions, "2", "Beta", "kept words")
    with sessions.begin() as session:
        session.execute(text("UPDATE documents SET space_id = NULL WHERE source_id = '2'"))  # stored before spaces
        assert delete_documents_outside(session, datastore_id=1, space_ids=["100"]) == []
        assert delete_documents_outside(session, datastore_id=1, space_ids=["S1"]) == ["1"]  # 100 no longer chosen
    assert titles(sessions, "kept") == ["Beta"]  # a document without its space waits for a complete listing
