"""The ledger of posts the bot makes at most once (storage/slack_posts.py), and the keys that name them.

A key says what a message is, not where it went, so every retry of the same post finds its earlier attempts:
the completion reply of run 12 is ``run12:completion`` whichever channel or DM it ends up in.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from bot.services import Services
from storage import slack_posts as posts
from storage.models import utcnow
from storage.slack_posts import ClaimState, PostClaim

__all__ = ["IN_FLIGHT", "ClaimState", "PostClaim", "PostKeys", "PostLedger"]

#: A claim younger than this may still be in flight in another process (the Web API timeout is 10 s).
IN_FLIGHT = timedelta(seconds=30)


class PostKeys:
    """The keys of the posts the bot makes once."""

    @staticmethod
    def completion(run_id: int) -> str:
        return f"run{run_id}:completion"

    @staticmethod
    def failures_dm(run_id: int) -> str:
        """The list of a run's failed pages, sent to the datastore's creator alone."""
        return f"run{run_id}:failures-dm"

    @staticmethod
    def access_offer(datastore_id: int) -> str:
        """The one DM offering the creator of a datastore older than access modes per-person access."""
        return f"ds{datastore_id}:access-offer"

    @staticmethod
    def announcement(datastore_id: int, channel_id: str) -> str:
        """The first channel message of a datastore (in ``channel_id``, or the creator's DM)."""
        return f"ds{datastore_id}:announce:{channel_id}"

    @staticmethod
    def not_posted_note(datastore_id: int) -> str:
        return f"ds{datastore_id}:announce-dm-note"

    @staticmethod
    def progress(datastore_id: int, parent_ts: str, replacing: str | None) -> str:
        """The progress reply under ``parent_ts`` (the first one, or the one posted again for ``replacing``)."""
        return f"ds{datastore_id}:progress:{parent_ts}:{replacing or 'first'}"

    @staticmethod
    def parent(datastore_id: int, replacing: str) -> str:
        """The channel message posted again because ``replacing`` was deleted."""
        return f"ds{datastore_id}:parent-after:{replacing}"

    @staticmethod
    def moved_parent(datastore_id: int, from_channel: str) -> str:
        """The thread's new channel message in the creator's DM, after ``from_channel`` closed to the bot."""
        return f"ds{datastore_id}:dm-parent:{from_channel}"

    @staticmethod
    def moved_note(datastore_id: int, from_channel: str) -> str:
        return f"ds{datastore_id}:dm-note:{from_channel}"


class PostLedger:
    def __init__(self, services: Services, *, clock: Callable[[], datetime] = utcnow) -> None:
        self.services, self.clock = services, clock

    def claim(self, key: str, *, datastore_id: int, channel_id: str, thread_ts: str | None) -> PostClaim:
        with self.services.sessions.begin() as session:
            return posts.claim_post(
                session,
                key=key,
                datastore_id=datastore_id,
                channel_id=channel_id,
                thread_ts=thread_ts,
                now=self.clock(),
                in_flight=IN_FLIGHT,
            )

    def posted(self, key: str, *, channel_id: str, ts: str) -> None:
        with self.services.sessions.begin() as session:
            posts.record_post(session, key=key, channel_id=channel_id, ts=ts, now=self.clock())

    def uncertain(self, key: str) -> None:
        with self.services.sessions.begin() as session:
            posts.mark_uncertain(session, key=key)

    def release(self, key: str) -> None:
        with self.services.sessions.begin() as session:
            posts.release_post(session, key=key)
