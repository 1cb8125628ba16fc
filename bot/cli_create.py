"""`datastore-bot connect SITE` and `datastore-bot create NAME`: a datastore made without Slack.

`connect` (Confluence Cloud) records a consent wizard of the operator — the same single-use OAuth state the
Slack wizard issues — prints Atlassian's consent URL, and waits, polling the database, until the running
`serve` has received the callback at ``/oauth/confluence/callback`` and stored the connection. `create` makes
the datastore on the newest operator connection (or the one of ``--site``) through the wizard's own finish
step (bot/wizard/finish.py): chosen spaces or all content, the creator recorded as the operator
(storage.datastores.OPERATOR, shown in Slack as "an operator"), its first sync queued. With ``--channel`` the
running `serve`'s progress job posts the announcement and its progress thread there."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.actors import OPERATOR, Actor, is_slack_id
from bot.atlassian.oauth import AtlassianOAuth
from bot.errors import ConfigurationError, UserFacingError
from bot.services import Services
from bot.settings import Settings
from bot.text_policy import displayable, refusal
from bot.wizard.finish import MAX_SPACES, WizardFinish
from bot.wizard.inputs import name_key, normalize_name, normalize_site_url
from bot.wizard.oauth_flow import STATE_TTL, issue_state
from bot.wizard.service import WIZARD_TTL, WizardService, new_wizard_id
from bot.wizard.spaces import SpaceLister
from bot.wizard.steps import Step
from storage.access_modes import AccessMode
from storage.datastores import find_datastore_by_name
from storage.models import ConfluenceSpace, Connection, Datastore, Wizard, Workspace, utcnow
from storage.states import ConnectionStatus, WizardStatus
from storage.workspaces import touch_workspace

__all__ = ["add_parsers"]

#: Seconds between two looks at the database while `connect` waits for the consent.
POLL_EVERY = 1.0


def _shown(text: str | None) -> str:
    return displayable(text or "", newlines=False)


def _team(services: Services, team: str | None) -> str:
    """``--team``, or the one workspace the bot knows."""
    if team is not None:
        if not is_slack_id(team) or team[0] not in "TE":
            raise UserFacingError(f"--team takes a Slack team id like T0123ABCD, not {_shown(team)!r}.")
        return team
    with services.sessions() as session:
        known = sorted(
            set(session.scalars(select(Workspace.team_id))) | set(session.scalars(select(Datastore.team_id)))
        )
    if len(known) == 1:
        return known[0]
    listed = f" (known: {', '.join(known)})" if known else " (no workspace has used the bot yet)"
    raise UserFacingError(f"Say which Slack workspace the datastore is for with --team T…{listed}.")


def _require_atlassian(services: Services) -> None:
    settings = services.settings
    for variable, value in (
        ("ATLASSIAN_CLIENT_ID", settings.atlassian_client_id),
        ("ATLASSIAN_CLIENT_SECRET", settings.atlassian_client_secret),
    ):
        if not value:
            raise ConfigurationError(
                variable, f"{variable} is not set — the Atlassian OAuth app's credentials are needed to connect."
            )


def _connect(services: Services, args: argparse.Namespace) -> int:
    _require_atlassian(services)
    site_url = normalize_site_url(args.site)
    team = _team(services, args.team)
    settings = services.settings
    now = utcnow()
    with services.sessions.begin() as session:
        touch_workspace(session, team_id=team, initial_credits=settings.free_credits)
        wizard = Wizard(
            id=new_wizard_id(),
            team_id=team,
            user_id=OPERATOR,
            step=Step.CONNECT,
            site_url=site_url,
            top_off="skipped",
            expires_at=now + STATE_TTL,
        )
        session.add(wizard)
        session.flush()
        wizard_id = wizard.id
        url = AtlassianOAuth(settings).authorize_url(issue_state(session, wizard, now))
    host = site_url.removeprefix("https://")
    try:
        print(f"Open this link in a browser and give access to {host} (it works once, within 15 minutes):")
        print(url)
        print(
            f"Waiting for the running `datastore-bot serve` to receive the consent at {settings.oauth_callback_url} …"
        )
        sys.stdout.flush()  # the link must show before the wait, also through a pipe
        return _wait_for_consent(services, wizard_id, timeout=args.timeout)
    except KeyboardInterrupt:
        _abandon(services, wizard_id)
        raise KeyboardInterrupt("the consent link no longer works; nothing was connected") from None


def _abandon(services: Services, wizard_id: str) -> None:
    with services.sessions.begin() as session:
        wizard = session.get(Wizard, wizard_id)
        if wizard is not None and wizard.status == WizardStatus.OPEN:
            wizard.status = WizardStatus.ABANDONED


def _wait_for_consent(services: Services, wizard_id: str, *, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while True:
        with services.sessions.begin() as session:
            wizard = session.get(Wizard, wizard_id)
            if wizard is None:
                raise UserFacingError("Not connected: the consent wizard was deleted meanwhile.")
            if wizard.connection_id is not None:
                connection = session.get(Connection, wizard.connection_id)
                wizard.status = WizardStatus.COMPLETED
                if connection is not None:
                    account = _shown(connection.account_name) or "an unnamed account"
                    print(
                        f"Connected {connection.site_host} as {account} (connection {connection.id}). Next: "
                        f"`datastore-bot create NAME --site {connection.site_host} [--spaces KEY,…] [--channel C…]`."
                    )
                    return 0
            if wizard.oauth_error:
                wizard.status = WizardStatus.ABANDONED
                raise UserFacingError(f"Not connected: {_shown(wizard.oauth_error)}")
        if time.monotonic() > deadline:
            _abandon(services, wizard_id)
            raise UserFacingError(
                f"Not connected: no consent arrived within {timeout:.0f} s. Is `datastore-bot serve` running at "
                "PUBLIC_URL? Run `datastore-bot connect` again for a new link."
            )
        time.sleep(POLL_EVERY)


def _operator_connection(services: Services, *, site: str | None, team: str | None) -> Connection:
    statement = select(Connection).where(
        Connection.created_by == OPERATOR, Connection.status == ConnectionStatus.ACTIVE
    )
    if site is not None:
        statement = statement.where(Connection.site_url == normalize_site_url(site))
    if team is not None:
        statement = statement.where(Connection.team_id == team)
    with services.sessions() as session:
        connection = session.scalars(statement.order_by(Connection.id.desc())).first()
    if connection is None:
        where = f" to {normalize_site_url(site).removeprefix('https://')}" if site else ""
        raise UserFacingError(f"No operator connection{where} yet: run `datastore-bot connect SITE` first.")
    return connection


def _listed_spaces(services: Services, connection_id: int) -> dict[str, ConfluenceSpace]:
    """The connection's listed spaces by case-folded key."""
    with services.sessions() as session:
        rows = session.scalars(select(ConfluenceSpace).where(ConfluenceSpace.connection_id == connection_id)).all()
        session.expunge_all()
    return {row.key.casefold(): row for row in rows}


def _spaces(services: Services, connection: Connection, raw: str | None) -> list[dict[str, str]]:
    """The ``--spaces`` keys as the wizard stores them ([] = all content); unknown keys are refused by name."""
    if raw is None:
        return []
    hidden = refusal(raw, "list of space keys")
    if hidden is not None:
        raise UserFacingError(hidden)
    keys = list(dict.fromkeys(key.strip() for key in raw.split(",") if key.strip()))
    if not keys:
        raise UserFacingError("--spaces takes space keys separated by commas, like ENG,HR.")
    if len(keys) > MAX_SPACES:
        raise UserFacingError(f"Pick at most {MAX_SPACES} spaces, or leave out --spaces for all content.")
    listed = connection.spaces_listed_at is not None
    if not listed:
        SpaceLister(services).refresh(connection.id)
    by_key = _listed_spaces(services, connection.id)
    unknown = [key for key in keys if key.casefold() not in by_key]
    if unknown and listed:  # listed at `connect`: a space made since then is looked for once more
        SpaceLister(services).refresh(connection.id)
        by_key = _listed_spaces(services, connection.id)
        unknown = [key for key in keys if key.casefold() not in by_key]
    if unknown:
        account = _shown(connection.account_name) or "the connected account"
        raise UserFacingError(
            f"Not created: {connection.site_host} has no space {', '.join(_shown(k) for k in unknown)} that "
            f"{account} can see."
        )
    picked = [by_key[key.casefold()] for key in keys]
    return [{"id": row.space_id, "key": row.key, "name": row.name} for row in picked]


def _create(services: Services, args: argparse.Namespace) -> int:
    name = normalize_name(args.name)
    channel = args.channel
    if channel is not None and (not is_slack_id(channel) or channel[0] not in "CG"):
        raise UserFacingError(f"--channel takes a Slack channel id like C0123ABCD, not {_shown(channel)!r}.")
    connection = _operator_connection(services, site=args.site, team=args.team)
    items = _spaces(services, connection, args.spaces)
    mode = AccessMode(args.access)
    now = utcnow()
    try:
        with services.sessions.begin() as session:
            if find_datastore_by_name(session, team_id=connection.team_id, name_key=name_key(name)) is not None:
                raise UserFacingError(f"Not created: workspace {connection.team_id} already has a datastore {name!r}.")
            wizard = Wizard(
                id=new_wizard_id(),
                team_id=connection.team_id,
                user_id=OPERATOR,
                channel_id=channel,
                step=Step.SUMMARY,
                name=name,
                name_key=name_key(name),
                top_off="skipped",
                site_url=connection.site_url,
                connection_id=connection.id,
                share_all=not items,
                spaces={"items": items},
                access_mode=mode.value,
                expires_at=now + WIZARD_TTL,
            )
            session.add(wizard)
            session.flush()
            wizard_id = wizard.id
    except IntegrityError:
        raise UserFacingError(f"Not created: someone is creating a datastore named {name!r} in Slack.") from None
    finish = WizardFinish(WizardService(services), authorize_url_for=AtlassianOAuth(services.settings).authorize_url)
    created = finish.create(wizard_id, Actor(team_id=connection.team_id, user_id=OPERATOR), "an operator")
    content = ", ".join(_shown(n) for n in created.space_names) if not created.share_all else "all content"
    thread = f" and posts its thread in {channel}" if channel else ""
    print(
        f"Created {created.name} on {created.site} ({content}; {mode.value} sees it in Slack). Its first sync is "
        f"queued: a running `serve` syncs it{thread}, or follow it here with `datastore-bot sync {created.name}`."
    )
    return 0


Body = Callable[[Services, argparse.Namespace], int]


def add_parsers(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    wrap: Callable[[Body], Callable[[Settings, argparse.Namespace], int]],
) -> None:
    """``wrap`` makes a ``(services, args)`` body a command handler (bot.cli_datastores._command)."""
    connect = commands.add_parser(
        "connect",
        help="connect a Confluence Cloud site without Slack: prints the consent link, waits for `serve`",
        description="Print Atlassian's consent link for SITE; a running `datastore-bot serve` receives the consent "
        "and stores the connection while this command waits (polling the database).",
    )
    connect.add_argument("site", help="the Confluence Cloud site, like acme.atlassian.net")
    connect.add_argument("--team", help="the Slack team id the datastore will belong to (default: the only one)")
    connect.add_argument("--timeout", type=float, default=900.0, help="seconds to wait for the consent (900)")
    connect.set_defaults(handler=wrap(_connect))
    create = commands.add_parser(
        "create",
        help="create a datastore on the newest operator connection and queue its first sync",
        description="Create a datastore without Slack, on the newest connection made with `datastore-bot connect` "
        "(or the one of --site). Its creator is recorded as the operator.",
    )
    create.add_argument("name")
    create.add_argument("--spaces", help="space keys separated by commas (default: all content)")
    create.add_argument("--channel", help="the Slack channel id (C…) that gets its announcement and progress thread")
    create.add_argument("--site", help="the connected site to use (default: the newest operator connection)")
    create.add_argument("--team", help="the Slack team id, when several workspaces have operator connections")
    create.add_argument(
        "--access",
        choices=[mode.value for mode in AccessMode],
        default=AccessMode.EACH.value,
        help="who sees it in Slack: each person what they may see (default), or everyone as the connecting account",
    )
    create.set_defaults(handler=wrap(_create))
