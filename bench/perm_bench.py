"""``python -m bench.perm_bench``: search latency under per-person ACL filters (issue #12 steps 2 and 5).

A synthetic index (no sync: documents go straight in through ``bulk_replace_documents``) of ``--pages`` pages
in 20 spaces, 4 chunks of ~150 words each (shared words every page has, a Zipf vocabulary, one unique tag per
page). 30% of the pages are restricted: a third by their own restriction, two thirds only through one or two
restricted ancestors, drawn from a pool of restriction clauses (a group and two people each), so there are a
few hundred distinct ACLs as in design note §1.5. Three personas search the same queries:

* ``all``: on staff and in every restricting group, sees every page;
* ``typical``: on staff only, sees the 70% that are unrestricted;
* ``narrow``: not on staff, a member of two spaces' groups only, sees ~7%.

plus ``everyone`` (no filter) as today's baseline. Each persona's visible ACL ids are computed once (the
design caches them per generation) and that cost is printed too. Then each persona searches as the bot serves
it (bench.perm_live): served from synced ACLs, and with a live check at ``--latency-ms`` (50) per Confluence
request, with the points each check costs. Numbers only: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from bench.perm_live import measure_person_search
from bench.stats import percentile
from bot.access.filter import store_document_acls, stored_acls, visibility_for
from bot.access.model import AccessMode, Acl, effective_acl, group_key, person_principals, user_key, visible_acls
from storage.db import make_engine, make_sessionmaker
from storage.migrate import upgrade_to_head
from storage.models import Datastore
from storage.search import Visibility, search
from storage.search_index import ChunkInput, DocumentInput, bulk_replace_documents, content_hash

SPACES = 20
CLAUSE_POOL = 300
SHARED = (
    "deployment roadmap onboarding incident runbook kubernetes latency postgres migration retrospective budget "
    "quarterly architecture gateway compliance observability rollout backlog customer escalation dashboard"
).split()
COMMON_QUERIES = ("deployment", "customer", "migration", "incident runbook", "quarterly budget")
ADJECTIVES = "amber brisk cobalt dusty eager frosty golden hollow ivory jolly".split()
NOUNS = "falcon harbor lantern meadow orchard prism quarry summit tundra willow".split()
WHEN = datetime(2026, 12, 1, tzinfo=UTC)


def _vocabulary(rng: random.Random, size: int = 5000) -> tuple[list[str], list[float]]:
    words = ["".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=rng.randint(4, 9))) for _ in range(size)]
    return words, [1.0 / (rank + 1) for rank in range(size)]


def tag(n: int) -> str:
    return f"qx{n:06d}tag"


def _pages(count: int, rng: random.Random) -> Iterator[tuple[DocumentInput, list[ChunkInput]]]:
    words, weights = _vocabulary(rng)
    for n in range(count):
        chunks = []
        for part in range(4):
            body = rng.choices(words, weights, k=90) + rng.choices(SHARED, k=60)
            if part == 1:
                body.insert(rng.randrange(len(body)), tag(n))
            heading = " ".join(rng.sample(SHARED, 2)).capitalize()  # as in Confluence: headings use common words
            chunks.append(ChunkInput(text=" ".join(body), heading=heading))
        title = f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)} {n}"
        url = f"https://acme.atlassian.net/wiki/x/{n}"
        yield DocumentInput(source_id=str(n), title=title, url=url, content_hash=content_hash(title)), chunks


def _acls(count: int, restricted: float, rng: random.Random) -> dict[str, Acl]:
    """Each page's ACL: its space's clause and, for ``restricted`` of them, the restriction of one of its
    space's restricted subtrees (design §1.2: restrictions cluster; 10k pages have ~600-1,000 distinct ACLs):
    per space 15 own restrictions and 25 ancestor chains of one or two clauses, drawn from a shared pool."""
    pool = [[group_key(f"r{j}"), user_key(f"r{j}a"), user_key(f"r{j}b")] for j in range(CLAUSE_POOL)]
    subtrees = [
        [[rng.choice(pool)] for _ in range(15)] + [rng.sample(pool, rng.choice((1, 2))) for _ in range(25)]
        for _ in range(SPACES)
    ]
    acls: dict[str, Acl] = {}
    for n in range(count):
        space = [group_key("staff"), group_key(f"space{n % SPACES}")]
        roll = rng.random()
        if roll >= restricted:
            acls[str(n)] = effective_acl(space)
        else:
            clauses = rng.choice(subtrees[n % SPACES])
            acls[str(n)] = effective_acl(space, clauses[0], clauses[1:])  # own, then restricted ancestors
    return acls


PERSONAS = {
    "all": person_principals("boss", ["staff", *(f"r{j}" for j in range(CLAUSE_POOL))]),
    "typical": person_principals("ann", ["staff"]),
    "narrow": person_principals("guest", ["space3", "space7"]),
}


def build(url: str, pages: int, restricted: float, seed: int = 12) -> tuple[Any, int, dict[str, Acl]]:
    engine = make_engine(url)
    upgrade_to_head(engine)
    sessions = make_sessionmaker(engine)
    rng = random.Random(seed)
    with sessions.begin() as session:
        datastore = Datastore(team_id="T1", name="bench", name_key="bench", created_by="U1")
        session.add(datastore)
        session.flush()
        datastore_id = datastore.id
    batch: list[tuple[DocumentInput, list[ChunkInput]]] = []
    for item in _pages(pages, rng):
        batch.append(item)
        if len(batch) == 500:
            with sessions.begin() as session:
                bulk_replace_documents(session, datastore_id, batch)
            batch = []
    if batch:
        with sessions.begin() as session:
            bulk_replace_documents(session, datastore_id, batch)
    acls = _acls(pages, restricted, rng)
    with sessions.begin() as session:
        store_document_acls(session, datastore_id=datastore_id, acls=dict(acls), checked_at=WHEN)
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))
    return engine, datastore_id, acls


def queries(pages: int, rng: random.Random) -> list[str]:
    picked = rng.sample(range(pages), 12)
    return (
        [tag(n) for n in picked] + list(COMMON_QUERIES) + [f"{a} {b}" for a, b in zip(ADJECTIVES, NOUNS, strict=True)]
    )


def measure(session: Session, datastore_id: int, visible: Visibility, wanted: list[str], rounds: int) -> dict[str, Any]:
    samples: list[float] = []
    slowest: dict[str, float] = {}
    hits = 0
    for round_no in range(rounds + 1):  # the first round warms the caches and is dropped
        for query in wanted:
            started = time.perf_counter()
            found = search(session, datastore_id=datastore_id, query=query, visible=visible, limit=5)
            elapsed = (time.perf_counter() - started) * 1000
            if round_no:
                samples.append(elapsed)
                slowest[query] = max(slowest.get(query, 0.0), elapsed)
                hits += len(found)
    worst = max(slowest, key=slowest.__getitem__) if slowest else ""
    return {
        "p50_ms": percentile(samples, 50),
        "p95_ms": percentile(samples, 95),
        "hits_per_round": hits // max(1, rounds),
        "slowest_query": worst,
        "slowest_ms": slowest.get(worst, 0.0),
    }


def run(url: str, backend: str, pages: int, restricted: float, rounds: int, latency: float = 0.05) -> dict[str, Any]:
    started = time.perf_counter()
    engine, datastore_id, acls = build(url, pages, restricted)
    result: dict[str, Any] = {"backend": backend, "pages": pages, "build_seconds": time.perf_counter() - started}
    wanted = queries(pages, random.Random(99))
    sessions = make_sessionmaker(engine)
    try:
        with sessions() as session:
            total = session.scalar(text("SELECT count(*) FROM documents WHERE datastore_id = :d"), {"d": datastore_id})
            result["acls"] = session.scalar(
                text("SELECT count(*) FROM acls WHERE datastore_id = :d"), {"d": datastore_id}
            )
            result["everyone"] = measure(session, datastore_id, Visibility.everyone(), wanted, rounds)
            for name, principals in PERSONAS.items():
                t0 = time.perf_counter()
                stored = stored_acls(session, datastore_id=datastore_id)  # cached per generation (design §1.5)
                t1 = time.perf_counter()
                ids = visible_acls(stored, principals)  # cached per (generation, principals version)
                load_ms, acl_ms = (t1 - t0) * 1000, (time.perf_counter() - t1) * 1000
                visible = visibility_for(AccessMode.EACH, ids)
                shown = session.scalar(
                    text("SELECT count(*) FROM documents WHERE datastore_id = :d AND acl_id IN :ids").bindparams(
                        bindparam("ids", expanding=True)
                    ),
                    {"d": datastore_id, "ids": sorted(ids) or [-1]},
                )
                row = measure(session, datastore_id, visible, wanted, rounds)
                row.update(
                    {
                        "visible_fraction": (shown or 0) / max(1, total or 0),
                        "visible_acls_ms": acl_ms,
                        "load_acls_ms": load_ms,
                    }
                )
                result[name] = row
        for name, principals in PERSONAS.items():  # as the bot serves it: cache, filter, live check
            result[name]["person"] = measure_person_search(
                url, datastore_id, acls, principals, wanted, checked_at=WHEN, rounds=rounds, latency=latency
            )
    finally:
        engine.dispose()
    return result


@contextmanager
def _postgres(base: str) -> Iterator[str]:
    schema = f"perm_bench_{int(time.time())}"
    admin = create_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield (
            make_url(base)
            .update_query_dict({"options": f"-csearch_path={schema}"})
            .render_as_string(hide_password=False)
        )
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def table(results: list[dict[str, Any]], latency_ms: float = 50) -> str:
    lines = [
        "| Backend | Persona | Sees | p50 ms | p95 ms | slowest query (ms) | load ACLs ms | visible ACLs ms |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for result in results:
        for name in ("everyone", *PERSONAS):
            row = result[name]
            sees = f"{row['visible_fraction']:.0%}" if "visible_fraction" in row else "all (no filter)"
            acl_ms = (
                f"{row['load_acls_ms']:.1f} | {row['visible_acls_ms']:.2f}" if "visible_acls_ms" in row else "– | –"
            )
            worst = f"{row['slowest_query']} ({row['slowest_ms']:.1f})"
            lines.append(
                f"| {result['backend']} | {name} | {sees} | {row['p50_ms']:.2f} | {row['p95_ms']:.2f} | {worst} "
                f"| {acl_ms} |"
            )
    lines += [
        "",
        f"Per-person search as served (PersonSearch: cache, filter, freshness; a live check at {latency_ms} ms):",
        "| Backend | Persona | served p50 ms | served p95 ms | checked p50 ms | checked p95 ms | points/check (max) "
        "| requests/check |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for result in results:
        for name in PERSONAS:
            served, checked = result[name]["person"]["served"], result[name]["person"]["checked"]
            lines.append(
                f"| {result['backend']} | {name} | {served['p50_ms']:.2f} | {served['p95_ms']:.2f} "
                f"| {checked['p50_ms']:.2f} | {checked['p95_ms']:.2f} "
                f"| {checked['points_per_answer']:.1f} ({checked['max_points']}) "
                f"| {checked['requests_per_answer']:.2f} |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.perm_bench", description=__doc__)
    parser.add_argument("--pages", type=int, default=10_000)
    parser.add_argument("--restricted", type=float, default=0.3, help="share of restricted pages")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--postgres", metavar="URL", help="also measure on this PostgreSQL (a scratch schema)")
    parser.add_argument("--json", type=Path, help="write the results as JSON here")
    parser.add_argument("--latency-ms", type=float, default=50.0, help="the live check's Confluence latency")
    args = parser.parse_args(argv)
    results = []
    latency = args.latency_ms / 1000
    with tempfile.TemporaryDirectory() as workdir:
        url = f"sqlite:///{workdir}/perm.db"
        results.append(run(url, "sqlite", args.pages, args.restricted, args.rounds, latency))
    if args.postgres:
        with _postgres(args.postgres) as url:
            results.append(run(url, "postgresql", args.pages, args.restricted, args.rounds, latency))
    print(table(results, args.latency_ms))
    print(", ".join(f"{r['backend']}: {r['acls']} distinct ACLs, built in {r['build_seconds']:.0f} s" for r in results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
