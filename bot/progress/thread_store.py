"""What the progress job records about a sync thread: which threads it takes, what the progress reply shows,
where the thread lives now, and which steps of a run's announcement are done. The handlers that speak Slack
call these; none of them opens a session or writes a row itself."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from enum import StrEnum

from bot.progress.snapshot import ProgressSnapshot, snapshot_of
from bot.services import Services
from storage import progress as threads
from storage.models import utcnow

__all__ = ["UNANNOUNCED_AFTER", "AnnounceStep", "ThreadStore"]

#: A datastore the wizard created this long ago without a thread: its announcement failed, the job opens it.
UNANNOUNCED_AFTER = timedelta(seconds=30)


class AnnounceStep(StrEnum):
    """The steps of a finished run's announcement, in order; each is recorded once done."""

    PARENT = "parent"  # the channel message's status line
    COMPLETION = "completion"  # the completion reply (✅ / ⚠️ / ❌), counts only
    FAILURES = "failures"  # the list of failed pages, by DM to the creator
    REACTION = "reaction"  # the reaction on the channel message
    HOME = "home"  # App Home tabs refreshed


class NoReply(StrEnum):
    """What ``SyncRun.announced_ts`` holds when a finished run's announcement posted no completion reply."""

    QUIET = "quiet"  # a routine scheduled run: the status line says it all
    UNREACHABLE = "unreachable"  # the thread had nowhere left to go (channel closed, no DM possible)


class ThreadStore:
    def __init__(self, services: Services, *, clock: Callable[[], datetime] = utcnow) -> None:
        self.services, self.clock = services, clock

    def claim_threads(self, *, owner: str, lease: timedelta) -> list[ProgressSnapshot]:
        """Snapshots of the threads that need Slack and that this process may write now."""
        now = self.clock()
        with self.services.sessions.begin() as session:
            work = []
            for datastore, run in threads.runs_needing_slack(session, now=now, unannounced_after=UNANNOUNCED_AFTER):
                if threads.claim_thread(session, datastore_id=datastore.id, owner=owner, now=now, lease=lease):
                    work.append(snapshot_of(session, datastore, run, now))
            return work

    def progress_shown(self, run_id: int) -> tuple[str | None, datetime | None]:
        with self.services.sessions() as session:
            return threads.progress_shown(session, run_id=run_id)

    def record_progress_shown(self, run_id: int, digest: str) -> None:
        with self.services.sessions.begin() as session:
            threads.record_progress_shown(session, run_id=run_id, digest=digest, at=self.clock())

    def moved_progress_reply(self, datastore_id: int, run_id: int, progress_ts: str, digest: str) -> None:
        """The progress reply was posted anew (the old one was deleted), showing ``digest``."""
        with self.services.sessions.begin() as session:  # sync_runs before datastores, as the engine locks them
            threads.record_progress_shown(session, run_id=run_id, digest=digest, at=self.clock())
            threads.set_progress_ts(session, datastore_id=datastore_id, progress_ts=progress_ts)

    def moved_thread(
        self, datastore_id: int, run_id: int, *, channel_id: str, parent_ts: str, progress_ts: str, digest: str
    ) -> None:
        """The thread lives elsewhere now (a new channel message, a DM): the new parent needs its status line
        and reaction again; the completion reply, if already posted, is not posted twice."""
        with self.services.sessions.begin() as session:  # sync_runs before datastores, as the engine locks them
            threads.record_progress_shown(session, run_id=run_id, digest=digest, at=self.clock())
            kept = threads.announce_steps_done(session, run_id=run_id) - {AnnounceStep.PARENT, AnnounceStep.REACTION}
            threads.reset_announce_steps(session, run_id=run_id, steps=kept)
            threads.set_thread(
                session, datastore_id=datastore_id, channel_id=channel_id, parent_ts=parent_ts, progress_ts=progress_ts
            )

    def opened_thread(self, datastore_id: int, *, channel_id: str, parent_ts: str, progress_ts: str) -> None:
        """A datastore's first thread (the announcement after the wizard)."""
        with self.services.sessions.begin() as session:
            threads.set_thread(
                session, datastore_id=datastore_id, channel_id=channel_id, parent_ts=parent_ts, progress_ts=progress_ts
            )

    def steps_done(self, run_id: int) -> set[AnnounceStep]:
        with self.services.sessions() as session:
            return {AnnounceStep(step) for step in threads.announce_steps_done(session, run_id=run_id)}

    def step_done(self, run_id: int, step: AnnounceStep) -> None:
        with self.services.sessions.begin() as session:
            threads.mark_announce_step(session, run_id=run_id, step=step)

    def announced(self, run_id: int, announced_ts: str) -> None:
        """Every step is done: ``announced_ts`` is the completion reply (a :class:`NoReply` when there is none)."""
        with self.services.sessions.begin() as session:
            threads.finish_announcement(session, run_id=run_id, announced_ts=announced_ts)
