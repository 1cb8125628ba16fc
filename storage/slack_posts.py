"""Posts the bot makes at most once: a claim before chat.postMessage, the ts after (never commits).

A post's key says what it is (``completion:run:12``), so a retry after a crash, a timeout or a 5xx finds the
earlier attempt: posted (its ts is known), in flight in another process (leave it), or uncertain — Slack may
have applied it — in which case the caller looks it up in Slack before posting again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from storage.db import upsert_into
from storage.models import SlackPost

__all__ = ["ClaimState", "PostClaim", "claim_post", "mark_uncertain", "record_post", "release_post"]


class ClaimState(StrEnum):
    NEW = "new"  # nobody tried: post it
    POSTED = "posted"  # already posted: ``ts`` says where
    BUSY = "busy"  # another attempt is in flight right now: leave it
    CHECK = "check"  # an earlier attempt may have been applied: look for it in Slack first, then post


@dataclass(frozen=True)
class PostClaim:
    state: ClaimState
    channel_id: str
    thread_ts: str | None = None
    ts: str | None = None
    #: When the earlier, uncertain attempt was made (CHECK): the post, if applied, is not older.
    since: datetime | None = None


def claim_post(
    session: Session,
    *,
    key: str,
    datastore_id: int,
    channel_id: str,
    thread_ts: str | None,
    now: datetime,
    in_flight: timedelta,
) -> PostClaim:
    """Claim the post ``key`` for ``channel_id`` (a thread reply when ``thread_ts``). Exactly one of several
    racing callers gets NEW or CHECK; the others get BUSY (or POSTED once it is done)."""
    inserted = session.execute(
        upsert_into(session, SlackPost)
        .values(key=key, datastore_id=datastore_id, channel_id=channel_id, thread_ts=thread_ts, claimed_at=now)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(SlackPost.key)
    )
    if inserted.first() is not None:  # (RETURNING: an INSERT's rowcount is not reliable on every driver)
        return PostClaim(ClaimState.NEW, channel_id, thread_ts)
    row = session.scalars(select(SlackPost).where(SlackPost.key == key).execution_options(populate_existing=True)).one()
    if row.ts is not None:
        return PostClaim(ClaimState.POSTED, row.channel_id, row.thread_ts, row.ts)
    earlier = PostClaim(ClaimState.CHECK, row.channel_id, row.thread_ts, since=row.claimed_at)
    taken = session.execute(
        update(SlackPost)
        .where(
            SlackPost.key == key,
            SlackPost.ts.is_(None),
            SlackPost.claimed_at == row.claimed_at,
            or_(SlackPost.uncertain.is_(True), SlackPost.claimed_at < now - in_flight),
        )
        .values(claimed_at=now, uncertain=False, channel_id=channel_id, thread_ts=thread_ts)
        .execution_options(synchronize_session=False)
    )
    if getattr(taken, "rowcount", 0) == 1:
        return earlier
    return PostClaim(ClaimState.BUSY, row.channel_id, row.thread_ts)


def record_post(session: Session, *, key: str, channel_id: str, ts: str, now: datetime) -> None:
    session.execute(
        update(SlackPost)
        .where(SlackPost.key == key)
        .values(channel_id=channel_id, ts=ts, posted_at=now, uncertain=False)
        .execution_options(synchronize_session=False)
    )


def mark_uncertain(session: Session, *, key: str) -> None:
    """The call failed in a way Slack may have applied (timeout, 5xx, connection lost): look before reposting."""
    session.execute(
        update(SlackPost)
        .where(SlackPost.key == key, SlackPost.ts.is_(None))
        .values(uncertain=True)
        .execution_options(synchronize_session=False)
    )


def release_post(session: Session, *, key: str) -> None:
    """Slack refused the call (nothing was posted): the next attempt posts without looking."""
    session.execute(
        delete(SlackPost).where(SlackPost.key == key, SlackPost.ts.is_(None), SlackPost.uncertain.is_(False))
    )
