"""The datastore's thread in the fake Slack, read as a person in the channel reads it.

After *Create* the bot posts the datastore's card in the channel and a progress reply under it, then keeps
that reply updated (chat.update) until the sync ends and it posts the completion reply (✅, ⚠️ or ❌). The
demo shows each text of the progress reply as the bot sent it, then the completion reply.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from demo.errors import DemoError
from demo.fakes.slack_api import FakeSlack
from demo.fakes.slack_state import Message
from demo.render import blocks_text

__all__ = ["COMPLETION_MARKS", "Thread", "find_thread", "follow", "reply_text", "text_of"]

#: The completion reply starts with one of these (handlers.views.progress.completion_message).
COMPLETION_MARKS = ("✅", "⚠️", "❌")
POLL_SECONDS = 0.1


@dataclass(frozen=True)
class Thread:
    channel: str
    parent_ts: str
    progress_ts: str


def _names(slack: FakeSlack) -> dict[str, str]:
    return {user_id: slack.user(user_id).name for user_id in (slack.default_user_id, slack.bot_user_id)}


def text_of(slack: FakeSlack, message: Message) -> str:
    return blocks_text(message.blocks, message.text, _names(slack))


def reply_text(slack: FakeSlack, blocks: object, text: object) -> str:
    """What a person reads in a reply the bot sent (its blocks, else its text)."""
    shown = blocks if isinstance(blocks, list) else []
    return blocks_text(shown, text if isinstance(text, str) else "", _names(slack))


def _bot_post(slack: FakeSlack, channel: str) -> Message | None:
    posts = [m for m in slack.messages(channel) if m.user == slack.bot_user_id and not m.is_reply]
    return posts[0] if posts else None


def find_thread(slack: FakeSlack, *, timeout: float) -> tuple[Thread, str]:
    """The datastore's thread in the default channel, once the bot posted its card and the progress reply;
    with the card's text."""
    channel = slack.default_channel_id
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        parent = _bot_post(slack, channel)
        replies = slack.thread_replies(channel, parent.ts) if parent is not None else []
        if parent is not None and replies:
            return Thread(channel, parent.ts, replies[0].ts), text_of(slack, parent)
        time.sleep(POLL_SECONDS)
    raise DemoError(f"the bot never posted the datastore's thread in #general (waited {timeout:.0f} s)")


def _completion(slack: FakeSlack, thread: Thread) -> Message | None:
    for reply in slack.thread_replies(thread.channel, thread.parent_ts):
        if reply.ts != thread.progress_ts and text_of(slack, reply).startswith(COMPLETION_MARKS):
            return reply
    return None


def follow(slack: FakeSlack, thread: Thread, show: Callable[[str], None], *, timeout: float) -> str:
    """Show every text the progress reply takes until the completion reply is posted; returns that reply's
    text. The progress reply's last text (the bot updates it when the run ends) is shown too."""
    deadline = time.monotonic() + timeout
    while True:
        show(text_of(slack, slack.message(thread.channel, thread.progress_ts)))
        completion = _completion(slack, thread)
        if completion is not None:
            break
        if time.monotonic() > deadline:
            raise DemoError(f"the sync did not finish within {timeout:.0f} s")
        time.sleep(POLL_SECONDS)
    # The final update of the progress reply and the completion reply go out in the same tick of the bot.
    settle = time.monotonic() + 2.0
    final = text_of(slack, slack.message(thread.channel, thread.progress_ts))
    while not final.startswith(("Synced", "Partially", "Failed")) and time.monotonic() < settle:
        time.sleep(POLL_SECONDS)
        final = text_of(slack, slack.message(thread.channel, thread.progress_ts))
    show(final)
    return text_of(slack, completion)
