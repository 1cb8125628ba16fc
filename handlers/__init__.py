"""Everything that speaks Slack: listeners wired by ``register(app, services)`` and pure Block Kit views."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from slack_bolt import App
from slack_sdk import WebClient

from bot.access.links import PersonLinks
from bot.access.people import PersonDirectory
from bot.atlassian.oauth import AtlassianOAuth
from bot.datastores.access import AccessChanges
from bot.datastores.credits import Credits
from bot.datastores.deletion import DatastoreDeletion
from bot.datastores.queries import Queries
from bot.services import Services
from bot.web import OAuthCallback
from handlers import (
    access_commands,
    commands,
    credits,
    delete,
    errors,
    home,
    links,
    sync_actions,
    usage_commands,
    wizard_actions,
    wizard_submissions,
)
from handlers import reconnect as reconnect_handlers
from handlers.access_offers import AccessOffers
from handlers.home import HomeTabs
from handlers.notices import NoticeDelivery
from handlers.oauth_callback import build_oauth_callback
from handlers.permissions import Permissions
from handlers.progress import ProgressUpdater
from handlers.reconnect import Reconnect
from handlers.usage_commands import UsageCommands
from handlers.usage_gate import GroupMembers, UsageGate
from handlers.wizard_open import WizardDeps

__all__ = ["Wiring", "register"]


@dataclass(frozen=True)
class Wiring:
    """What the rest of the process needs from the Slack side: the OAuth callback and the progress tick."""

    oauth_callback: OAuthCallback
    progress_tick: Callable[[], None]
    #: The scheduler job sending the one-time DMs offering per-person access (bot.jobs.access_offers_tick).
    access_offers: Callable[[], None] | None = None


def register(
    app: App,
    services: Services,
    client_for_team: Callable[[str], WebClient],
    *,
    people: PersonDirectory | None = None,
) -> Wiring:
    """Wire every listener; returns the OAuth callback the HTTP server serves and the progress job's tick.

    ``client_for_team`` gives a Web API client for a workspace outside a Slack request (callback, jobs).
    ``people`` is who a per-person datastore is searched as (None: the person links in the database).
    """
    wizard = WizardDeps.build(services)
    signing_secret = services.settings.slack_signing_secret
    assert signing_secret is not None, "create_app checks the signing secret first"
    errors.register(app, signing_secret.get_secret_value())
    person_links = PersonLinks(services, AtlassianOAuth(services.settings))
    queries = Queries(services, people=people if people is not None else person_links)
    permissions = Permissions(services.settings.admin_user_ids, multi_workspace=services.settings.multi_workspace)
    changes = AccessChanges(services)
    groups = GroupMembers()
    gate = UsageGate(changes, permissions, groups)
    access = access_commands.AccessCommands(changes, queries, permissions, groups)
    usage = UsageCommands(queries, gate)
    reconnect = Reconnect(wizard, queries, permissions)
    sync = sync_actions.SyncActions(services, queries, permissions)
    tabs = HomeTabs(services, queries, client_for_team, gate=gate)
    notices = NoticeDelivery(services, client_for_team)
    deletion = delete.DeleteHandlers(DatastoreDeletion(services), queries, permissions, notices, tabs)
    credit_handlers = credits.CreditsHandlers(Credits(services), permissions, services.settings)
    link_handlers = links.LinkHandlers(person_links, queries, permissions)
    # Bolt tries listeners in the order they were added, each at the cost of building its arguments: the slash
    # command, the most frequent request, comes first (measured: matching ten listeners before it was half of
    # Bolt's share of a `/datastore help`).
    commands.register(
        app,
        commands.CommandDeps(wizard, usage, reconnect, sync, deletion, credit_handlers, access, links=link_handlers),
    )
    access_commands.register(app, access)
    sync_actions.register(app, sync)
    delete.register(app, deletion)
    credits.register(app, credit_handlers)
    links.register(app, link_handlers)
    usage_commands.register(app, usage)
    reconnect_handlers.register(app, reconnect)
    home.register(app, home.HomeHandlers(wizard, tabs, sync.request, deletion.open_confirm))
    wizard_submissions.register(app, wizard)
    wizard_actions.register(app, wizard)
    updater = ProgressUpdater(
        services, client_for_team, owner=f"progress:{uuid.uuid4().hex[:12]}", on_finished=tabs.refresh_team
    )

    def tick() -> None:
        updater.tick()
        for team_id in notices.deliver():
            tabs.refresh_team(team_id)

    offers = AccessOffers(services, changes, client_for_team)
    return Wiring(
        oauth_callback=build_oauth_callback(client_for_team, wizard),
        progress_tick=tick,
        access_offers=offers.tick,
    )
