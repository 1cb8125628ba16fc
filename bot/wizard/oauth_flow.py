"""The Confluence consent handoff: single-use ``state`` values and what the callback does with them.

A state is 32 random bytes; only its SHA-256 is stored, with the team, user and wizard it was issued for
and a 15-minute expiry. The callback claims it atomically (so a replay loses), exchanges the code, checks
that the consent covers the site the user typed, and stores the connection with its tokens encrypted.
An expired state that is still its wizard's own (unused, the wizard waiting for consent) gives that wizard's
modal a fresh link, as every other failure offers one; any other bad state changes nothing.
Network calls happen outside database transactions.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.access.links import link_consenter
from bot.actors import OPERATOR
from bot.atlassian.oauth import AccessibleSite, AtlassianOAuth, TokenSet
from bot.errors import AtlassianError
from bot.services import Services
from bot.wizard.snapshots import snapshot_of
from bot.wizard.spaces import SpaceLister
from bot.wizard.steps import Step, WizardSnapshot
from storage.models import Connection, Datastore, OAuthState, SyncRun, Wizard, utcnow
from storage.states import ConnectionStatus, PauseKind, RunState, WizardPurpose, WizardStatus
from storage.wizards import add_oauth_state, claim_oauth_state, get_oauth_state, get_wizard

__all__ = ["STATE_TTL", "CallbackOutcome", "OAuthFlow", "issue_state"]

logger = logging.getLogger(__name__)

STATE_TTL = timedelta(minutes=15)


def _hash(state: str) -> str:
    return hashlib.sha256(state.encode("utf-8")).hexdigest()


def issue_state(session: Session, wizard: Wizard, now: datetime) -> str:
    """A fresh single-use state for ``wizard``; the raw value is returned and never stored."""
    raw = secrets.token_urlsafe(32)
    add_oauth_state(
        session,
        OAuthState(
            state_hash=_hash(raw),
            wizard_id=wizard.id,
            team_id=wizard.team_id,
            user_id=wizard.user_id,
            created_at=now,
            expires_at=now + STATE_TTL,
        ),
    )
    return raw


@dataclass(frozen=True)
class CallbackOutcome:
    """What the browser is told, and what (if anything) the still-open modal should show next."""

    ok: bool
    title: str
    message: str
    snapshot: WizardSnapshot | None = None
    view_id: str | None = None
    view_closed: bool = False
    team_id: str | None = None
    #: The link had expired: the modal shows a fresh one (or, closed, the DM says how to get one).
    link_expired: bool = False


def _page(ok: bool, title: str, message: str) -> CallbackOutcome:
    return CallbackOutcome(ok=ok, title=title, message=message)


def _host(url: str) -> str:
    return url.removeprefix("https://")


USED = "Each consent link works once. Go back to Slack."
EXPIRED = "Consent links work for 15 minutes. Go back to Slack and click “Open window” again."
DENIED = "You chose not to give access in Atlassian's consent screen, so nothing was connected."


@dataclass
class OAuthFlow:
    services: Services
    oauth: AtlassianOAuth
    transport: httpx.BaseTransport | None = None
    clock: Callable[[], datetime] = utcnow

    def handle(self, params: dict[str, str]) -> CallbackOutcome:
        state = params.get("state", "")
        if not state:
            return _page(False, "This link is not valid", "It has no state. Start again from Slack.")
        claimed = self._claim(state)
        if isinstance(claimed, CallbackOutcome):
            return claimed
        wizard_id = claimed
        if params.get("error"):
            reason = (
                DENIED
                if params["error"] == "access_denied"
                else (f"Atlassian stopped the connection: {params.get('error_description') or params['error']}.")
            )
            return self._fail(wizard_id, reason, title="Access was not granted")
        code = params.get("code", "")
        if not code:
            return self._fail(wizard_id, "Atlassian sent no authorization code.", title="Could not connect")
        return self._connect(wizard_id, code)

    def _claim(self, state: str) -> str | CallbackOutcome:
        """The wizard a valid state was issued for (the state is then used up), or the page to show.

        Nothing is written for a state that is unknown, used, bound to someone else or to a wizard that is no
        longer waiting for consent. An expired one that is still that wizard's own gets its modal a fresh
        link (and is used up, so a replay does nothing).
        """
        now = self.clock()
        with self.services.sessions.begin() as session:
            row = get_oauth_state(session, state_hash=_hash(state))
            if row is None:
                return _page(False, "This link is not valid", "It was not issued by this bot. Start again from Slack.")
            if row.used_at is not None:
                return _page(False, "This link was already used", USED)
            wizard = get_wizard(session, wizard_id=row.wizard_id)
            if wizard is None or wizard.user_id != row.user_id or wizard.team_id != row.team_id:
                return _page(False, "This link belongs to someone else", "Start your own setup from Slack.")
            if wizard.status != WizardStatus.OPEN or wizard.expires_at <= now or wizard.step != Step.CONNECT:
                return _page(False, "This setup is no longer waiting", "Go back to Slack to see where it stands.")
            if not claim_oauth_state(session, state_hash=row.state_hash, now=now):
                return _page(False, "This link was already used", USED)
            if row.expires_at <= now:
                return self._expired(session, wizard, now)
            return wizard.id

    def _expired(self, session: Session, wizard: Wizard, now: datetime) -> CallbackOutcome:
        """The modal (if it is still open) gets a new consent link; a closed one gets a "Continue setup" DM."""
        open_modal = bool(wizard.view_id) and not wizard.view_closed
        fresh = self.oauth.authorize_url(issue_state(session, wizard, now)) if open_modal else None
        logger.info("an expired consent link of wizard %s was opened; %s", wizard.id, "new link" if fresh else "DM")
        return CallbackOutcome(
            ok=False,
            title="This link expired",
            message=EXPIRED,
            snapshot=snapshot_of(
                session, wizard, free_credits=self.services.settings.free_credits, authorize_url=fresh
            ),
            view_id=wizard.view_id,
            view_closed=not open_modal,
            team_id=wizard.team_id,
            link_expired=True,
        )

    def _fail(
        self, wizard_id: str, reason: str, *, title: str, offered: list[AccessibleSite] | None = None
    ) -> CallbackOutcome:
        with self.services.sessions.begin() as session:
            wizard = get_wizard(session, wizard_id=wizard_id)
            assert wizard is not None
            wizard.oauth_error = reason
            wizard.offered_sites = {"urls": [site.url for site in offered]} if offered else None
            session.flush()
            return CallbackOutcome(
                ok=False,
                title=title,
                message=reason + " Go back to Slack to try again.",
                snapshot=snapshot_of(session, wizard, free_credits=self.services.settings.free_credits),
                view_id=wizard.view_id,
                view_closed=wizard.view_closed,
                team_id=wizard.team_id,
            )

    def _restore(self, session: Session, wizard: Wizard, tokens: TokenSet, account_id: str, name: str) -> int:
        """A reconnect: fresh tokens on the existing connection, and its paused syncs queued again."""
        connection = session.get(Connection, wizard.connection_id, with_for_update=True)
        assert connection is not None
        cipher = self.services.cipher
        connection.access_token_enc = cipher.encrypt(tokens.access_token)
        connection.refresh_token_enc = cipher.encrypt(tokens.refresh_token) if tokens.refresh_token else None
        connection.access_expires_at, connection.scopes = tokens.expires_at, tokens.scope
        connection.account_id, connection.account_name, connection.status = account_id, name, ConnectionStatus.ACTIVE
        connection.token_version += 2 - connection.token_version % 2  # settled (even) and newer than any claim
        paused = select(Datastore.id).where(Datastore.connection_id == connection.id)
        session.execute(
            update(SyncRun)
            .where(
                SyncRun.datastore_id.in_(paused),
                SyncRun.state == RunState.PAUSED,
                SyncRun.pause_kind == PauseKind.RECONNECT,
            )
            .values(state=RunState.QUEUED)
            .execution_options(synchronize_session=False)
        )
        wizard.oauth_error, wizard.offered_sites = None, None
        wizard.step, wizard.status = Step.RECONNECTED, WizardStatus.COMPLETED
        link_consenter(session, connection, enterprise_id=wizard.enterprise_id, slack_user_id=wizard.user_id)
        return connection.id

    def _connect(self, wizard_id: str, code: str) -> CallbackOutcome:
        with self.services.sessions.begin() as session:
            wizard = get_wizard(session, wizard_id=wizard_id)
            assert wizard is not None and wizard.site_url is not None
            site_url = wizard.site_url
        try:
            tokens = self.oauth.exchange_code(code)
            sites = self.oauth.accessible_sites(tokens.access_token)
            site = next((s for s in sites if s.url.lower() == site_url.lower()), None)
            if site is None:
                granted = ", ".join(_host(s.url) for s in sites) or "no Confluence site"
                return self._fail(
                    wizard_id,
                    f"Your consent covered {granted}, not {_host(site_url)}.",
                    title=f"{_host(site_url)} was not included",
                    offered=sites,
                )
            account = self.oauth.current_account(tokens.access_token)
        except AtlassianError as exc:
            logger.warning("Confluence consent for wizard %s failed: %s", wizard_id, exc)
            return self._fail(wizard_id, f"Atlassian could not finish connecting: {exc}", title="Could not connect")
        connection_id = self._store(wizard_id, tokens, site, account.account_id, account.name)
        SpaceLister(self.services, self.transport, self.clock).refresh(connection_id)
        with self.services.sessions.begin() as session:
            wizard = get_wizard(session, wizard_id=wizard_id)
            assert wizard is not None
            done = "Reconnected" if wizard.purpose == WizardPurpose.RECONNECT else "Connected"
            return CallbackOutcome(
                ok=True,
                title=f"{done} to {_host(site.url)}",
                message="You can close this window and return to Slack.",
                snapshot=snapshot_of(session, wizard, free_credits=self.services.settings.free_credits),
                view_id=wizard.view_id,
                view_closed=wizard.view_closed,
                team_id=wizard.team_id,
            )

    def _store(self, wizard_id: str, tokens: TokenSet, site: AccessibleSite, account_id: str, name: str) -> int:
        cipher = self.services.cipher
        with self.services.sessions.begin() as session:
            wizard = get_wizard(session, wizard_id=wizard_id, for_update=True)
            assert wizard is not None
            if wizard.purpose == WizardPurpose.RECONNECT and wizard.connection_id is not None:
                return self._restore(session, wizard, tokens, account_id, name)
            connection = Connection(
                team_id=wizard.team_id,
                created_by=wizard.user_id,
                cloud_id=site.cloud_id,
                site_url=site.url,
                site_name=site.name,
                account_id=account_id,
                account_name=name,
                scopes=tokens.scope,
                access_token_enc=cipher.encrypt(tokens.access_token),
                refresh_token_enc=cipher.encrypt(tokens.refresh_token) if tokens.refresh_token else None,
                access_expires_at=tokens.expires_at,
            )
            session.add(connection)
            session.flush()
            if wizard.user_id != OPERATOR:  # an operator's `datastore-bot connect` links no Slack person
                link_consenter(session, connection, enterprise_id=wizard.enterprise_id, slack_user_id=wizard.user_id)
            wizard.connection_id = connection.id
            wizard.oauth_error = None
            wizard.offered_sites = None
            wizard.step = Step.GRANT_ACCESS
            return connection.id
