"""Operator commands: `datastores`, `sync NAME [--full]`, `search NAME QUERY`, `delete NAME`,
`schedule NAME [EVERY] [--deletions EVERY]`, `credits show TEAM` and `credits add TEAM N`.

Operators see every datastore's content as its connecting account: the CLI filters nothing per person."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import select

from bot.errors import UserFacingError
from bot.services import Services
from bot.settings import Settings
from bot.startup import open_services
from bot.text_policy import clean_query, displayable, refusal
from bot.wizard.inputs import name_key
from storage.access_modes import AccessMode
from storage.credits import add_credits, resume_paused_for_credits
from storage.models import Connection, Datastore, utcnow
from storage.search import Visibility, search
from storage.sync_runs import latest_run
from storage.workspaces import get_workspace

__all__ = ["OPERATOR_VIEW", "add_parsers"]

#: What an operator sees, said in --help and under the list of datastores.
OPERATOR_VIEW = "Operators see everything the connecting account can see; per-person filtering applies in Slack only."


def _shown(text: str | None) -> str:
    """Stored text from Slack or Atlassian, one terminal line: control characters and reordering marks go."""
    return displayable(text or "", newlines=False)


def _access(datastore: Datastore, connection: Connection | None) -> str:
    """``everyone: Ada Lovelace`` — who sees the datastore in Slack, and the account it is searched as."""
    account = _shown(connection.account_name if connection else None) or "the connecting account"
    if AccessMode.of(datastore.access_mode) is AccessMode.EVERYONE:
        return f"everyone: {account}"
    return f"each person (as {account} here)"


@contextmanager
def _services(settings: Settings) -> Iterator[Services]:
    services = open_services(settings)
    try:
        yield services
    finally:
        services.engine.dispose()


def _find(services: Services, name: str, team: str | None) -> Datastore:
    hidden = refusal(name, "datastore name")
    if hidden is not None:  # PostgreSQL refuses a NUL outright; no name holds any of these
        raise UserFacingError(hidden)
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
        print(f"{'NAME':24} {'TEAM':12} {'SITE':28} {'STATUS':18} {'DOCUMENTS':>9}  {'LAST SYNC':16}  ACCESS")
        for datastore, connection in rows:
            run = latest_run(session, datastore_id=datastore.id)
            finished = run.finished_at.strftime("%Y-%m-%d %H:%M") if run and run.finished_at else "-"
            site = connection.site_host if connection else "-"
            print(
                f"{_shown(datastore.name)[:24]:24} {datastore.team_id:12} {_shown(site)[:28]:28} "
                f"{datastore.status:18} {datastore.document_count:>9,}  {finished:16}  {_access(datastore, connection)}"
            )
    if not rows:
        print("No datastores yet: create one in Slack with /datastore create.")
        return 0
    print(f"ACCESS says who sees a datastore in Slack and the account it is searched as. {OPERATOR_VIEW}")
    return 0


def _sync_now(services: Services, args: argparse.Namespace) -> int:
    from bot.cli_sync import sync_now

    datastore = _find(services, args.name, args.team)
    return sync_now(services, args, name=datastore.name, datastore_id=datastore.id)


def _search_datastore(services: Services, args: argparse.Namespace) -> int:
    datastore = _find(services, args.name, args.team)
    query = clean_query(args.query)  # tabs and line breaks become spaces, other hidden characters go
    if query.shortened:
        print(f"(searching the first {len(query.text)} characters of the query)", file=sys.stderr)
    with services.sessions() as session:
        connection = session.get(Connection, datastore.connection_id) if datastore.connection_id else None
        hits = search(
            session, datastore_id=datastore.id, query=query.text, visible=Visibility.everyone(), limit=args.limit
        )
    account = _shown(connection.account_name if connection else None) or "the connecting account"
    print(f"(everything {account} can see in Confluence: operators see all of it)", file=sys.stderr)
    if not hits:
        print(f"No results for {query.text!r} in {datastore.name}.")
        return 1
    for number, hit in enumerate(hits, 1):
        print(f"{number}. {hit.title} — {hit.space_name or hit.space_key or ''}\n   {hit.url}\n   {hit.snippet}")
    return 0


def _known_workspace(services: Services, team_id: str) -> None:
    hidden = refusal(team_id, "team id")
    if hidden is not None:
        raise UserFacingError(hidden)
    with services.sessions() as session:
        if get_workspace(session, team_id=team_id) is None:
            raise UserFacingError(
                f"No workspace {_shown(team_id)!r} has used the bot yet: it gets its free starting credits when "
                "it first does. `datastore-bot datastores` lists the team ids."
            )


def _add_credits(services: Services, args: argparse.Namespace) -> int:
    if args.amount < 1:
        raise UserFacingError(f"Nothing added: the credits to add must be a whole number above 0, not {args.amount}.")
    _known_workspace(services, args.team_id)
    with services.sessions.begin() as session:
        balance = add_credits(
            session, team_id=args.team_id, amount=args.amount, now=utcnow(), note="datastore-bot credits add"
        )
        resumed = resume_paused_for_credits(session, team_id=args.team_id) if balance is not None else 0
    if balance is None:  # deleted in between
        raise UserFacingError(f"Nothing added: workspace {_shown(args.team_id)!r} is gone.")
    print(f"{args.team_id}: balance {balance:,} credits; {resumed} paused sync(s) resume.")
    return 0


def _delete(services: Services, args: argparse.Namespace) -> int:
    from bot.datastores.deletion import DatastoreDeletion

    datastore = _find(services, args.name, args.team)
    deletion = DatastoreDeletion(services)
    preview = deletion.preview(datastore_id=datastore.id, team_id=datastore.team_id)
    if not args.yes:
        if not sys.stdin.isatty():
            raise UserFacingError(f"Not deleted: confirm with --yes to delete {preview.name!r} without a prompt.")
        keeps = f" (its connection stays: {', '.join(preview.shares_connection_with)} use it)"
        print(
            f"This deletes {preview.name} ({datastore.team_id}, {preview.site or 'no site'}): "
            f"{preview.documents:,} documents"
            + (keeps if preview.shares_connection_with else " and its Confluence connection's tokens")
            + ". It cannot be undone."
        )
        if name_key(input("Type its name to confirm: ").strip()) != name_key(preview.name):
            raise UserFacingError("Not deleted: the name did not match.")
    deleted = deletion.delete(datastore_id=datastore.id, team_id=datastore.team_id, deleted_by=None)
    tokens = "its Confluence tokens deleted" if deleted.connection_deleted else "its connection kept (shared)"
    print(
        f"Deleted {deleted.name}: {deleted.documents:,} documents, {deleted.chunks:,} chunks, {deleted.runs} sync "
        f"runs; {tokens}. A running `serve` marks its Slack message as deleted."
    )
    return 0


def _schedule(services: Services, args: argparse.Namespace) -> int:
    from bot.datastores.schedule import UNCHANGED, parse_deletion_interval, parse_interval, set_schedule

    if args.every is None and args.deletions is None:
        raise UserFacingError("Say how often: `schedule NAME 6h` and/or `--deletions 1d` (or `default`).")
    resync = parse_interval(args.every) if args.every is not None else UNCHANGED
    deletions = parse_deletion_interval(args.deletions) if args.deletions is not None else UNCHANGED
    datastore = _find(services, args.name, args.team)
    effective = set_schedule(services, datastore_id=datastore.id, resync=resync, deletions=deletions)
    print(f"{datastore.name} {effective.describe()}; a running `serve` applies it within a minute.")
    return 0


def _show_credits(services: Services, args: argparse.Namespace) -> int:
    from bot.datastores.credits import Credits

    _known_workspace(services, args.team_id)
    overview = Credits(services).overview(args.team_id, entries=args.entries)
    print(f"{args.team_id}: {overview.balance:,} credits")
    top_off = overview.top_off
    if top_off is None:
        print("auto top-off: off")
    else:
        cap = f", at most {top_off.monthly_cap:,}/month" if top_off.monthly_cap else ", no monthly cap"
        print(
            f"auto top-off: below {top_off.threshold:,} add {top_off.amount:,}{cap} "
            f"({overview.topped_off_this_month:,} added this month)"
        )
    print(f"{'WHEN':16}  {'KIND':8} {'AMOUNT':>10} {'BALANCE':>10}  DETAIL")
    for row in overview.ledger:
        entry = row.entry
        detail = " · ".join(part for part in (row.datastore, entry.note) if part)
        print(
            f"{entry.created_at:%Y-%m-%d %H:%M}  {entry.kind:8} {entry.amount:>+10,} {entry.balance_after:>10,}  "
            f"{detail}"
        )
    if not overview.ledger:
        print("no entries yet")
    return 0


def _command(body: Callable[[Services, argparse.Namespace], int]) -> Callable[[Settings, argparse.Namespace], int]:
    def run(settings: Settings, args: argparse.Namespace) -> int:
        with _services(settings) as services:
            return body(services, args)

    return run


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from bot.cli_create import add_parsers as add_create_parsers

    add_create_parsers(commands, _command)
    listing = commands.add_parser(
        "datastores",
        help="list every datastore with its status and who sees it in Slack",
        description=f"List every datastore: status, documents, last sync, access in Slack. {OPERATOR_VIEW}",
    )
    listing.set_defaults(handler=_command(_list_datastores))
    sync = commands.add_parser("sync", help="sync a datastore now, in the foreground, with a progress bar")
    sync.add_argument("name")
    sync.add_argument("--full", action="store_true", help="re-process every page, changed or not")
    sync.add_argument("--team", help="the Slack team id, when several workspaces use the same name")
    sync.set_defaults(handler=_command(_sync_now))
    find = commands.add_parser(
        "search",
        help="search a datastore as its connecting account (everything it can see)",
        description=f"Search a datastore. {OPERATOR_VIEW}",
    )
    find.add_argument("name")
    find.add_argument("query")
    find.add_argument("--team")
    find.add_argument("--limit", type=int, default=5)
    find.set_defaults(handler=_command(_search_datastore))
    remove = commands.add_parser(
        "delete", help="delete a datastore: its documents, runs and (unless shared) its Confluence tokens"
    )
    remove.add_argument("name")
    remove.add_argument("--team")
    remove.add_argument("--yes", action="store_true", help="do not ask to type the name")
    remove.set_defaults(handler=_command(_delete))
    schedule = commands.add_parser(
        "schedule", help="how often a datastore resyncs (90m, 6h, 1d or default) and checks for deleted pages"
    )
    schedule.add_argument("name")
    schedule.add_argument("every", nargs="?")
    schedule.add_argument("--deletions", metavar="EVERY", help="how often a resync lists every page (default 1d)")
    schedule.add_argument("--team")
    schedule.set_defaults(handler=_command(_schedule))
    credits = commands.add_parser("credits", help="show or add ingestion credits")
    actions = credits.add_subparsers(dest="action", required=True)
    show = actions.add_parser("show", help="a workspace's balance, auto top-off and latest ledger entries")
    show.add_argument("team_id")
    show.add_argument("--entries", type=int, default=20)
    show.set_defaults(handler=_command(_show_credits))
    add = actions.add_parser(
        "add",
        help="add credits to a workspace and resume syncs paused for credits",
        description="Add credits (a whole number above 0) to a workspace the bot knows, and resume its syncs paused "
        "for credits. Zero, a negative amount or an unknown team id is refused with one line, exit 1.",
    )
    add.add_argument("team_id")
    add.add_argument("amount", type=int)
    add.set_defaults(handler=_command(_add_credits))
