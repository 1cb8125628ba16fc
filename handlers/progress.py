"""Keep each sync thread true: update the progress reply, then announce each run's end once.

Discipline: a progress reply is updated at most every ``min_interval`` and only when what it shows changed;
each workspace has a budget of updates per minute below chat.update's Tier 3 limit, shared by all its
datastores; a 429 makes the updater skip that workspace until Retry-After has passed (it never sleeps).
So the number of Slack calls grows with a sync's duration, not with its page count.

Isolation: each thread is handled on its own (handlers/progress_thread.py). A thread that fails unexpectedly
is logged with an error id and tried again after a backoff; the other threads of the pass go on.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from slack_sdk import WebClient

from bot.clock import utcnow
from bot.errors import SlackThreadUnreachable, UserFacingError
from bot.incidents import new_error_id
from bot.progress.posts import PostLedger
from bot.progress.snapshot import ProgressSnapshot
from bot.progress.thread_store import ThreadStore
from bot.services import Services
from handlers.progress_thread import Budget, ThreadKeeper

__all__ = ["ProgressUpdater"]

logger = logging.getLogger(__name__)

#: After an unexpected failure a thread waits this long before it is tried again, doubling up to the longest.
FIRST_BACKOFF, LONGEST_BACKOFF = 2.0, 300.0


@dataclass
class _TeamBudget:
    per_minute: int
    sent: deque[float] = field(default_factory=deque)
    blocked_until: float = 0.0

    def allows(self, now: float) -> bool:
        while self.sent and self.sent[0] <= now - 60:
            self.sent.popleft()
        return now >= self.blocked_until and len(self.sent) < self.per_minute

    def spend(self, now: float) -> None:
        self.sent.append(now)

    def block(self, until: float) -> None:
        self.blocked_until = max(self.blocked_until, until)


@dataclass
class _Backoff:
    until: float
    delay: float


class ProgressUpdater:
    def __init__(
        self,
        services: Services,
        client_for_team: Callable[[str], WebClient],
        *,
        owner: str,
        min_interval: float = 3.0,
        per_minute: int = 40,
        clock: Callable[[], datetime] = utcnow,
        monotonic: Callable[[], float] = time.monotonic,
        on_finished: Callable[[str], None] = lambda _team_id: None,
    ) -> None:
        self.services, self.client_for_team, self.owner = services, client_for_team, owner
        self.on_finished = on_finished
        self.min_interval, self.per_minute, self.clock, self.monotonic = min_interval, per_minute, clock, monotonic
        self.store = ThreadStore(services, clock=clock)
        self.ledger = PostLedger(services, clock=clock)
        self._budgets: dict[str, _TeamBudget] = {}
        self._backoffs: dict[int, _Backoff] = {}

    def tick(self) -> None:
        """One pass over every thread that needs Slack: called by the scheduler every second."""
        lease = timedelta(seconds=max(10.0, 3 * self.min_interval))
        for snapshot in self.store.claim_threads(owner=self.owner, lease=lease):
            backoff = self._backoffs.get(snapshot.datastore_id)
            if backoff is not None and self.monotonic() < backoff.until:
                continue
            try:
                self._handle(snapshot)
            except UserFacingError as exc:  # the workspace uninstalled the bot: nobody to tell, try again later
                logger.info("thread of datastore %s skipped: %s", snapshot.datastore_id, exc)
                self._back_off(snapshot.datastore_id)
            except SlackThreadUnreachable as exc:  # nowhere to show this run: try again later, quietly
                logger.info("thread of datastore %s skipped: %s", snapshot.datastore_id, exc)
                self._back_off(snapshot.datastore_id)
            except Exception as exc:
                error_id = new_error_id()
                logger.error(
                    "thread of datastore %s (run %s) failed unexpectedly, error id %s; trying again later",
                    snapshot.datastore_id,
                    snapshot.run_id,
                    error_id,
                    exc_info=exc,
                )
                self._back_off(snapshot.datastore_id)
            else:
                self._backoffs.pop(snapshot.datastore_id, None)

    def _back_off(self, datastore_id: int) -> None:
        previous = self._backoffs.get(datastore_id)
        delay = min(LONGEST_BACKOFF, previous.delay * 2) if previous is not None else FIRST_BACKOFF
        self._backoffs[datastore_id] = _Backoff(self.monotonic() + delay, delay)

    def _budget(self, team_id: str) -> _TeamBudget:
        return self._budgets.setdefault(team_id, _TeamBudget(self.per_minute))

    def _handle(self, snapshot: ProgressSnapshot) -> None:
        budget = self._budget(snapshot.team_id)
        if not budget.allows(self.monotonic()):
            return
        keeper = ThreadKeeper(
            client=self.client_for_team(snapshot.team_id),
            snapshot=snapshot,
            store=self.store,
            ledger=self.ledger,
            budget=Budget(budget.spend, budget.block, self.monotonic),
            min_interval=self.min_interval,
            clock=self.clock,
            on_finished=self.on_finished,
        )
        keeper.run()
