"""GET /oauth/confluence/callback: finish the consent, answer the browser, move the modal on.

The page is unsigned by design: only a state this bot issued moves anything, and only its own wizard's
modal (or, closed, a DM to the person who started it). An expired one gives that modal a fresh link.
A "Connect your Confluence account" state (issue #12) goes to the link flow instead (bot/access/link_flow.py).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.access.link_flow import LinkFlow
from bot.access.link_groups import LinkGroups
from bot.actors import OPERATOR
from bot.atlassian.oauth import AtlassianOAuth
from bot.atlassian.tokens import TokenManager
from bot.errors import UserFacingError
from bot.web import Answer, OAuthCallback, html_page
from bot.wizard.oauth_flow import CallbackOutcome, OAuthFlow
from handlers.views.wizard_finish import continue_setup_message
from handlers.wizard_open import WizardDeps

__all__ = ["build_oauth_callback"]

logger = logging.getLogger(__name__)

#: Never-read links whose groups a successful consent reads at once (the rest wait for the hourly job).
NEW_LINKS = 20
#: The longest a consent's group read waits for Atlassian's Retry-After (the browser is waiting).
GROUPS_WAIT_MAX = 1.0


def _tell_slack(client: WebClient, deps: WizardDeps, outcome: CallbackOutcome) -> None:
    snapshot = outcome.snapshot
    if snapshot is None or snapshot.user_id == OPERATOR:  # `datastore-bot connect` waits in the terminal
        return
    if outcome.view_id and not outcome.view_closed:
        try:
            client.views_update(view_id=outcome.view_id, view=deps.render(snapshot))
            return
        except SlackApiError as exc:
            if exc.response.get("error") not in ("not_found", "view_not_found"):
                raise
            logger.info("the wizard's modal was closed; sending a DM instead")
    dm = client.conversations_open(users=snapshot.user_id)
    message = continue_setup_message(snapshot, link_expired=outcome.link_expired)
    client.chat_postMessage(channel=dm["channel"]["id"], **message)


def build_oauth_callback(client_for_team: Callable[[str], WebClient], deps: WizardDeps) -> OAuthCallback:
    flow = OAuthFlow(deps.services, AtlassianOAuth(deps.services.settings))
    links = LinkFlow(deps.services, AtlassianOAuth(deps.services.settings))
    services = deps.services
    # A new link (the person's own, or the consenter's by the wizard) holds only its own account until its groups
    # are read: read them now rather than at the hourly job, so the person's first search shows what it should.
    groups = LinkGroups(
        services,
        TokenManager(services, AtlassianOAuth(services.settings)),
        services.permission_lane,
        sleep=lambda seconds: time.sleep(min(seconds, GROUPS_WAIT_MAX)),
    )

    def callback(params: dict[str, str]) -> Answer:
        if links.owns(params.get("state", "")):
            linked = links.handle(params)
            if linked.ok:
                groups.run(limit=NEW_LINKS, unread_only=True)
            return html_page("200 OK" if linked.ok else "400 Bad Request", linked.title, linked.message)
        outcome = flow.handle(params)
        try:
            if outcome.team_id is not None:
                _tell_slack(client_for_team(outcome.team_id), deps, outcome)
        except SlackApiError as exc:
            logger.warning("could not show the consent result in Slack: %s", exc.response.get("error"))
        except UserFacingError as exc:
            logger.warning("could not show the consent result in Slack: %s", exc)
        if outcome.ok:
            groups.run(limit=NEW_LINKS, unread_only=True)
        status = "200 OK" if outcome.ok else "400 Bad Request"
        return html_page(status, outcome.title, outcome.message)

    return callback
