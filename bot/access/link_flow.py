"""What ``/oauth/confluence/callback`` does with a link state (``handlers/oauth_callback.py`` dispatches here).

A link state (see ``bot.access.links``) is claimed atomically, so a replay loses; an unknown, used or expired one
changes nothing. Then: exchange the code, check that the consent covers the datastore's site (else "You connected
<other site>; <datastore> is on <site>. Nothing was linked." and nothing is stored), ask who consented (``/me``)
and store the link with its tokens encrypted, replacing any earlier link of that person to that site. Network
calls happen outside database transactions; tokens appear in no page, log line or message.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot.access.links import state_hash
from bot.atlassian.oauth import AtlassianOAuth
from bot.errors import AtlassianError
from bot.services import Services
from storage.models import Datastore, utcnow
from storage.person_links import LinkState, PersonLink, claim_link_state, get_link_state, save_link

__all__ = ["LinkFlow", "LinkOutcome"]

logger = logging.getLogger(__name__)

AGAIN = "Go back to Slack and search the datastore again to get a new link."


@dataclass(frozen=True)
class LinkOutcome:
    """The page the browser is shown."""

    ok: bool
    title: str
    message: str


@dataclass(frozen=True)
class _Claimed:
    team_id: str
    enterprise_id: str | None
    slack_user_id: str
    cloud_id: str
    site: str
    datastore: str


def _host(url: str) -> str:
    return url.removeprefix("https://").removeprefix("http://")


class LinkFlow:
    def __init__(self, services: Services, oauth: AtlassianOAuth, *, clock: Callable[[], datetime] = utcnow) -> None:
        self.services = services
        self.oauth = oauth
        self._clock = clock

    def owns(self, state: str) -> bool:
        """Whether ``state`` was issued as a link state (used or not): the callback's dispatch."""
        if not state:
            return False
        with self.services.sessions.begin() as session:
            return get_link_state(session, state_hash=state_hash(state)) is not None

    def handle(self, params: dict[str, str]) -> LinkOutcome:
        claimed = self._claim(params.get("state", ""))
        if isinstance(claimed, LinkOutcome):
            return claimed
        if params.get("error"):
            return LinkOutcome(False, "Nothing was linked", "You did not give access in Atlassian's consent screen.")
        code = params.get("code", "")
        if not code:
            return LinkOutcome(False, "Nothing was linked", f"Atlassian sent no authorization code. {AGAIN}")
        try:
            tokens = self.oauth.exchange_code(code)
            sites = self.oauth.accessible_sites(tokens.access_token)
            if not any(site.cloud_id == claimed.cloud_id for site in sites):
                other = ", ".join(_host(site.url) for site in sites) or "no Confluence site"
                logger.info("a link consent of %s/%s covered another site", claimed.team_id, claimed.slack_user_id)
                return LinkOutcome(
                    False,
                    f"{claimed.site} was not included",
                    f"You connected {other}; {claimed.datastore} is on {claimed.site}. Nothing was linked.",
                )
            account = self.oauth.current_account(tokens.access_token)
        except AtlassianError as exc:
            logger.warning("linking %s/%s failed: %s", claimed.team_id, claimed.slack_user_id, exc)
            return LinkOutcome(False, "Nothing was linked", f"Atlassian could not finish linking: {exc} {AGAIN}")
        cipher = self.services.cipher
        with self.services.sessions.begin() as session:
            save_link(
                session,
                PersonLink(
                    team_id=claimed.team_id,
                    enterprise_id=claimed.enterprise_id,
                    slack_user_id=claimed.slack_user_id,
                    cloud_id=claimed.cloud_id,
                    account_id=account.account_id,
                    account_name=account.name,
                    access_token_enc=cipher.encrypt(tokens.access_token),
                    refresh_token_enc=cipher.encrypt(tokens.refresh_token) if tokens.refresh_token else None,
                    access_expires_at=tokens.expires_at,
                    scopes=tokens.scope,
                ),
            )
        logger.info("linked %s/%s to an Atlassian account on %s", claimed.team_id, claimed.slack_user_id, claimed.site)
        return LinkOutcome(
            True,
            f"You're connected as {account.name}",
            f"Searches of {claimed.datastore} now show what {account.name} can see on {claimed.site}. "
            "You can close this window and return to Slack.",
        )

    def _claim(self, state: str) -> _Claimed | LinkOutcome:
        now = self._clock()
        with self.services.sessions.begin() as session:
            row = get_link_state(session, state_hash=state_hash(state)) if state else None
            if row is None:
                return LinkOutcome(False, "This link is not valid", f"It was not issued by this bot. {AGAIN}")
            if row.used_at is not None:
                return LinkOutcome(False, "This link was already used", f"Each link works once. {AGAIN}")
            if row.expires_at <= now:
                return LinkOutcome(False, "This link expired", f"Links work for 15 minutes. {AGAIN}")
            if not claim_link_state(session, state_hash=row.state_hash, now=now):
                return LinkOutcome(False, "This link was already used", f"Each link works once. {AGAIN}")
            return _claimed(session.get(Datastore, row.datastore_id), row)


def _claimed(datastore: Datastore | None, row: LinkState) -> _Claimed:
    return _Claimed(
        team_id=row.team_id,
        enterprise_id=row.enterprise_id,
        slack_user_id=row.slack_user_id,
        cloud_id=row.cloud_id,
        site=_host(row.site_url),
        datastore=datastore.name if datastore is not None else "this datastore",
    )
