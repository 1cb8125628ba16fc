"""A fake Slack Socket Mode endpoint: the websocket server behind the URL the fake Slack's
``apps.connections.open`` hands out, for end-to-end tests of a bot run with SLACK_APP_TOKEN.

Usage::

    with FakeSlack() as slack, FakeSocketMode(slack) as socket:   # ws://127.0.0.1:<random port>/link/
        ...                                 # start the bot with SLACK_APP_TOKEN=sorted(slack.app_tokens)[0]
        socket.wait_for_connection()        # it called apps.connections.open, connected and got ``hello``
        envelope_id = socket.slash_command("help")
        ack = socket.wait_for_ack(envelope_id)

As in Slack: every connection first receives a ``hello``; every envelope must be acknowledged with
``{"envelope_id": …}`` within ``ack_timeout`` seconds of the fake Slack's clock (an ack after that is recorded
as ``late``: Slack would already have told the user the app did not respond); a slash command's ack may carry
a message (``payload``), which the fake Slack then shows as the reply, as an HTTP ack body would be.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server, ServerConnection, serve

from demo.fakes.slack_api import FakeSlack
from demo.fakes.slack_state import random_id

__all__ = ["Ack", "FakeSocketMode"]

JsonDict = dict[str, Any]
#: Slack's deadline for acknowledging an envelope.
ACK_TIMEOUT = 3.0


@dataclass(frozen=True)
class Ack:
    """One acknowledgement the bot sent back over the socket."""

    envelope_id: str
    payload: JsonDict | None
    late: bool


@dataclass
class _Envelope:
    type: str
    payload: JsonDict
    sent_at: float


class FakeSocketMode:
    """Socket Mode server on 127.0.0.1 tied to one FakeSlack. Thread-safe."""

    def __init__(self, slack: FakeSlack, *, ack_timeout: float = ACK_TIMEOUT) -> None:
        self.slack, self.ack_timeout = slack, ack_timeout
        self._changed = threading.Condition()
        self._connections: list[ServerConnection] = []
        self._envelopes: dict[str, _Envelope] = {}
        self._acks: list[Ack] = []
        self._unreadable: list[str] = []
        self._server: Server | None = None
        self._thread: threading.Thread | None = None

    # ---- lifecycle -------------------------------------------------------------------------------
    def start(self) -> FakeSocketMode:
        self._server = serve(self._session, "127.0.0.1", 0)
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-socket-mode", daemon=True)
        self._thread.start()
        self.slack.enable_socket_mode(self.url)
        return self

    def stop(self) -> None:
        self.slack.enable_socket_mode(None)
        if self._server is not None:
            self._server.shutdown()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def __enter__(self) -> FakeSocketMode:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """``ws://127.0.0.1:PORT/link/?ticket=…&app_id=…``, shaped like Slack's ``wss://wss-primary.slack.com/link/…``."""
        assert self._server is not None, "start() the fake first"
        port = self._server.socket.getsockname()[1]
        return f"ws://127.0.0.1:{port}/link/?ticket={random_id('', 16).lower()}&app_id={self.slack.app_id}"

    # ---- the socket ------------------------------------------------------------------------------
    def _session(self, connection: ServerConnection) -> None:
        with self._changed:
            self._connections.append(connection)
            self._changed.notify_all()
        hello = {
            "type": "hello",
            "num_connections": len(self._connections),
            "debug_info": {"host": "applink-fake", "build_number": 1, "approximate_connection_time": 18060},
            "connection_info": {"app_id": self.slack.app_id},
        }
        try:
            connection.send(json.dumps(hello))
            for message in connection:
                self._received(message if isinstance(message, str) else message.decode("utf-8", "replace"))
        except ConnectionClosed:
            pass
        finally:
            with self._changed:
                self._connections.remove(connection)
                self._changed.notify_all()

    def _received(self, message: str) -> None:
        try:
            data = json.loads(message)
        except ValueError:
            data = None
        envelope_id = data.get("envelope_id") if isinstance(data, dict) else None
        with self._changed:
            envelope = self._envelopes.get(envelope_id) if isinstance(envelope_id, str) else None
            if envelope is None or not isinstance(data, dict) or not isinstance(envelope_id, str):
                self._unreadable.append(message)
                self._changed.notify_all()
                return
            payload = data.get("payload")
            ack = Ack(envelope_id, payload if isinstance(payload, dict) else None, self._late(envelope))
            self._acks.append(ack)
            self._changed.notify_all()
        if envelope.type == "slash_commands" and ack.payload and not ack.late:
            self.slack.apply_ack_reply(envelope.payload["channel_id"], envelope.payload["user_id"], ack.payload)

    def _late(self, envelope: _Envelope) -> bool:
        return self.slack.now() - envelope.sent_at > self.ack_timeout

    # ---- what a test does ------------------------------------------------------------------------
    def wait_for_connection(self, timeout: float = 20.0) -> None:
        """Block until the bot holds an open connection (it then has its ``hello``)."""
        self._wait(lambda: bool(self._connections), timeout, "no Socket Mode connection")

    def send(self, envelope_type: str, payload: JsonDict, *, accepts_response_payload: bool = False) -> str:
        """An envelope to the bot over its newest connection; returns its envelope_id."""
        envelope_id = f"{random_id('', 8).lower()}-{random_id('', 4).lower()}-{random_id('', 12).lower()}"
        envelope = {
            "envelope_id": envelope_id,
            "type": envelope_type,
            "payload": payload,
            "accepts_response_payload": accepts_response_payload,
            "retry_attempt": 0,
            "retry_reason": "",
        }
        with self._changed:
            assert self._connections, "the bot is not connected"
            connection = self._connections[-1]
            self._envelopes[envelope_id] = _Envelope(envelope_type, payload, self.slack.now())
        connection.send(json.dumps(envelope))
        return envelope_id

    def slash_command(self, text: str, *, user_id: str | None = None, channel_id: str | None = None) -> str:
        """``/datastore <text>`` from ``user_id`` in ``channel_id`` (the fake's defaults), as Slack sends it."""
        user_id, channel_id = user_id or self.slack.default_user_id, channel_id or self.slack.default_channel_id
        payload = {
            "token": "fake-verification-token",
            "team_id": self.slack.team_id,
            "team_domain": self.slack.team_domain,
            "channel_id": channel_id,
            "channel_name": self.slack.channel(channel_id).name,
            "user_id": user_id,
            "user_name": self.slack.user(user_id).name,
            "command": "/datastore",
            "text": text,
            "api_app_id": self.slack.app_id,
            "is_enterprise_install": "false",
            "response_url": self.slack.new_response_url(channel_id, user_id),
            "trigger_id": self.slack.issue_trigger_id(user_id),
        }
        return self.send("slash_commands", payload, accepts_response_payload=True)

    def wait_for_ack(self, envelope_id: str, timeout: float = 20.0) -> Ack:
        """Block until the bot acknowledged ``envelope_id``; returns that ack (check ``late``)."""
        self._wait(lambda: any(a.envelope_id == envelope_id for a in self._acks), timeout, f"no ack of {envelope_id}")
        with self._changed:
            return next(a for a in self._acks if a.envelope_id == envelope_id)

    def acks(self) -> list[Ack]:
        with self._changed:
            return list(self._acks)

    def unreadable(self) -> list[str]:
        """Messages from the bot that were no ack of an envelope sent to it."""
        with self._changed:
            return list(self._unreadable)

    def _wait(self, condition: Callable[[], bool], timeout: float, failure: str) -> None:
        deadline = time.monotonic() + timeout
        with self._changed:
            while not condition():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"{failure} within {timeout}s; unreadable messages: {self._unreadable}")
                self._changed.wait(remaining)
