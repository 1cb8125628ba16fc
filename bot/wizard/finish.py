"""The wizard's last steps: what to share (step 4) and Create (step 5), idempotent per wizard."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.actors import Actor
from bot.datastores.homes import home_datastore
from bot.wizard.inputs import InvalidInput
from bot.wizard.oauth_flow import issue_state
from bot.wizard.service import WizardService, new_wizard_id, started_by
from bot.wizard.snapshots import snapshot_of
from bot.wizard.spaces import SpaceLister
from bot.wizard.steps import Step, WizardSnapshot, is_wizard_id
from storage.access_audit import record_access_change
from storage.access_modes import AccessMode, AuditSource
from storage.connections import get_connection
from storage.datastores import search_spaces
from storage.models import ConfluenceSpace, Connection, Datastore, SyncRun, Wizard
from storage.states import DatastoreStatus, RunKind, RunTrigger, WizardPurpose, WizardStatus
from storage.wizards import get_wizard

__all__ = ["CreatedDatastore", "WizardFinish"]

MAX_SPACES = 100
RECONNECT_TTL = timedelta(hours=1)
#: How long the space picker waits for a listing it had to start (Slack gives the whole request 3 seconds).
PICKER_WAIT = 2.0


@dataclass(frozen=True)
class CreatedDatastore:
    datastore_id: int
    name: str
    channel_id: str | None
    site: str
    account: str | None
    share_all: bool
    space_names: tuple[str, ...]
    #: False when an earlier submit of the same wizard already created it (double click): announce nothing.
    created_now: bool


@dataclass
class WizardFinish:
    """Steps 3c–5 on top of WizardService: consent links, content scope and Create."""

    wizards: WizardService
    authorize_url_for: Callable[[str], str]
    spaces: SpaceLister | None = None

    def connect_snapshot(self, wizard_id: str, actor: Actor, site_url: str | None = None) -> WizardSnapshot:
        """The "Connect Confluence" step with a fresh single-use consent link (optionally for another site)."""
        services = self.wizards.services
        with services.sessions.begin() as session:
            wizard = self.wizards.owned(session, wizard_id, actor)
            if site_url is not None:
                wizard.site_url = site_url
            wizard.step = Step.CONNECT
            wizard.oauth_error = None
            wizard.offered_sites = None
            state = issue_state(session, wizard, self.wizards.clock())
            session.flush()
            return snapshot_of(
                session,
                wizard,
                free_credits=services.settings.free_credits,
                authorize_url=self.authorize_url_for(state),
            )

    def start_reconnect(self, *, actor: Actor, datastore_id: int) -> WizardSnapshot:
        """A one-step wizard that asks for consent again for a datastore's connection (same site)."""
        services = self.wizards.services
        now = self.wizards.clock()
        with services.sessions.begin() as session:
            datastore = home_datastore(session, datastore_id=datastore_id, actor=actor)
            connection_id = datastore.connection_id if datastore else None
            connection = get_connection(session, connection_id=connection_id) if connection_id else None
            if datastore is None or connection is None:
                raise InvalidInput("reconnect", "That datastore or its Confluence connection no longer exists.")
            wizard = Wizard(
                id=new_wizard_id(),
                team_id=actor.team_id,
                enterprise_id=actor.enterprise_id,
                user_id=actor.user_id,
                channel_id=datastore.channel_id,
                purpose=WizardPurpose.RECONNECT,
                step=Step.CONNECT,
                name=datastore.name,
                site_url=connection.site_url,
                connection_id=connection.id,
                datastore_id=datastore.id,
                expires_at=now + RECONNECT_TTL,
            )
            session.add(wizard)
            session.flush()
            state = issue_state(session, wizard, now)
            return snapshot_of(
                session,
                wizard,
                free_credits=services.settings.free_credits,
                authorize_url=self.authorize_url_for(state),
            )

    def space_options(self, wizard_id: str, actor: Actor, query: str) -> list[ConfluenceSpace]:
        """Spaces matching ``query`` for the picker. If listing them after consent failed, try once more
        now, waiting for it at most PICKER_WAIT seconds: the picker must answer within Slack's 3 seconds."""
        with self.wizards.services.sessions.begin() as session:
            wizard = self.wizards.owned(session, wizard_id, actor)
            connection_id = wizard.connection_id
            connection = get_connection(session, connection_id=connection_id) if connection_id else None
            listed = connection is not None and connection.spaces_listed_at is not None
        if connection_id is None:
            return []
        if not listed and self.spaces is not None:
            self.spaces.refresh_within(connection_id, PICKER_WAIT)
        with self.wizards.services.sessions() as session:
            spaces = search_spaces(session, connection_id=connection_id, query=query, limit=100)
            session.expunge_all()
            return spaces

    def choose_share(self, wizard_id: str, actor: Actor, share_all: bool) -> WizardSnapshot:
        services = self.wizards.services
        with services.sessions.begin() as session:
            wizard = self.wizards.owned(session, wizard_id, actor)
            wizard.share_all = share_all
            session.flush()
            return snapshot_of(session, wizard, free_credits=services.settings.free_credits)

    def submit_grant(
        self,
        wizard_id: str,
        actor: Actor,
        share_all: bool,
        space_ids: Sequence[str],
        access: AccessMode = AccessMode.EACH,
    ) -> WizardSnapshot:
        """What to share and who sees it. "each" goes on to the summary; "everyone" first to a confirmation
        naming the connecting account (the mode is stored only when that is confirmed)."""
        services = self.wizards.services
        if not share_all and not space_ids:
            raise InvalidInput("spaces", "Pick at least one space, or choose “Share all content”.")
        if len(space_ids) > MAX_SPACES:
            raise InvalidInput("spaces", f"Pick at most {MAX_SPACES} spaces, or choose “Share all content”.")
        with services.sessions.begin() as session:
            wizard = self.wizards.owned(session, wizard_id, actor)
            items: list[dict[str, str]] = []
            if not share_all:
                rows = session.scalars(
                    select(ConfluenceSpace).where(
                        ConfluenceSpace.connection_id == wizard.connection_id,
                        ConfluenceSpace.space_id.in_(list(space_ids)),
                    )
                ).all()
                known = {row.space_id: row for row in rows}
                missing = [sid for sid in space_ids if sid not in known]
                if missing:
                    raise InvalidInput("spaces", "Some picked spaces are no longer visible to the connected account.")
                items = [{"id": sid, "key": known[sid].key, "name": known[sid].name} for sid in space_ids]
            wizard.share_all = share_all
            wizard.spaces = {"items": items}
            if access is AccessMode.EVERYONE:
                wizard.access_mode, wizard.step = None, Step.CONFIRM_ACCESS
            else:
                wizard.access_mode, wizard.step = AccessMode.EACH.value, Step.SUMMARY
            session.flush()
            return snapshot_of(session, wizard, free_credits=services.settings.free_credits)

    def confirm_everyone(self, wizard_id: str, actor: Actor) -> WizardSnapshot:
        """The confirmation that everyone here sees what the connecting account can see: only from that step."""
        services = self.wizards.services
        with services.sessions.begin() as session:
            wizard = self.wizards.owned(session, wizard_id, actor)
            if wizard.step != Step.CONFIRM_ACCESS:
                raise InvalidInput("access", "Choose who sees the content in the “Grant access” step first.")
            wizard.access_mode, wizard.step = AccessMode.EVERYONE.value, Step.SUMMARY
            session.flush()
            return snapshot_of(session, wizard, free_credits=services.settings.free_credits)

    def create(self, wizard_id: str, actor: Actor, user_name: str | None) -> CreatedDatastore:
        """Store the datastore and a queued sync. A second submit returns the first one's datastore."""
        services = self.wizards.services
        try:
            with services.sessions.begin() as session:
                wizard = get_wizard(session, wizard_id=wizard_id, for_update=True) if is_wizard_id(wizard_id) else None
                if wizard is not None and started_by(wizard, actor) and wizard.datastore_id is not None:
                    datastore = session.get(Datastore, wizard.datastore_id)
                    if datastore is not None:
                        return self._created(datastore, wizard.site_url, created_now=False, session=session)
                wizard = self.wizards.owned(session, wizard_id, actor, for_update=True)
                if wizard.step != Step.SUMMARY or wizard.name is None or wizard.connection_id is None:
                    raise InvalidInput("create", "This setup is not finished yet. Go back and complete every step.")
                connection = session.get(Connection, wizard.connection_id)
                account = connection.account_name if connection is not None else None
                # "everyone" is stored on a wizard only by its confirmation; anything else is "each".
                mode = AccessMode.of(wizard.access_mode)
                datastore = Datastore(
                    team_id=wizard.team_id,
                    name=wizard.name,
                    name_key=wizard.name_key or wizard.name.casefold(),
                    connection_id=wizard.connection_id,
                    share_all=bool(wizard.share_all),
                    spaces=wizard.spaces,
                    status=DatastoreStatus.INITIALIZING,
                    created_by=actor.user_id,
                    created_by_name=user_name,
                    wizard_id=wizard.id,
                    channel_id=wizard.channel_id,
                    # Chosen in "Grant access": no offer DM (that is for datastores older than the choice).
                    access_mode=mode.value,
                    access_account_name=account,
                    access_offer=None,
                )
                session.add(datastore)
                session.flush()
                record_access_change(
                    session,
                    datastore_id=datastore.id,
                    team_id=datastore.team_id,
                    actor_user_id=actor.user_id,
                    source=AuditSource.WIZARD,
                    old_value=None,
                    new_value=mode.value,
                    account_name=account,
                    now=self.wizards.clock(),
                )
                session.add(SyncRun(datastore_id=datastore.id, kind=RunKind.FULL, trigger=RunTrigger.CREATE))
                wizard.datastore_id = datastore.id
                wizard.status = WizardStatus.COMPLETED
                wizard.name_key = None
                session.flush()
                return self._created(datastore, wizard.site_url, created_now=True, session=session)
        except IntegrityError:
            return self._after_conflict(wizard_id, actor)

    def _after_conflict(self, wizard_id: str, actor: Actor) -> CreatedDatastore:
        with self.wizards.services.sessions.begin() as session:
            wizard = get_wizard(session, wizard_id=wizard_id)
            if wizard is not None and wizard.datastore_id is not None:
                datastore = session.get(Datastore, wizard.datastore_id)
                if datastore is not None:
                    return self._created(datastore, wizard.site_url, created_now=False, session=session)
            if wizard is not None and started_by(wizard, actor):
                wizard.step = Step.NAME
        raise InvalidInput("name", "Another datastore took this name a moment ago. Pick another name.")

    @staticmethod
    def _created(
        datastore: Datastore, site_url: str | None, *, created_now: bool, session: Session
    ) -> CreatedDatastore:
        connection = session.get(Connection, datastore.connection_id) if datastore.connection_id else None
        items = (datastore.spaces or {}).get("items") or []
        return CreatedDatastore(
            datastore_id=datastore.id,
            name=datastore.name,
            channel_id=datastore.channel_id,
            site=connection.site_host if connection else (site_url or "").removeprefix("https://"),
            account=connection.account_name if connection else None,
            share_all=datastore.share_all,
            space_names=tuple(str(item["name"]) for item in items),
            created_now=created_now,
        )
