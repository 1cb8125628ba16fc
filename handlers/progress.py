"""Keep each sync thread true: update the progress reply, then post one completion reply per run.

Discipline: a progress reply is updated at most every ``min_interval`` and only when what it shows changed;
each workspace has a budget of updates per minute below chat.update's Tier 3 limit, shared by all its
datastores; a 429 makes the updater skip that workspace until Retry-After has passed (it never sleeps).
So the number of Slack calls grows with a sync's duration, not with its page count.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.progress.snapshot import ProgressSnapshot, snapshot_of
from bot.services import Services
from handlers.views.blocks import channel_mention, escape_mrkdwn
from handlers.views.progress import STATUS_LABELS, completion_message, parent_message, progress_message, reaction_for
from storage.models import Datastore, SyncRun, utcnow
from storage.progress import claim_announcement, claim_thread, runs_needing_slack

__all__ = ["ProgressUpdater"]

logger = logging.getLogger(__name__)

GONE = {"channel_not_found", "is_archived", "not_in_channel", "restricted_action"}


@dataclass
class _TeamBudget:
    per_minute: int
    sent: deque[float] = field(default_factory=deque)
    blocked_until: float = 0.0

    def allows(self, now: float) -> bool:
        while self.sent and self.sent[0] <= now - 60:
            self.sent.popleft()
        return now >= self.blocked_until and len(self.sent) < self.per_minute


def _digest(message: dict[str, object]) -> str:
    return hashlib.sha256(json.dumps(message, sort_keys=True).encode()).hexdigest()


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
        self._budgets: dict[str, _TeamBudget] = {}

    def tick(self) -> None:
        """One pass over every thread that needs Slack: called by the scheduler every second."""
        now = self.clock()
        with self.services.sessions.begin() as session:
            work = []
            for datastore, run in runs_needing_slack(session):
                lease = timedelta(seconds=max(10.0, 3 * self.min_interval))
                if claim_thread(session, datastore_id=datastore.id, owner=self.owner, now=now, lease=lease):
                    work.append(snapshot_of(session, datastore, run, now))
        for snapshot in work:
            self._handle(snapshot)

    def _budget(self, team_id: str) -> _TeamBudget:
        return self._budgets.setdefault(team_id, _TeamBudget(self.per_minute))

    def _handle(self, snapshot: ProgressSnapshot) -> None:
        budget = self._budget(snapshot.team_id)
        if not budget.allows(self.monotonic()):
            return
        client = self.client_for_team(snapshot.team_id)
        try:
            if snapshot.trigger != "schedule":
                self._update_progress(client, snapshot, budget)
            if snapshot.state == "finished":
                self._announce(client, snapshot, budget)
        except SlackApiError as exc:
            self._slack_failed(exc, snapshot, budget)

    def _slack_failed(self, exc: SlackApiError, snapshot: ProgressSnapshot, budget: _TeamBudget) -> None:
        if exc.response.status_code == 429:
            retry_after = float(exc.response.headers.get("Retry-After", exc.response.headers.get("retry-after", 1)))
            budget.blocked_until = self.monotonic() + retry_after
            logger.info("Slack rate-limited workspace %s; skipping it for %.0fs", snapshot.team_id, retry_after)
            if snapshot.state == "finished":
                self._set_run(snapshot.run_id, announce_claimed_at=None)  # post the completion on a later tick
            return
        error = str(exc.response.get("error", ""))
        if error in GONE:
            self._move_to_dm(snapshot, error)
            return
        raise exc

    def _update_progress(self, client: WebClient, s: ProgressSnapshot, budget: _TeamBudget) -> None:
        message = progress_message(s)
        digest = _digest(message)
        with self.services.sessions() as session:
            run = session.get(SyncRun, s.run_id)
            assert run is not None
            unchanged = run.progress_digest == digest
            recent = (
                run.progress_updated_at is not None
                and (self.clock() - run.progress_updated_at).total_seconds() < self.min_interval
            )
        if unchanged or (recent and s.state != "finished") or s.channel_id is None or s.progress_ts is None:
            return
        budget.sent.append(self.monotonic())
        try:
            client.chat_update(channel=s.channel_id, ts=s.progress_ts, **message)
        except SlackApiError as exc:
            if exc.response.get("error") != "message_not_found":
                raise
            reposted = client.chat_postMessage(channel=s.channel_id, thread_ts=s.parent_ts, **message)
            self._set_datastore(s.datastore_id, progress_ts=str(reposted["ts"]))
        self._set_run(s.run_id, progress_digest=digest, progress_updated_at=self.clock())

    def _announce(self, client: WebClient, s: ProgressSnapshot, budget: _TeamBudget) -> None:
        quiet = s.trigger == "schedule" and s.outcome == "synced" and s.processed < max(1000, s.documents // 5)
        with self.services.sessions.begin() as session:
            if not claim_announcement(session, run_id=s.run_id, now=self.clock(), stale_after=timedelta(minutes=2)):
                return
        if s.channel_id is None or s.parent_ts is None:
            return
        status = STATUS_LABELS.get(s.outcome or "", s.outcome or "")
        budget.sent.append(self.monotonic())
        client.chat_update(channel=s.channel_id, ts=s.parent_ts, **parent_message(s, status=status))
        posted_ts = "quiet"  # a routine scheduled run: the status line says it all, no reply
        if not quiet:
            posted = client.chat_postMessage(channel=s.channel_id, thread_ts=s.parent_ts, **completion_message(s))
            posted_ts = str(posted["ts"])
            emoji = reaction_for(s.outcome)
            if emoji is not None:
                try:
                    client.reactions_add(channel=s.channel_id, timestamp=s.parent_ts, name=emoji)
                except SlackApiError as exc:
                    if exc.response.get("error") != "already_reacted":
                        raise
        self._set_run(s.run_id, announced_ts=posted_ts)
        self.on_finished(s.team_id)  # App Home tabs show the new state

    def _move_to_dm(self, s: ProgressSnapshot, reason: str) -> None:
        """The channel is gone or closed to the bot: carry the thread on in a DM with the datastore's creator."""
        client = self.client_for_team(s.team_id)
        dm = client.conversations_open(users=s.creator_id)
        channel = str(dm["channel"]["id"])
        why = reason.replace("_", " ")
        where, name = channel_mention(s.channel_id or ""), escape_mrkdwn(s.name)
        note = f"I can no longer post in {where} ({escape_mrkdwn(why)}), so the sync of *{name}* continues here."
        parent = client.chat_postMessage(
            channel=channel, **parent_message(s, status=STATUS_LABELS.get(s.phase, s.phase))
        )
        client.chat_postMessage(channel=channel, thread_ts=str(parent["ts"]), text=note)
        reply = client.chat_postMessage(channel=channel, thread_ts=str(parent["ts"]), **progress_message(s))
        self._set_datastore(
            s.datastore_id,
            channel_id=channel,
            parent_ts=str(parent["ts"]),
            progress_ts=str(reply["ts"]),
            thread_url=None,
        )
        self._set_run(s.run_id, progress_digest=None, progress_updated_at=None)

    def _set_datastore(self, datastore_id: int, **values: object) -> None:
        with self.services.sessions.begin() as session:
            datastore = session.get(Datastore, datastore_id)
            if datastore is not None:
                for key, value in values.items():
                    setattr(datastore, key, value)

    def _set_run(self, run_id: int, **values: object) -> None:
        with self.services.sessions.begin() as session:
            run = session.get(SyncRun, run_id)
            if run is not None:
                for key, value in values.items():
                    setattr(run, key, value)
