"""``python -m bench.perm_pass_bench``: the Atlassian points and speed of one permission pass (issue #12 step 3).

A fake Confluence site (demo/fakes/atlassian, real sockets) of ``--pages`` pages in ``--spaces`` spaces with
people and groups, ``--restricted`` % of the pages restricted by ``perm_corpus.restrict_corpus`` (direct group
restrictions, inherited ones and single-person ones; the connecting account is on every restriction, as a sync
account is). The datastore's documents go straight into the database (no sync: a pass reads permissions, not
bodies), then one full pass runs through the PermissionLane of a 65,000 points/hour budget (on a simulated
clock: when the lane is spent the pass waits for it to refill), optionally with
``--latency`` seconds per Atlassian answer. Printed: points per page (as the fake counts them, and as the lane
was charged), requests, pages per second, and the cadence the lane gives such passes. Numbers only.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bot.access.facts import next_pass_in
from bot.access.model import AccessMode
from bot.access.passes import PermissionPasses
from bot.atlassian.oauth import AtlassianOAuth
from bot.atlassian.tokens import TokenManager
from bot.confluence.budget import PermissionLane, RequestBudget
from bot.crypto import generate_key
from bot.services import build_services
from bot.settings import Settings
from demo.fakes.atlassian import FakeAtlassian, OAuthApp, SiteSpec
from demo.fakes.atlassian.perm_corpus import populate_people, restrict_corpus
from storage.migrate import upgrade_to_head
from storage.models import Datastore, utcnow
from storage.permission_passes import PassOutcome, PermissionPass
from storage.search_index import ChunkInput, DocumentInput, bulk_replace_documents, content_hash
from tests.harness import add_connected_datastore

POINTS_PER_HOUR = 65_000


def _documents(fake: FakeAtlassian) -> list[tuple[DocumentInput, list[ChunkInput]]]:
    site = fake.site
    out = []
    for item in sorted(site.content.values(), key=lambda c: c.id):
        space = site.spaces[item.space_id]
        doc = DocumentInput(
            source_id=str(item.id),
            title=item.title,
            url=f"{fake.hosted.wiki_base}/x/{item.id}",
            content_hash=content_hash(item.title),
            kind=item.kind,
            space_id=str(space.id),
            space_key=space.key,
            space_name=space.name,
        )
        out.append((doc, [ChunkInput(text=item.title, heading="")]))
    return out


def run(pages: int, spaces: int, restricted: float, latency: float, database_url: str) -> dict[str, Any]:
    per_space = max(1, math.ceil(pages / spaces))
    app = OAuthApp(client_id="cid", client_secret="secret", redirect_uris=("http://127.0.0.1:1/cb",))
    spec = SiteSpec(spaces=spaces, pages_per_space=per_space, blogposts_per_space=0, body_bytes=100, users=40)
    with FakeAtlassian(spec, apps=[app]) as fake:
        populate_people(fake.site)
        plan = restrict_corpus(fake.site, restricted, indexer=fake.site.users[0].account_id)
        settings = Settings(
            _env_file=None,
            database_url=database_url,
            encryption_key=generate_key(),
            atlassian_client_id="cid",
            atlassian_client_secret="secret",
            atlassian_auth_url=fake.auth_url,
            atlassian_api_url=fake.api_url,
        )
        services = build_services(settings)
        upgrade_to_head(services.engine)
        datastore_id = add_connected_datastore(
            services, cloud_id=fake.cloud_id, token=fake.issue_token(), team_id="TBENCH", credits=0
        )
        documents = _documents(fake)
        for start in range(0, len(documents), 500):
            with services.sessions.begin() as session:
                bulk_replace_documents(session, datastore_id, documents[start : start + 500])
        with services.sessions.begin() as session:
            datastore = session.get(Datastore, datastore_id)
            assert datastore is not None
            datastore.access_mode = AccessMode.EACH.value
        if latency:
            fake.set_latency(latency)
        # Simulated time: when the lane is spent the pass is incomplete and resumes when the lane has refilled.
        now = [utcnow()]

        def clock() -> datetime:
            return now[0]

        def sleep(seconds: float) -> None:  # a wait for the lane passes in simulated time
            now[0] += timedelta(seconds=seconds)

        lane = PermissionLane(RequestBudget(POINTS_PER_HOUR, clock=clock), POINTS_PER_HOUR, clock=clock)
        tokens = TokenManager(services, AtlassianOAuth(settings), refresh_margin=timedelta(minutes=5))
        runner = PermissionPasses(services, tokens, lane, clock=clock, sleep=sleep)
        points_before, requests_before = fake.log.points(), len(fake.log)
        started, began = time.perf_counter(), now[0]
        attempts, report = 0, None
        while report is None or report.outcome != PassOutcome.COMPLETE:
            (report,) = runner.run_due()
            attempts += 1
            if report.outcome != PassOutcome.COMPLETE:
                assert report.next_due_at is not None and attempts < 50, report
                now[0] = report.next_due_at
        seconds = time.perf_counter() - started
        atlassian_points = fake.log.points() - points_before
        with services.sessions() as session:
            row = session.get(PermissionPass, datastore_id)
            charged = row.last_points if row is not None else 0
        cadence = next_pass_in(charged, lane.points_per_hour)
        services.engine.dispose()
    return {
        "pages": len(documents),
        "spaces": spaces,
        "restricted_percent": round(plan.percent, 1),
        "outcome": report.outcome,
        "documents": report.documents,
        "points": atlassian_points,
        "points_charged": charged,
        "attempts": attempts,
        "lane_hours_of_the_pass": (now[0] - began).total_seconds() / 3600,
        "points_per_page": atlassian_points / max(1, len(documents)),
        "requests": len(fake.log) - requests_before,
        "seconds": seconds,
        "pages_per_second": len(documents) / seconds if seconds else 0.0,
        "latency_s": latency,
        "lane_points_per_hour": lane.points_per_hour,
        "cadence_hours": cadence.total_seconds() / 3600,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.perm_pass_bench", description=__doc__)
    parser.add_argument("--pages", type=int, default=10_000)
    parser.add_argument("--spaces", type=int, default=20)
    parser.add_argument("--restricted", type=float, default=30.0)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per Atlassian answer")
    parser.add_argument("--json", type=Path, help="also write the result here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        result = run(args.pages, args.spaces, args.restricted, args.latency, f"sqlite:///{folder}/bench.db")
    print(
        f"{result['pages']:,} pages, {result['restricted_percent']}% restricted, {result['spaces']} spaces: "
        f"{result['points']:,} points ({result['points_per_page']:.2f}/page; lane charged "
        f"{result['points_charged']:,}), {result['requests']} requests, {result['seconds']:.1f} s "
        f"({result['pages_per_second']:,.0f} pages/s), {result['outcome']} after {result['attempts']} attempt(s) "
        f"spanning {result['lane_hours_of_the_pass']:.2f} h of lane; next pass in "
        f"{result['cadence_hours']:.2f} h on a lane of {result['lane_points_per_hour']:,.0f} points/h"
    )
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
