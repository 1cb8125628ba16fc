"""Who a Slack person is in Confluence: the contract between person links and per-person search (issue #12).

A **link** ties one Slack user of one workspace (team, and enterprise on Grid) to one Atlassian account on one
Confluence site (``cloud_id``), made by that person's own OAuth consent (or by the wizard's, for whoever
consented there). A datastore in "each" mode is searched as the searching person's link to *its* site: a link
to another site gives nothing from this one.

:class:`PersonDirectory` is what search needs; the link store implements it. Its tokens are a
:class:`~bot.atlassian.tokens.TokenSource` keyed by ``link_id``, so a
:class:`~bot.confluence.gateway.Gateway` can call Confluence as the person (v2 ``GET /pages?id=…`` returns only
what the caller may view). A person whose grant is gone (``invalid_grant``, revoked, deactivated in Slack) has
no link any more: :meth:`PersonDirectory.linked` answers None, so they see nothing until they link again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.atlassian.tokens import TokenSource

__all__ = ["LinkedPerson", "PersonDirectory"]


@dataclass(frozen=True, slots=True)
class LinkedPerson:
    """One person's link to one Confluence site, as search uses it (never their tokens)."""

    link_id: int
    team_id: str
    slack_user_id: str
    cloud_id: str
    account_id: str
    account_name: str | None
    #: The principal keys they hold (``bot.access.model.person_principals``: account, groups, classes).
    principals: frozenset[str]
    #: When their groups were last read from Confluence (None: not yet; then only their account key counts).
    principals_at: datetime | None


class PersonDirectory(Protocol):
    """Linked people, as per-person search sees them."""

    #: The links' tokens, keyed by ``LinkedPerson.link_id``.
    tokens: TokenSource

    def linked(self, *, team_id: str, slack_user_id: str, cloud_id: str) -> LinkedPerson | None:
        """This Slack person's link to this site, or None (not linked, linked elsewhere, or the link is gone)."""
        ...

    def link_url(self, *, team_id: str, enterprise_id: str | None, slack_user_id: str, datastore_id: int) -> str:
        """A fresh one-click "Connect your Confluence account" URL: single use, bound to this person and team,
        and to the datastore's site (a consent to another site links nothing)."""
        ...
