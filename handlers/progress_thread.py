"""One sync thread, one pass: show the run in its progress reply and, once it ended, announce it — each Slack
error handled where it happens, so one failure never loses the rest of the announcement.

| what happened                                   | what the keeper does                                        |
|-------------------------------------------------|-------------------------------------------------------------|
| the progress reply was deleted                  | posts it again in the thread                                |
| the channel message (the parent) was deleted    | posts it again in the channel, the thread goes on under it  |
| channel archived / gone, bot removed, restricted| moves the thread to a DM with the datastore's creator       |
| ... and the creator cannot be sent a DM         | backs off quietly; a finished run ends unannounced          |
| 429                                             | stops; the workspace waits Retry-After, never less          |
| timeout, dropped connection, 5xx                | stops; the next pass continues (a post that may have been   |
|                                                 | applied is looked for first: handlers/slack_once.py)        |

A fault while the thread moves to the DM is handled like any other (a 429 there waits Retry-After too).

A finished run's announcement is a sequence of steps (status line, completion reply, the failed pages by DM,
reaction, App Home), each recorded once done (bot/progress/thread_store.py): a later pass continues from the
step that failed. The completion reply gives counts only; the titles of failed pages go to the creator alone,
once (the post ledger), since a channel can hold people who should not see them.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.actors import OPERATOR
from bot.errors import SlackPostPending, SlackThreadUnreachable
from bot.progress.posts import PostKeys, PostLedger
from bot.progress.snapshot import ProgressSnapshot
from bot.progress.thread_store import AnnounceStep, NoReply, ThreadStore
from bot.states import RunOutcome, RunState, RunTrigger
from handlers.announce import Thread, open_thread
from handlers.slack_once import TRANSPORT_ERRORS, SlackFailure, classify, post_once, retry_after_seconds
from handlers.views.progress import (
    completion_message,
    failures_message,
    parent_message,
    progress_message,
    reaction_for,
    status_label,
    thread_moved_note,
)

__all__ = ["Budget", "ThreadKeeper"]

logger = logging.getLogger(__name__)

#: Moves (a reposted message, a new parent, a DM) one pass may make before it leaves the rest to the next.
MOVES_PER_PASS = 3
#: conversations.open refusals that mean the creator cannot be sent a DM at all.
NO_DM = {"user_not_found", "users_not_found", "user_disabled", "cannot_dm_bot"}


def digest(message: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(message, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class Budget:
    """The workspace's Slack budget: ``spend`` one call, or ``block`` every call until a monotonic time."""

    spend: Callable[[float], None]
    block: Callable[[float], None]
    monotonic: Callable[[], float]


class ThreadKeeper:
    def __init__(
        self,
        *,
        client: WebClient,
        snapshot: ProgressSnapshot,
        store: ThreadStore,
        ledger: PostLedger,
        budget: Budget,
        min_interval: float,
        clock: Callable[[], datetime],
        on_finished: Callable[[str], None],
    ) -> None:
        self.client, self.s, self.store, self.ledger, self.budget = client, snapshot, store, ledger, budget
        self.min_interval, self.clock, self.on_finished = min_interval, clock, on_finished
        s = snapshot
        self.thread: Thread | None = None
        if s.channel_id and s.parent_ts and s.progress_ts:
            self.thread = Thread(s.channel_id, s.parent_ts, s.progress_ts)

    # --- the pass ---------------------------------------------------------------------------------------
    def run(self) -> None:
        moves = 0
        refusal: SlackApiError | None = None  # the channel closed to the bot: move to the DM first
        while True:
            try:
                if refusal is not None:
                    self._move_to_dm(refusal)
                    refusal = None
                self._steps()
                return
            except SlackPostPending:
                return
            except SlackThreadUnreachable as exc:
                if self.s.state != RunState.FINISHED:
                    raise
                logger.warning("run %s of datastore %s is not announced: %s", self.s.run_id, self.s.datastore_id, exc)
                self.on_finished(self.s.team_id)
                self.store.announced(self.s.run_id, NoReply.UNREACHABLE)
                return
            except TRANSPORT_ERRORS as exc:
                logger.info("thread of datastore %s: Slack did not answer (%s); next pass", self.s.datastore_id, exc)
                return
            except SlackApiError as exc:
                failure = classify(exc)
                if failure is SlackFailure.RATE_LIMITED:
                    wait = retry_after_seconds(exc)
                    self.budget.block(self.budget.monotonic() + wait)
                    logger.info("Slack rate-limited workspace %s; skipping it for %.0fs", self.s.team_id, wait)
                    return
                if failure is SlackFailure.MAYBE_APPLIED:
                    logger.info("thread of datastore %s: Slack failed (%s); next pass", self.s.datastore_id, exc)
                    return
                if failure is not SlackFailure.CHANNEL_GONE or moves >= MOVES_PER_PASS:
                    raise
                moves += 1
                refusal = exc

    def _steps(self) -> None:
        if self.thread is None:
            self._open()
        if self.s.trigger != RunTrigger.SCHEDULE:
            self._show_progress()
        if self.s.state == RunState.FINISHED and not self.s.waiting_for_permissions:
            self._announce()

    def _spend(self) -> None:
        self.budget.spend(self.budget.monotonic())

    def _post(self, key: str, channel: str, message: dict[str, Any], thread_ts: str | None = None) -> str:
        self._spend()
        ts = post_once(
            self.client,
            self.ledger,
            key,
            datastore_id=self.s.datastore_id,
            channel=channel,
            thread_ts=thread_ts,
            message=message,
        )
        if ts is None:
            raise SlackPostPending
        return ts

    def _current(self) -> Thread:
        assert self.thread is not None
        return self.thread

    # --- the thread's messages --------------------------------------------------------------------------
    def _open(self) -> None:
        """The datastore's announcement after the wizard never made it: open the thread now."""
        s = self.s
        self._spend()
        thread = open_thread(
            self.client,
            self.ledger,
            datastore_id=s.datastore_id,
            channel_id=s.channel_id,
            creator_id=s.creator_id,
            parent=parent_message(s, status=status_label(s)),
            progress=progress_message(s),
            not_posted=lambda reason: thread_moved_note(s, channel_id=s.channel_id, reason=reason),
        )
        if thread is None:
            raise SlackPostPending
        self.store.opened_thread(
            s.datastore_id, channel_id=thread.channel_id, parent_ts=thread.parent_ts, progress_ts=thread.progress_ts
        )
        self.thread = thread  # the pass's progress step brings its reply up to date (it may be an older post)

    def _show_progress(self) -> None:
        s = self.s
        message = progress_message(s)
        shown, updated_at = self.store.progress_shown(s.run_id)
        recent = updated_at is not None and (self.clock() - updated_at).total_seconds() < self.min_interval
        if shown == digest(message) or (recent and s.state != RunState.FINISHED):
            return
        try:
            self._update_progress_reply(message)
        except SlackApiError as exc:
            if classify(exc) is not SlackFailure.MESSAGE_GONE:
                raise
            self._progress_reply_gone(message)
        self.store.record_progress_shown(s.run_id, digest(message))

    def _update_progress_reply(self, message: dict[str, Any]) -> None:
        thread = self._current()
        self._spend()
        self.client.chat_update(channel=thread.channel_id, ts=thread.progress_ts, **message)

    def _progress_reply_gone(self, message: dict[str, Any]) -> None:
        """Post the progress reply again under the parent — or, if the parent went too, the whole thread."""
        s, thread = self.s, self._current()
        if not self._update_parent():
            return  # the parent was gone: the thread was posted again, progress reply included
        key = PostKeys.progress(s.datastore_id, thread.parent_ts, thread.progress_ts)
        ts = self._post(key, thread.channel_id, message, thread_ts=thread.parent_ts)
        thread.progress_ts = ts
        self._update_progress_reply(message)  # an earlier attempt may have posted older content under that key
        self.store.moved_progress_reply(s.datastore_id, s.run_id, ts, digest(message))

    def _update_parent(self) -> bool:
        """Bring the channel message's status line up to date; False if it was gone (and has been reposted)."""
        s, thread = self.s, self._current()
        self._spend()
        try:
            self.client.chat_update(
                channel=thread.channel_id, ts=thread.parent_ts, **parent_message(s, status=status_label(s))
            )
        except SlackApiError as exc:
            if classify(exc) is not SlackFailure.MESSAGE_GONE:
                raise
            self._parent_gone()
            return False
        return True

    def _parent_gone(self) -> None:
        """The channel message was deleted: post it again in the channel and go on with the thread under it."""
        s, thread = self.s, self._current()
        parent_ts = self._post(
            PostKeys.parent(s.datastore_id, thread.parent_ts),
            thread.channel_id,
            parent_message(s, status=status_label(s)),
        )
        self._new_thread(thread.channel_id, parent_ts)

    def _move_to_dm(self, refusal: SlackApiError) -> None:
        """The channel is gone or closed to the bot: carry the thread on in a DM with the datastore's creator."""
        s = self.s
        reason = str(refusal.response.get("error", "")).replace("_", " ")
        old = self.thread.channel_id if self.thread is not None else s.channel_id or "none"
        self._spend()
        try:
            dm = str(self.client.conversations_open(users=s.creator_id)["channel"]["id"])
        except SlackApiError as exc:
            error = str(exc.response.get("error", ""))
            if error not in NO_DM:
                raise
            raise SlackThreadUnreachable(f"{reason}, and the creator cannot be sent a DM ({error})") from exc
        if dm == old:  # already in the DM and it refuses too
            raise SlackThreadUnreachable(f"{reason}, in the DM with the creator too")
        try:
            parent_ts = self._post(
                PostKeys.moved_parent(s.datastore_id, old), dm, parent_message(s, status=status_label(s))
            )
        except SlackApiError as exc:
            if classify(exc) is not SlackFailure.CHANNEL_GONE:
                raise
            raise SlackThreadUnreachable(f"{reason}, and the DM with the creator refuses too") from exc
        note = thread_moved_note(s, channel_id=old if old != "none" else None, reason=reason)
        self._post(PostKeys.moved_note(s.datastore_id, old), dm, note, thread_ts=parent_ts)
        self._new_thread(dm, parent_ts)

    def _new_thread(self, channel: str, parent_ts: str) -> None:
        s = self.s
        message = progress_message(s)
        progress_ts = self._post(PostKeys.progress(s.datastore_id, parent_ts, None), channel, message, parent_ts)
        self.thread = Thread(channel, parent_ts, progress_ts)
        self._update_progress_reply(message)  # an earlier attempt may have posted older content under that key
        self.store.moved_thread(
            s.datastore_id,
            s.run_id,
            channel_id=channel,
            parent_ts=parent_ts,
            progress_ts=progress_ts,
            digest=digest(message),
        )

    # --- the announcement -------------------------------------------------------------------------------
    def _announce(self) -> None:
        s = self.s
        quiet = (
            s.trigger == RunTrigger.SCHEDULE
            and s.outcome == RunOutcome.SYNCED
            and s.processed < max(1000, s.documents // 5)
        )
        done = self.store.steps_done(s.run_id)
        if AnnounceStep.PARENT not in done:
            self._update_parent()
            self.store.step_done(s.run_id, AnnounceStep.PARENT)
        announced: str = NoReply.QUIET
        if not quiet:
            thread = self._current()
            announced = self._post(
                PostKeys.completion(s.run_id), thread.channel_id, completion_message(s), thread_ts=thread.parent_ts
            )
            self.store.step_done(s.run_id, AnnounceStep.COMPLETION)
        if AnnounceStep.FAILURES not in done:
            if s.failures:
                self._send_failures()
            self.store.step_done(s.run_id, AnnounceStep.FAILURES)
        if not quiet:
            emoji = reaction_for(s.outcome)
            if emoji is not None and AnnounceStep.REACTION not in done:
                self._react(emoji)
                self.store.step_done(s.run_id, AnnounceStep.REACTION)
        if AnnounceStep.HOME not in done:
            self.on_finished(s.team_id)  # App Home tabs show the new state
            self.store.step_done(s.run_id, AnnounceStep.HOME)
        self.store.announced(s.run_id, announced)

    def _send_failures(self) -> None:
        """The failed pages, by DM to the creator; a creator who cannot get one (deactivated) goes without."""
        s = self.s
        if s.creator_id == OPERATOR:  # `datastore-bot create`: no Slack person to DM
            logger.info("run %s: created by an operator, so nobody gets the list of failed pages by DM", s.run_id)
            return
        self._spend()
        try:
            dm = str(self.client.conversations_open(users=s.creator_id)["channel"]["id"])
            self._post(PostKeys.failures_dm(s.run_id), dm, failures_message(s))
        except SlackApiError as exc:
            error = str(exc.response.get("error", ""))
            if error not in NO_DM and classify(exc) is not SlackFailure.CHANNEL_GONE:
                raise
            logger.info("run %s: its creator gets no list of failed pages (%s)", s.run_id, error)

    def _react(self, emoji: str) -> None:
        thread = self._current()
        self._spend()
        try:
            self.client.reactions_add(channel=thread.channel_id, timestamp=thread.parent_ts, name=emoji)
        except SlackApiError as exc:
            error = exc.response.get("error")
            if error == "already_reacted":
                return
            if classify(exc) is not SlackFailure.MESSAGE_GONE:
                raise
        else:
            return
        self._parent_gone()  # deleted just now: react on the channel message posted again
        self._spend()
        thread = self._current()
        self.client.reactions_add(channel=thread.channel_id, timestamp=thread.parent_ts, name=emoji)
