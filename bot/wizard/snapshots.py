"""Turn a wizard row (and what it points at) into the plain snapshot its views are rendered from."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot.wizard.steps import SpaceChoice, Step, TopOffView, WizardSnapshot
from storage.connections import get_connection
from storage.models import Wizard
from storage.workspaces import get_workspace

__all__ = ["snapshot_of"]


def _spaces(wizard: Wizard) -> tuple[SpaceChoice, ...]:
    items = (wizard.spaces or {}).get("items") or []
    return tuple(SpaceChoice(id=str(i["id"]), key=str(i["key"]), name=str(i["name"])) for i in items)


def snapshot_of(
    session: Session, wizard: Wizard, *, free_credits: int, authorize_url: str | None = None
) -> WizardSnapshot:
    workspace = get_workspace(session, team_id=wizard.team_id)
    top_off = None
    if workspace is not None and workspace.topoff_threshold and workspace.topoff_amount:
        top_off = TopOffView(workspace.topoff_threshold, workspace.topoff_amount, workspace.topoff_monthly_cap)
    connection = get_connection(session, connection_id=wizard.connection_id) if wizard.connection_id else None
    return WizardSnapshot(
        id=wizard.id,
        step=Step(wizard.step),
        user_id=wizard.user_id,
        team_id=wizard.team_id,
        enterprise_id=wizard.enterprise_id,
        purpose=wizard.purpose,
        name=wizard.name,
        credit_balance=workspace.credit_balance if workspace is not None else free_credits,
        top_off=top_off,
        top_off_choice=wizard.top_off,
        site_url=wizard.site_url,
        authorize_url=authorize_url,
        oauth_error=wizard.oauth_error,
        offered_sites=tuple((wizard.offered_sites or {}).get("urls") or ()),
        connected_site=connection.site_host if connection else None,
        connected_account=connection.account_name if connection else None,
        share_all=wizard.share_all,
        spaces=_spaces(wizard),
        access_mode=wizard.access_mode,
        started_at=wizard.created_at,
        expires_at=wizard.expires_at,
    )
