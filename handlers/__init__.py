"""Everything that speaks Slack: listeners wired by ``register(app, services)`` and pure Block Kit views."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from slack_bolt import App
from slack_sdk import WebClient

from bot.access.people import PersonDirectory
from bot.datastores.credits import Credits
from bot.datastores.deletion import DatastoreDeletion
from bot.datastores.queries import Queries
from bot.services import Services
from bot.web import OAuthCallback
from handlers import (
    commands,
    credits,
    delete,
    errors,
    home,
    sync_actions,
    usage_commands,
    wizard_actions,
    wizard_submissions,
)
from handlers import reconnect as reconnect_handlers
from handlers.home import HomeTabs
from handlers.notices import NoticeDelivery
from handlers.oauth_callback import build_oauth_callback
from handlers.permissions import Permissions
from handlers.progress import ProgressUpdater
from handlers.reconnect import Reconnect
from handlers.usage_commands import UsageCommands
from handlers.wizard_open import WizardDeps

__all__ = ["Wiring", "register"]


@dataclass(frozen=True)
class Wiring:
    """What the rest of the process needs from the Slack side: the OAuth callback and the progress tick."""

    oauth_callback: OAuthCallback
    progress_tick: Callable[[], None]


def register(
    app: App,
    services: Services,
    client_for_team: Callable[[str], WebClient],
    *,
    people: PersonDirectory | None = None,
) -> Wiring:
    """Wire every listener; returns the OAuth callback the HTTP server serves and the progress job's tick.

    ``client_for_team`` gives a Web API client for a workspace outside a Slack request (callback, jobs).
    ``people`` links Slack people to Confluence for per-person datastores (None: they show nothing).
    """
    wizard = WizardDeps.build(services)
    signing_secret = services.settings.slack_signing_secret
    assert signing_secret is not None, "create_app checks the signing secret first"
    errors.register(app, signing_secret.get_secret_value())
    queries = Queries(services, people=people)
    permissions = Permissions(services.settings.admin_user_ids, multi_workspace=services.settings.multi_workspace)
    usage = UsageCommands(queries)
    reconnect = Reconnect(wizard, queries, permissions)
    sync = sync_actions.register(app, services, queries, permissions)
    tabs = HomeTabs(services, queries, client_for_team)
    notices = NoticeDelivery(services, client_for_team)
    deletion = delete.DeleteHandlers(DatastoreDeletion(services), queries, permissions, notices, tabs)
    delete.register(app, deletion)
    credit_handlers = credits.CreditsHandlers(Credits(services), permissions, services.settings)
    credits.register(app, credit_handlers)
    commands.register(app, commands.CommandDeps(wizard, usage, reconnect, sync, deletion, credit_handlers))
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

    return Wiring(oauth_callback=build_oauth_callback(client_for_team, wizard), progress_tick=tick)
