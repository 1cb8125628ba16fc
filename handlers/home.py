"""App Home: the tab (every datastore, with Sync now / Open thread / Delete…) published when it is opened, when
someone acts on it, and for recent viewers when a sync finishes or a datastore is deleted."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.clock import utcnow
from bot.datastores.queries import Queries
from bot.datastores.viewers import recent_viewers, record_viewer
from bot.errors import UserFacingError
from bot.services import Services
from bot.states import RunKind, RunTrigger
from handlers.actors import actor_of
from handlers.ids import ActionId, HomeMenuValue
from handlers.payloads import action_value, datastore_id, team_id_of
from handlers.thread_links import ThreadLinks
from handlers.usage_gate import UsageGate
from handlers.views.home import home_view
from handlers.wizard_open import WizardDeps

__all__ = ["HomeTabs", "register"]

logger = logging.getLogger(__name__)

#: Permalinks looked up per publish (the rest get theirs on a later publish; each is stored once found).
LINKS_PER_PUBLISH = 20
#: A finished sync refreshes the tabs of this many of the workspace's most recent viewers…
VIEWERS_REFRESHED = 50
#: …who opened the tab within this long.
VIEWER_MEMORY = timedelta(days=30)


class HomeTabs:
    """Publishes the App Home tab: every datastore of the workspace the viewer may use (its usage limit), actions
    checked on click."""

    def __init__(
        self,
        services: Services,
        queries: Queries,
        client_for_team: Callable[[str], WebClient],
        *,
        clock: Callable[[], datetime] = utcnow,
        gate: UsageGate | None = None,
    ) -> None:
        self.services, self.queries, self.client_for_team, self.clock = services, queries, client_for_team, clock
        self.links = ThreadLinks(services)
        self.gate = gate

    def _view(self, client: WebClient, team_id: str, notice: str | None = None, *, user_id: str) -> dict[str, Any]:
        infos = self.queries.list(team_id)
        if self.gate is not None:  # a datastore limited to a user group is listed for its members only
            infos = self.gate.listed(client, infos, team_id=team_id, user_id=user_id)
        return home_view(infos, links=self.links.links(client, infos, lookups=LINKS_PER_PUBLISH), notice=notice)

    def publish(self, client: WebClient, *, team_id: str, user_id: str, notice: str | None = None) -> None:
        client.views_publish(user_id=user_id, view=self._view(client, team_id, notice, user_id=user_id))

    def refresh_team(self, team_id: str) -> None:
        """Publish the tab again for the workspace's recent viewers (after a sync finished or a deletion)."""
        since = self.clock() - VIEWER_MEMORY
        viewers = recent_viewers(self.services, team_id=team_id, since=since, limit=VIEWERS_REFRESHED)
        if not viewers:
            return
        try:
            client = self.client_for_team(team_id)
            for user_id in viewers:
                client.views_publish(user_id=user_id, view=self._view(client, team_id, user_id=user_id))
        except SlackApiError as exc:  # a stale tab is shown until it is opened again; nothing is lost
            logger.info("App Home refresh of %s stopped: %s", team_id, exc.response.get("error"))
        except UserFacingError as exc:
            logger.info("App Home refresh of %s skipped: %s", team_id, exc)


class HomeHandlers:
    def __init__(
        self,
        wizard: WizardDeps,
        tabs: HomeTabs,
        sync_now: Callable[..., str],
        open_delete: Callable[..., str | None],
    ) -> None:
        self._wizard, self._tabs, self._sync_now, self._open_delete = wizard, tabs, sync_now, open_delete

    def home_opened(self, event: dict[str, Any], body: dict[str, Any], client: WebClient) -> None:
        if event.get("tab", "home") != "home":
            return
        team_id = body.get("team_id") or (event.get("view") or {}).get("team_id")
        if not team_id:
            logger.info("App Home opened without a team id: not published")
            return
        record_viewer(self._tabs.services, team_id=team_id, user_id=event["user"], now=self._tabs.clock())
        self._tabs.publish(client, team_id=team_id, user_id=event["user"])

    def create_clicked(self, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        actor = actor_of(body)
        if actor is None:
            logger.info("App Home's Create came without a readable identity")
            return
        self._wizard.open_new(client, trigger_id=body["trigger_id"], actor=actor, channel_id=None)

    def menu_selected(self, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        """A datastore's menu: "Sync now" and "Delete…" act here; "Open thread" is a link Slack opens itself."""
        ack()
        choice, _, raw_id = (action_value(body) or "").partition(":")
        chosen = datastore_id(raw_id)
        if chosen is None or choice not in (HomeMenuValue.SYNC, HomeMenuValue.DELETE):
            logger.info("App Home menu: ignored a choice the tab does not offer")
            return
        team_id, user_id = team_id_of(body), body["user"]["id"]
        try:
            if choice == HomeMenuValue.SYNC:
                notice: str | None = self._sync_now(
                    client,
                    team_id=team_id,
                    user_id=user_id,
                    datastore_id=chosen,
                    kind=RunKind.INCREMENTAL,
                    trigger=RunTrigger.MANUAL,
                )
            else:
                notice = self._open_delete(
                    client,
                    trigger_id=body["trigger_id"],
                    team_id=team_id,
                    user_id=user_id,
                    datastore_id=chosen,
                    response_url=None,
                )
        except UserFacingError as exc:
            notice = str(exc)
        if notice is not None:
            self._tabs.publish(client, team_id=team_id, user_id=user_id, notice=notice)


def register(app: App, handlers: HomeHandlers) -> None:
    app.event("app_home_opened")(handlers.home_opened)
    app.action(ActionId.HOME_CREATE)(handlers.create_clicked)
    app.action(ActionId.HOME_DATASTORE_MENU)(handlers.menu_selected)
