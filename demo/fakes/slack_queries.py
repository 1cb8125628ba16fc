"""Read-only queries of the fake Slack's workspace (copies, safe to keep), mixed into FakeSlack."""

from __future__ import annotations

import copy
import threading

from demo.fakes.slack_state import Channel, Ephemeral, Message, User, View, Workspace

__all__ = ["WorkspaceQueries"]


class WorkspaceQueries:
    """What a test reads back: messages, threads, views, DMs, users and channels."""

    _lock: threading.RLock
    _ws: Workspace

    def _channel(self, channel_id: str) -> Channel:
        if channel_id not in self._ws.channels:
            raise AssertionError(f"unknown channel {channel_id}: call FakeSlack.add_channel first")
        return self._ws.channels[channel_id]

    def messages(self, channel: str, thread_ts: str | None = None) -> list[Message]:
        """Channel history (top level + broadcast replies), or parent + replies when ``thread_ts``."""
        with self._lock:
            return copy.deepcopy(self._ws.channel_messages(channel, thread_ts))

    def message(self, channel: str, ts: str) -> Message:
        """Any stored message, including deleted ones (``.deleted``)."""
        with self._lock:
            return copy.deepcopy(self._ws.messages[channel][ts])

    def thread_replies(self, channel: str, ts: str) -> list[Message]:
        return [m for m in self.messages(channel, thread_ts=ts) if m.ts != ts]

    def view(self, view_id: str) -> View:
        with self._lock:
            if view_id not in self._ws.views:
                raise AssertionError(f"no view {view_id} in the fake")
            return copy.deepcopy(self._ws.views[view_id])

    def open_views(self, user_id: str) -> list[View]:
        """The user's modal stack, root first."""
        with self._lock:
            return [copy.deepcopy(self._ws.views[v]) for v in self._ws.modal_stacks.get(user_id, [])]

    def home_view(self, user_id: str) -> View | None:
        with self._lock:
            view_id = self._ws.home_views.get(user_id)
            return copy.deepcopy(self._ws.views[view_id]) if view_id else None

    def ephemerals(self, channel: str | None = None, user: str | None = None) -> list[Ephemeral]:
        with self._lock:
            found = [e for e in self._ws.ephemerals if not e.deleted]
            found = [e for e in found if channel in (None, e.channel) and user in (None, e.user)]
            return copy.deepcopy(found)

    def dms(self, user_id: str) -> list[Message]:
        """Messages the bot sent to its DM with ``user_id`` (any thread)."""
        with self._lock:
            dm = next((c for c in self._ws.channels.values() if c.is_im and c.im_user == user_id), None)
            found = [] if dm is None else [m for m in self._ws.messages[dm.id].values() if not m.deleted]
            return copy.deepcopy(found)

    def user(self, user_id: str) -> User:
        with self._lock:
            if user_id not in self._ws.users:
                raise AssertionError(f"unknown user {user_id}: call FakeSlack.add_user first")
            return copy.deepcopy(self._ws.users[user_id])

    def channel(self, channel_id: str) -> Channel:
        with self._lock:
            return copy.deepcopy(self._channel(channel_id))

    def dm_channel_id(self, user_id: str) -> str:
        with self._lock:
            return self._ws.open_dm(user_id)[0].id

    def all_messages(self, *, text_prefix: str = "") -> list[Message]:
        """Every live message in every channel and DM, threads included (e.g. to count one completion reply)."""
        with self._lock:
            found = [
                m
                for channel in self._ws.messages.values()
                for m in channel.values()
                if not m.deleted and m.text.startswith(text_prefix)
            ]
            return copy.deepcopy(found)
