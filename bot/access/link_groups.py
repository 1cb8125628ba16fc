"""Who a linked person is in Confluence's groups, read with the connection's token, at most hourly per link.

One pass (:meth:`LinkGroups.run`, the scheduler's ``link-groups`` job) takes the links whose principals are older
than :data:`PRINCIPALS_MAX_AGE` (never read first), site by site, through a
:class:`~bot.confluence.gateway.Gateway` on that workspace's connection to the site, drawing from the
:class:`~bot.confluence.budget.PermissionLane`:

* v2 ``POST /wiki/api/v2/users-bulk`` (≤250 accounts a request; 1 point + 2 per user): an account that is
  ``inactive`` or ``closed`` in Confluence, or no longer a user of the site, loses its link;
* v1 ``GET /wiki/rest/api/user/memberof?accountId=`` (200 groups a page, 1 point + 2 per group): the person's
  principals become ``person_principals(account, groups, LINKED_CLASSES)``, so a group removed in Confluence (or
  the person removed from it) drops out at the next read.

The budget running out (RateLimited) ends the pass; Confluence failing for one site skips that site (its links
keep their principals and are tried at the next pass). No session is open during a request.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx

from bot.access.model import ANONYMOUS, AUTHENTICATED, person_principals
from bot.atlassian.tokens import TokenSource
from bot.confluence.budget import PointsBudget
from bot.confluence.gateway import Gateway
from bot.errors import AtlassianError, RateLimited
from bot.services import Services
from storage.models import utcnow
from storage.person_links import delete_link, links_due_principals, set_principals

__all__ = ["LINKED_CLASSES", "PRINCIPALS_MAX_AGE", "GroupsPass", "LinkGroups", "principals_max_age"]

logger = logging.getLogger(__name__)

PRINCIPALS_MAX_AGE = timedelta(hours=1)


def principals_max_age(freshness: timedelta, look_every: timedelta) -> timedelta:
    """How old a link's groups may get before the reader reads them again: early enough that, looking every
    ``look_every``, they are read before they pass the freshness bound (after which per-person search checks
    every candidate live). Never more than PRINCIPALS_MAX_AGE, never under a minute."""
    return max(timedelta(minutes=1), min(PRINCIPALS_MAX_AGE, freshness - 2 * look_every))


#: The access classes every linked person holds: anyone (anonymous access), and anyone logged in to the site.
#: "All licensed users" is not assumed (a linked account may be a guest): a filter never widens access.
LINKED_CLASSES = (ANONYMOUS, AUTHENTICATED)
#: Links read in one pass.
PASS_LINKS = 200
USERS_BULK_MAX = 250
MEMBEROF_PAGE = 200
#: memberof pages read for one person at most (40,000 groups).
MEMBEROF_PAGES = 200
GONE_STATUSES = frozenset({"inactive", "closed"})


@dataclass
class GroupsPass:
    """What one pass did."""

    refreshed: int = 0
    removed: int = 0
    failed_sites: int = 0
    rate_limited: bool = False


@dataclass(frozen=True)
class _Due:
    link_id: int
    account_id: str


class LinkGroups:
    def __init__(
        self,
        services: Services,
        tokens: TokenSource,
        budget: PointsBudget,
        *,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], datetime] = utcnow,
        max_age: timedelta = PRINCIPALS_MAX_AGE,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._sleep = sleep
        self.services = services
        self.tokens = tokens
        self.budget = budget
        self._transport = transport
        self._clock = clock
        self._max_age = max_age

    def run(self, *, limit: int = PASS_LINKS, unread_only: bool = False) -> GroupsPass:
        """Read the due links' groups; ``unread_only``: only links never read (just linked: until read, a link
        holds only its own account, and the synced ACLs would show the person next to nothing)."""
        done = GroupsPass()
        read_before = None if unread_only else self._clock() - self._max_age
        sites: dict[tuple[int, str], list[_Due]] = defaultdict(list)
        with self.services.sessions.begin() as session:
            for link, connection_id in links_due_principals(session, read_before=read_before, limit=limit):
                sites[(connection_id, link.cloud_id)].append(_Due(link.id, link.account_id))
        for (connection_id, cloud_id), due in sites.items():
            gateway = Gateway(
                self.services.settings,
                self.tokens,
                connection_id,
                cloud_id,
                transport=self._transport,
                clock=self._clock,
                budget=self.budget,
                sleep=self._sleep,
            )
            try:
                self._site(gateway, due, done)
            except RateLimited:
                logger.info("the permission budget is used up: person groups wait for the next pass")
                done.rate_limited = True
                return done
            except AtlassianError as exc:
                logger.warning("could not read the groups of people linked to %s: %s", cloud_id, exc)
                done.failed_sites += 1
            finally:
                gateway.close()
        return done

    def _site(self, gateway: Gateway, due: list[_Due], done: GroupsPass) -> None:
        statuses = self._statuses(gateway, [d.account_id for d in due])
        for person in due:
            if statuses.get(person.account_id) in GONE_STATUSES or person.account_id not in statuses:
                with self.services.sessions.begin() as session:
                    delete_link(session, link_id=person.link_id)
                logger.info("person link %s removed: the account is no longer active in Confluence", person.link_id)
                done.removed += 1
                continue
            ids, names = self._groups(gateway, person.account_id)
            principals = person_principals(person.account_id, ids, LINKED_CLASSES, group_names=names)
            with self.services.sessions.begin() as session:
                set_principals(session, link_id=person.link_id, principals=principals, at=self._clock())
            done.refreshed += 1

    def _statuses(self, gateway: Gateway, accounts: list[str]) -> dict[str, str]:
        """accountId → accountStatus of the accounts Confluence knows (unknown ones are left out)."""
        found: dict[str, str] = {}
        unique = list(dict.fromkeys(accounts))
        for start in range(0, len(unique), USERS_BULK_MAX):
            answer = gateway.post_read(
                "/wiki/api/v2/users-bulk", {"accountIds": unique[start : start + USERS_BULK_MAX]}
            )
            results = _results(answer.payload)
            gateway.budget.spend(2 * len(results))
            for user in results:
                account, status = user.get("accountId"), user.get("accountStatus")
                if isinstance(account, str):
                    found[account] = status if isinstance(status, str) else "unknown"
        return found

    def _groups(self, gateway: Gateway, account_id: str) -> tuple[list[str], list[str]]:
        """(group ids, names of groups sent without an id) of the account, every page."""
        ids: list[str] = []
        names: list[str] = []
        for group in self._member_of(gateway, account_id):
            ident, name = group.get("id"), group.get("name")
            if isinstance(ident, str) and ident:
                ids.append(ident)
            elif isinstance(name, str) and name:
                names.append(name)
        return ids, names

    def _member_of(self, gateway: Gateway, account_id: str) -> Iterator[dict[str, Any]]:
        url: str | None = f"/wiki/rest/api/user/memberof?accountId={quote(account_id, safe='')}&limit={MEMBEROF_PAGE}"
        pages = 0
        while url is not None:
            pages += 1
            if pages > MEMBEROF_PAGES:
                raise AtlassianError(f"Confluence listed more than {MEMBEROF_PAGES} pages of groups for one person.")
            answer = gateway.get(url)
            results = _results(answer.payload)
            gateway.budget.spend(2 * len(results))
            yield from results
            url = _next(answer.payload)


def _results(payload: dict[str, Any]) -> list[dict[str, Any]]:
    results = payload.get("results")
    if not isinstance(results, list):
        raise AtlassianError("Confluence answered without a list of results.")
    return [item for item in results if isinstance(item, dict)]


def _next(payload: dict[str, Any]) -> str | None:
    """The next memberof page (v1 ``_links.next``, relative to ``/wiki``), only if it is that same listing."""
    links = payload.get("_links")
    following = links.get("next") if isinstance(links, dict) else None
    if not isinstance(following, str) or not following:
        return None
    path = following if following.startswith("/wiki/") else "/wiki" + following
    if not path.startswith("/wiki/rest/api/user/memberof?"):
        raise AtlassianError("Confluence's next page of groups points somewhere else.")
    return path
