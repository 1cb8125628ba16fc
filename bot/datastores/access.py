"""Changing who sees a datastore's content (its access mode) and who may use it at all (its usage limit), each
change written to the access audit in the same transaction; and the one-time offer of per-person access to
the creators of datastores that predate access modes. No Slack here: permission checks, confirmations and
the DM live in handlers/."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.services import Services
from storage.access_audit import record_access_change
from storage.access_modes import AccessMode, AccessOffer, AuditAction, AuditSource, LimitKind, offered_modes
from storage.models import Connection, Datastore, utcnow
from storage.usage_limits import UsageLimit, clear_usage_limit, get_usage_limit, set_usage_limit, usage_limits_of

__all__ = [
    "DATA_CENTER_EACH",
    "AccessChanges",
    "LimitChange",
    "ModeChange",
    "OfferTarget",
    "UsageRule",
    "limit_value",
    "rule_of",
]

#: Why a Data Center datastore cannot be "each" (issue #12 item 6).
DATA_CENTER_EACH = (
    "Confluence Data Center datastores can only be searched as their connecting account for now: per-person "
    "access needs each person's own personal access token, which the bot cannot take yet."
)
#: How many pending offers one pass sends at most.
OFFERS_PER_PASS = 20


@dataclass(frozen=True)
class ModeChange:
    datastore_id: int
    name: str
    old: AccessMode
    new: AccessMode
    account_name: str | None
    changed: bool  # False: it already had that mode (nothing written)


@dataclass(frozen=True)
class UsageRule:
    """A datastore's usage limit as plain values (``kind`` NONE: everyone in the workspace may use it)."""

    kind: LimitKind = LimitKind.NONE
    channel_ids: tuple[str, ...] = ()
    group_id: str | None = None
    group_handle: str | None = None


@dataclass(frozen=True)
class LimitChange:
    datastore_id: int
    name: str
    old: UsageRule
    new: UsageRule
    changed: bool


@dataclass(frozen=True)
class OfferTarget:
    """A datastore whose creator has not been offered per-person access yet."""

    datastore_id: int
    team_id: str
    name: str
    creator_id: str
    account_name: str | None
    site: str


def rule_of(row: UsageLimit | None) -> UsageRule:
    if row is None:
        return UsageRule()
    if row.kind == LimitKind.CHANNELS.value:
        return UsageRule(LimitKind.CHANNELS, channel_ids=row.channel_ids)
    if row.kind == LimitKind.GROUP.value:
        return UsageRule(LimitKind.GROUP, group_id=row.group_id, group_handle=row.group_handle)
    # A kind the bot never writes limits to nobody: it can never widen who may use the datastore.
    return UsageRule(LimitKind.GROUP, group_id=None, group_handle=None)


def limit_value(rule: UsageRule) -> str:
    """The audit's value of a usage limit: ``none``, ``channels:C1,C2`` or ``group:S1|handle``."""
    if rule.kind is LimitKind.CHANNELS:
        return "channels:" + ",".join(rule.channel_ids)
    if rule.kind is LimitKind.GROUP:
        return f"group:{rule.group_id or ''}|{rule.group_handle or ''}"[:255]
    return LimitKind.NONE.value


def _account(session: Session, datastore: Datastore) -> str | None:
    connection = session.get(Connection, datastore.connection_id) if datastore.connection_id else None
    return connection.account_name if connection is not None else datastore.access_account_name


@dataclass
class AccessChanges:
    services: Services
    clock: Callable[[], datetime] = utcnow

    def mode_allowed(self, datastore_id: int, mode: AccessMode) -> str | None:
        """Why ``mode`` cannot be chosen for this datastore (its source does not offer it), or None."""
        with self.services.sessions() as session:
            datastore = session.get(Datastore, datastore_id)
            if datastore is not None and mode not in offered_modes(datastore.source):
                return DATA_CENTER_EACH
        return None

    def set_mode(
        self,
        *,
        team_id: str,
        datastore_id: int,
        mode: AccessMode,
        actor_user_id: str | None,
        source: AuditSource,
        answers_offer: bool = False,
    ) -> ModeChange | None:
        """Set the mode (compare-and-set: of two racing changes to the same mode one writes the audit row).
        None when the datastore is not in ``team_id`` any more. ``answers_offer`` marks the offer answered."""
        for _attempt in range(3):
            with self.services.sessions.begin() as session:
                datastore = session.get(Datastore, datastore_id, populate_existing=True)
                if datastore is None or datastore.team_id != team_id:
                    return None
                old = AccessMode.of(datastore.access_mode)
                account = _account(session, datastore)
                if answers_offer or (mode is AccessMode.EACH and datastore.access_offer == AccessOffer.PENDING):
                    datastore.access_offer = AccessOffer.ANSWERED  # (switched to each: no offer needed)
                if old is mode:
                    return ModeChange(datastore.id, datastore.name, old, mode, account, changed=False)
                moved = session.execute(
                    update(Datastore)
                    .where(Datastore.id == datastore_id, Datastore.access_mode == datastore.access_mode)
                    .values(access_mode=mode.value, access_account_name=account)
                    .execution_options(synchronize_session=False)
                )
                if getattr(moved, "rowcount", 0) != 1:
                    continue  # another change got there first: read it again
                record_access_change(
                    session,
                    datastore_id=datastore.id,
                    team_id=datastore.team_id,
                    actor_user_id=actor_user_id,
                    source=source,
                    old_value=old.value,
                    new_value=mode.value,
                    account_name=account,
                    now=self.clock(),
                )
                return ModeChange(datastore.id, datastore.name, old, mode, account, changed=True)
        return None

    def usage_rule(self, datastore_id: int) -> UsageRule:
        with self.services.sessions() as session:
            return rule_of(get_usage_limit(session, datastore_id=datastore_id))

    def usage_rules(self, datastore_ids: list[int]) -> dict[int, UsageRule]:
        """The usage limits of these datastores (one without a limit is not in the answer)."""
        with self.services.sessions() as session:
            rows = usage_limits_of(session, datastore_ids=datastore_ids)
            return {datastore_id: rule_of(row) for datastore_id, row in rows.items()}

    def set_limit(
        self, *, team_id: str, datastore_id: int, rule: UsageRule, actor_user_id: str | None, source: AuditSource
    ) -> LimitChange | None:
        """Replace the datastore's usage limit (``rule.kind`` NONE removes it), audited. None: not in ``team_id``."""
        now = self.clock()
        with self.services.sessions.begin() as session:
            datastore = session.get(Datastore, datastore_id, with_for_update=True)
            if datastore is None or datastore.team_id != team_id:
                return None
            old = rule_of(get_usage_limit(session, datastore_id=datastore_id))
            if limit_value(old) == limit_value(rule):
                return LimitChange(datastore.id, datastore.name, old, rule, changed=False)
            if rule.kind is LimitKind.NONE:
                clear_usage_limit(session, datastore_id=datastore_id)
            else:
                set_usage_limit(
                    session,
                    datastore_id=datastore_id,
                    kind=rule.kind,
                    channel_ids=rule.channel_ids,
                    group_id=rule.group_id,
                    group_handle=rule.group_handle,
                    updated_by=actor_user_id,
                    now=now,
                )
            record_access_change(
                session,
                datastore_id=datastore.id,
                team_id=datastore.team_id,
                actor_user_id=actor_user_id,
                source=source,
                old_value=limit_value(old),
                new_value=limit_value(rule),
                account_name=None,
                now=now,
                action=AuditAction.LIMIT,
            )
            return LimitChange(datastore.id, datastore.name, old, rule, changed=True)

    # --- the one-time offer ----------------------------------------------------------------------------
    def pending_offers(self, *, limit: int = OFFERS_PER_PASS) -> list[OfferTarget]:
        """Datastores still "everyone" whose creator was not offered per-person access yet (oldest first)."""
        with self.services.sessions() as session:
            rows = session.scalars(
                select(Datastore)
                .where(
                    Datastore.access_offer == AccessOffer.PENDING.value,
                    Datastore.access_mode == AccessMode.EVERYONE.value,
                )
                .order_by(Datastore.id)
                .limit(limit)
            ).all()
            targets = []
            for datastore in rows:
                connection = session.get(Connection, datastore.connection_id) if datastore.connection_id else None
                targets.append(
                    OfferTarget(
                        datastore_id=datastore.id,
                        team_id=datastore.team_id,
                        name=datastore.name,
                        creator_id=datastore.created_by,
                        account_name=_account(session, datastore),
                        site=connection.site_host if connection is not None else "",
                    )
                )
            return targets

    def offer_done(self, datastore_id: int, state: AccessOffer = AccessOffer.SENT) -> None:
        """The offer was posted (or can never be): it is not sent again. An answered offer stays answered."""
        with self.services.sessions.begin() as session:
            session.execute(
                update(Datastore)
                .where(Datastore.id == datastore_id, Datastore.access_offer == AccessOffer.PENDING.value)
                .values(access_offer=state.value)
                .execution_options(synchronize_session=False)
            )

    def still_pending(self, datastore_id: int) -> bool:
        """The offer has not been marked sent or answered (nor the datastore switched or deleted meanwhile)."""
        with self.services.sessions() as session:
            datastore = session.get(Datastore, datastore_id)
            return (
                datastore is not None
                and datastore.access_offer == AccessOffer.PENDING.value
                and AccessMode.of(datastore.access_mode) is AccessMode.EVERYONE
            )
