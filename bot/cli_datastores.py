"""Operator commands: `datastores`, `sync NAME [--full]`, `search NAME QUERY`, `credits add TEAM N`."""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

from sqlalchemy import select, update

from bot.errors import UserFacingError
from bot.services import Services, build_services
from bot.settings import Settings
from bot.wizard.inputs import name_key
from storage.credits import add_credits
from storage.migrate import upgrade_to_head
from storage.models import Connection, Datastore, SyncRun, utcnow
from storage.search_index import search
from storage.sync_runs import latest_run, queue_run, unfinished_run

__all__ = ["add_parsers", "progress_line"]

BAR_WIDTH = 30


@contextmanager
def _services(settings: Settings) -> Iterator[Services]:
    services = build_services(settings)
    try:
        upgrade_to_head(services.engine)
        yield services
    finally:
        services.engine.dispose()


def _find(services: Services, name: str, team: str | None) -> Datastore:
    with services.sessions() as session:
        statement = select(Datastore).where(Datastore.name_key == name_key(name))
        if team:
            statement = statement.where(Datastore.team_id == team)
        found = list(session.scalars(statement))
    if not found:
        raise UserFacingError(f"No datastore is named {name!r}. `datastore-bot datastores` lists them.")
    if len(found) > 1:
        teams = ", ".join(d.team_id for d in found)
        raise UserFacingError(f"Several workspaces have a datastore named {name!r} ({teams}): add --team.")
    return found[0]


def _list_datastores(services: Services, _args: argparse.Namespace) -> int:
    with services.sessions() as session:
        rows = [(row[0], row[1]) for row in session.execute(select(Datastore, Connection).outerjoin(Connection))]
        print(f"{'NAME':24} {'TEAM':12} {'SITE':28} {'STATUS':18} {'DOCUMENTS':>9}  LAST SYNC")
        for datastore, connection in rows:
            run = latest_run(session, datastore_id=datastore.id)
            finished = run.finished_at.strftime("%Y-%m-%d %H:%M") if run and run.finished_at else "-"
            site = connection.site_host if connection else "-"
            print(
                f"{datastore.name[:24]:24} {datastore.team_id:12} {site[:28]:28} {datastore.status:18} "
                f"{datastore.document_count:>9,}  {finished}"
            )
    if not rows:
        print("No datastores yet: create one in Slack with /datastore create.")
    return 0


def progress_line(run: SyncRun, elapsed: float) -> str:
    """``Processing ▰▰▰▱▱ 42% · 4,200/10,000 · 3 failed · 850 pages/s`` (or the metadata phase)."""
    if run.phase in ("initializing", "syncing_metadata"):
        return f"Syncing Metadata… {run.spaces_done}/{run.spaces_total} spaces · {run.found:,} pages found"
    total = max(run.to_process, 1)
    done = run.processed + run.failed
    filled = min(BAR_WIDTH, BAR_WIDTH * done // total)
    rate = run.processed / elapsed if elapsed > 0 else 0.0
    return (
        f"{run.phase.replace('_', ' ').title()} {'▰' * filled}{'▱' * (BAR_WIDTH - filled)} "
        f"{100 * done // total}% · {done:,}/{run.to_process:,} · {run.failed} failed · {rate:,.0f} pages/s"
    )


def _watch(services: Services, run_id: int, stop: threading.Event, out: TextIO) -> None:
    started = time.monotonic()
    while not stop.wait(0.5):
        with services.sessions() as session:
            run = session.get(SyncRun, run_id)
            if run is not None:
                out.write("\r" + progress_line(run, time.monotonic() - started).ljust(100))
                out.flush()


def _sync_now(services: Services, args: argparse.Namespace) -> int:
    from bot.sync.runtime import SyncRuntime

    datastore = _find(services, args.name, args.team)
    with services.sessions.begin() as session:
        run = unfinished_run(session, datastore_id=datastore.id) or queue_run(
            session, datastore_id=datastore.id, kind="full" if args.full else "incremental", trigger="manual"
        )
        assert run is not None
        run_id = run.id
        if run.state == "paused" and run.pause_kind != "rate_limit":
            run.state = "queued"
    runtime = SyncRuntime(services)
    stop = threading.Event()
    watcher = threading.Thread(target=_watch, args=(services, run_id, stop, sys.stderr), daemon=True)
    watcher.start()
    try:
        driven = runtime.worker().drive(run_id)
    finally:
        stop.set()
        watcher.join()
        runtime.close()
    with services.sessions() as session:
        run = session.get(SyncRun, run_id)
        assert run is not None
        if not driven:
            print(f"{datastore.name}: another process is syncing it right now ({run.phase}).")
            return 1
        print(
            f"\n{datastore.name}: {run.outcome or run.state} — {run.processed:,} processed, {run.unchanged:,} "
            f"unchanged, {run.failed:,} failed, {run.deleted:,} deleted" + (f" ({run.reason})" if run.reason else "")
        )
        return 0 if run.outcome in ("synced", "partially_synced") else 1


def _search_datastore(services: Services, args: argparse.Namespace) -> int:
    datastore = _find(services, args.name, args.team)
    with services.sessions() as session:
        hits = search(session, datastore_id=datastore.id, query=args.query, limit=args.limit)
    if not hits:
        print(f"No results for {args.query!r} in {datastore.name}.")
        return 1
    for number, hit in enumerate(hits, 1):
        print(f"{number}. {hit.title} — {hit.space_name or hit.space_key or ''}\n   {hit.url}\n   {hit.snippet}")
    return 0


def _add_credits(services: Services, args: argparse.Namespace) -> int:
    with services.sessions.begin() as session:
        balance = add_credits(
            session, team_id=args.team_id, amount=args.amount, now=utcnow(), note="datastore-bot credits add"
        )
        team_datastores = select(Datastore.id).where(Datastore.team_id == args.team_id)
        resumed = session.execute(
            update(SyncRun)
            .where(
                SyncRun.datastore_id.in_(team_datastores), SyncRun.state == "paused", SyncRun.pause_kind == "credits"
            )
            .values(state="queued")
            .execution_options(synchronize_session=False)
        )
    print(f"{args.team_id}: balance {balance:,} credits; {getattr(resumed, 'rowcount', 0)} paused sync(s) resume.")
    return 0


def _command(body: Callable[[Services, argparse.Namespace], int]) -> Callable[[Settings, argparse.Namespace], int]:
    def run(settings: Settings, args: argparse.Namespace) -> int:
        with _services(settings) as services:
            return body(services, args)

    return run


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    listing = commands.add_parser("datastores", help="list every datastore with its status")
    listing.set_defaults(handler=_command(_list_datastores))
    sync = commands.add_parser("sync", help="sync a datastore now, in the foreground, with a progress bar")
    sync.add_argument("name")
    sync.add_argument("--full", action="store_true", help="re-process every page, changed or not")
    sync.add_argument("--team", help="the Slack team id, when several workspaces use the same name")
    sync.set_defaults(handler=_command(_sync_now))
    find = commands.add_parser("search", help="search a datastore")
    find.add_argument("name")
    find.add_argument("query")
    find.add_argument("--team")
    find.add_argument("--limit", type=int, default=5)
    find.set_defaults(handler=_command(_search_datastore))
    credits = commands.add_parser("credits", help="manage ingestion credits")
    actions = credits.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="add credits to a workspace and resume syncs paused for credits")
    add.add_argument("team_id")
    add.add_argument("amount", type=int)
    add.set_defaults(handler=_command(_add_credits))
