"""A workspace's ingestion credits as people see and change them: balance, ledger, auto top-off."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot.services import Services
from bot.wizard.inputs import TopOffSettings
from storage.credits import LedgerRow, ledger_with_datastores, resume_paused_for_credits, top_offs_this_month
from storage.models import Workspace, utcnow
from storage.workspaces import touch_workspace

__all__ = ["Credits", "CreditsOverview"]


@dataclass(frozen=True)
class CreditsOverview:
    team_id: str
    balance: int
    top_off: TopOffSettings | None
    topped_off_this_month: int
    top_off_changed_by: str | None
    top_off_changed_at: datetime | None
    ledger: list[LedgerRow]


class Credits:
    def __init__(self, services: Services, *, clock: Callable[[], datetime] = utcnow) -> None:
        self.services, self.clock = services, clock

    def overview(self, team_id: str, *, entries: int = 10) -> CreditsOverview:
        with self.services.sessions() as session:
            workspace = session.get(Workspace, team_id)
            top_off = None
            if workspace is not None and workspace.topoff_threshold and workspace.topoff_amount:
                top_off = TopOffSettings(
                    threshold=workspace.topoff_threshold,
                    amount=workspace.topoff_amount,
                    monthly_cap=workspace.topoff_monthly_cap,
                )
            return CreditsOverview(
                team_id=team_id,
                balance=workspace.credit_balance if workspace else self.services.settings.free_credits,
                top_off=top_off,
                topped_off_this_month=top_offs_this_month(session, team_id=team_id, now=self.clock()),
                top_off_changed_by=workspace.topoff_updated_by if workspace else None,
                top_off_changed_at=workspace.topoff_updated_at if workspace else None,
                ledger=ledger_with_datastores(session, team_id=team_id, limit=entries),
            )

    def set_top_off(self, *, team_id: str, user_id: str | None, top_off: TopOffSettings | None) -> int:
        """Turn auto top-off on with these amounts (or off); syncs paused for credits resume when it is on.
        Returns how many paused syncs resume."""
        with self.services.sessions.begin() as session:
            workspace = touch_workspace(session, team_id=team_id, initial_credits=self.services.settings.free_credits)
            workspace.topoff_threshold = top_off.threshold if top_off else None
            workspace.topoff_amount = top_off.amount if top_off else None
            workspace.topoff_monthly_cap = top_off.monthly_cap if top_off else None
            workspace.topoff_updated_by, workspace.topoff_updated_at = user_id, self.clock()
            session.flush()
            return resume_paused_for_credits(session, team_id=team_id) if top_off is not None else 0
