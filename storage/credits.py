"""Ingestion credits: charges, auto top-offs and grants, each written to the ledger (never commits).

A charge happens in the same transaction as the batch of pages it pays for, so a page is charged exactly
once even when a worker is killed and another resumes the run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from storage.models import CreditEntry, Datastore, SyncRun, Workspace
from storage.states import PauseKind, RunState

__all__ = [
    "ChargeResult",
    "LedgerRow",
    "add_credits",
    "charge",
    "ledger",
    "ledger_with_datastores",
    "resume_paused_for_credits",
    "top_offs_this_month",
]


#: The note of a sync's charge: how many pages it paid for.
_PAGES = re.compile(r"([0-9]{1,12}) pages?")


@dataclass(frozen=True)
class ChargeResult:
    """``paid`` units were charged (≤ requested); ``topped_off`` credits were added first if needed."""

    paid: int
    topped_off: int
    balance: int


def _month_start(now: datetime) -> datetime:
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def top_offs_this_month(session: Session, *, team_id: str, now: datetime) -> int:
    total = session.scalar(
        select(func.coalesce(func.sum(CreditEntry.amount), 0)).where(
            CreditEntry.team_id == team_id, CreditEntry.kind == "top_off", CreditEntry.created_at >= _month_start(now)
        )
    )
    return int(total or 0)


def _locked_workspace(session: Session, team_id: str) -> Workspace | None:
    return session.scalars(select(Workspace).where(Workspace.team_id == team_id).with_for_update()).first()


def _record(
    session: Session, workspace: Workspace, kind: str, amount: int, now: datetime, run_id: int | None, note: str | None
) -> None:
    workspace.credit_balance += amount
    session.add(
        CreditEntry(
            team_id=workspace.team_id,
            kind=kind,
            amount=amount,
            balance_after=workspace.credit_balance,
            run_id=run_id,
            note=note,
            created_at=now,
        )
    )


def _pages(count: int) -> str:
    return f"{count} page{'' if count == 1 else 's'}"


def _merged_charge(session: Session, workspace: Workspace, units: int, cost_per_unit: int, run_id: int | None) -> bool:
    """Add this charge to the ledger's newest entry when that is a charge of the same run (a sync charges each
    group of pages it stores): the ledger shows one line a run, not one a batch. The workspace row is locked."""
    if run_id is None:
        return False
    newest = session.scalars(
        select(CreditEntry).where(CreditEntry.team_id == workspace.team_id).order_by(CreditEntry.id.desc()).limit(1)
    ).first()
    pages = _PAGES.fullmatch(newest.note or "") if newest is not None else None
    if newest is None or newest.kind != "charge" or newest.run_id != run_id or pages is None:
        return False
    workspace.credit_balance -= units * cost_per_unit
    newest.amount -= units * cost_per_unit
    newest.balance_after = workspace.credit_balance
    newest.note = _pages(int(pages.group(1)) + units)
    return True


def _maybe_top_off(session: Session, workspace: Workspace, needed: int, now: datetime, run_id: int | None) -> int:
    threshold, amount, cap = workspace.topoff_threshold, workspace.topoff_amount, workspace.topoff_monthly_cap
    if not threshold or not amount:
        return 0
    added = 0
    while workspace.credit_balance - needed < threshold:
        room = (
            amount
            if cap is None
            else min(amount, cap - top_offs_this_month(session, team_id=workspace.team_id, now=now))
        )
        if room <= 0:
            break
        _record(session, workspace, "top_off", room, now, run_id, "auto top-off")
        session.flush()
        added += room
    return added


def charge(
    session: Session, *, team_id: str, units: int, cost_per_unit: int, now: datetime, run_id: int | None = None
) -> ChargeResult:
    """Charge up to ``units`` × ``cost_per_unit``; tops off first when configured. Pays only whole units."""
    workspace = _locked_workspace(session, team_id)
    if workspace is None or units <= 0:
        return ChargeResult(paid=0, topped_off=0, balance=workspace.credit_balance if workspace else 0)
    topped = _maybe_top_off(session, workspace, units * cost_per_unit, now, run_id)
    affordable = units if cost_per_unit == 0 else min(units, max(workspace.credit_balance, 0) // cost_per_unit)
    billed = affordable > 0 and cost_per_unit > 0
    if billed and not _merged_charge(session, workspace, affordable, cost_per_unit, run_id):
        _record(session, workspace, "charge", -affordable * cost_per_unit, now, run_id, _pages(affordable))
    session.flush()
    return ChargeResult(paid=affordable, topped_off=topped, balance=workspace.credit_balance)


def add_credits(
    session: Session, *, team_id: str, amount: int, now: datetime, kind: str = "manual", note: str | None = None
) -> int | None:
    """Add ``amount`` credits to a known workspace (an operator's `credits add`, which refuses amounts below 1);
    returns the new balance, or None — nothing written — when no workspace ``team_id`` exists: its free starting
    balance is granted when it first appears (storage.workspaces.touch_workspace), not here."""
    workspace = _locked_workspace(session, team_id)
    if workspace is None:
        return None
    _record(session, workspace, kind, amount, now, None, note)
    session.flush()
    return workspace.credit_balance


def ledger(session: Session, *, team_id: str, limit: int = 10) -> list[CreditEntry]:
    statement = select(CreditEntry).where(CreditEntry.team_id == team_id).order_by(CreditEntry.id.desc()).limit(limit)
    return list(session.scalars(statement))


@dataclass(frozen=True)
class LedgerRow:
    entry: CreditEntry
    datastore: str | None  # the datastore a charge or top-off was for (None: none, or deleted since)


def ledger_with_datastores(session: Session, *, team_id: str, limit: int = 10) -> list[LedgerRow]:
    """The newest ledger entries with the name of the datastore each run belonged to."""
    statement = (
        select(CreditEntry, Datastore.name)
        .outerjoin(SyncRun, SyncRun.id == CreditEntry.run_id)
        .outerjoin(Datastore, Datastore.id == SyncRun.datastore_id)
        .where(CreditEntry.team_id == team_id)
        .order_by(CreditEntry.id.desc())
        .limit(limit)
    )
    return [LedgerRow(entry=entry, datastore=name) for entry, name in session.execute(statement)]


def resume_paused_for_credits(session: Session, *, team_id: str) -> int:
    """Queue again the workspace's runs paused for lack of credits; returns how many."""
    team_datastores = select(Datastore.id).where(Datastore.team_id == team_id)
    result = session.execute(
        update(SyncRun)
        .where(
            SyncRun.datastore_id.in_(team_datastores),
            SyncRun.state == RunState.PAUSED,
            SyncRun.pause_kind == PauseKind.CREDITS,
        )
        .values(state=RunState.QUEUED)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
