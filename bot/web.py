"""The one HTTP server: /slack/events (Bolt behind the gate), /oauth/confluence/callback and /healthz on one WSGI app.

Each route has its own rule, since only /slack/events is signed:

- ``POST /slack/events``: the gate (bot/slack_gate.py) — 1 MiB cap, Slack's signature, Slack's body shapes;
- ``GET /slack/install``, ``GET /slack/oauth_redirect``: Bolt's "Add to Slack" flow with its single-use state;
- ``GET /oauth/confluence/callback``: the Confluence consent callback, which needs its single-use state;
- ``GET|HEAD /healthz``: no side effects;
- browser routes take a query string of at most 8 KiB (414), each field once and without control characters
  (400), and no body above the cap (413); another method gets 405, another path 404.

waitress itself refuses bodies a little above the cap, so nothing reads a giant body.
"""

from __future__ import annotations

import errno
import html
import json
import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from waitress import wasyncore
from waitress.server import create_server

from bot.errors import ConfigurationError, RequestRejected
from bot.http_body import MAX_BODY_BYTES, SERVER_BODY_LIMIT, query_params
from bot.logs import log_context, new_request_id
from bot.slack_gate import SlackGate
from storage.db import database_is_reachable

__all__ = ["HttpServer", "Router", "StaleLoops", "WsgiApp", "cannot_listen", "html_page", "start_http_server"]

logger = logging.getLogger(__name__)

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
#: A route answers with (status line, headers, body).
Answer = tuple[str, list[tuple[str, str]], bytes]
OAuthCallback = Callable[[dict[str, str]], Answer]
#: The long-running loops whose heartbeat is stale (bot/liveness.py LivenessCheck.stale).
StaleLoops = Callable[[], list[str]]

SLACK_EVENTS_PATH = "/slack/events"
SLACK_OAUTH_PATHS = ("/slack/install", "/slack/oauth_redirect")


def html_page(status: str, title: str, message: str) -> Answer:
    """A small self-contained HTML page for the browser (OAuth results)."""
    body = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<meta name='viewport' content='width=device-width'><title>{html.escape(title)}</title>"
        "<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;"
        "color:#1d1c1d}h1{font-size:1.4rem}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><p>{html.escape(message)}</p></body></html>"
    ).encode()
    return status, [("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-store")], body


def _json(status: str, payload: dict[str, Any]) -> Answer:
    return (
        status,
        [("Content-Type", "application/json"), ("Cache-Control", "no-store")],
        json.dumps(payload).encode(),
    )


_REFUSED_PAGES = {
    400: ("400 Bad Request", "That link is broken", "This address does not look like one Slack or Confluence sent."),
    413: ("413 Content Too Large", "Too much data", "This page does not accept that much data."),
    414: ("414 URI Too Long", "That link is too long", "This address is longer than any link this bot hands out."),
}


def _refused_page(refused: RequestRejected) -> Answer:
    status, title, message = _REFUSED_PAGES[refused.status]
    return html_page(status, title, f"{message} Start again from Slack.")


def _browser_query(environ: dict[str, Any]) -> dict[str, str]:
    """The query of a browser route, after its caps; RequestRejected (logged, one line) when it breaks them."""
    try:
        declared = environ.get("CONTENT_LENGTH") or "0"
        if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            raise RequestRejected(413, "body above the cap on a browser route")
        return query_params(environ)
    except RequestRejected as refused:
        logger.warning(
            "refused a request to %s from %s: %d, %s",
            environ.get("PATH_INFO", ""),
            environ.get("REMOTE_ADDR", "?"),
            refused.status,
            refused.reason,
        )
        raise


def missing_callback(_params: dict[str, str]) -> Answer:
    return html_page(
        "400 Bad Request",
        "Nothing to connect here",
        "This address finishes connecting Confluence from the /datastore create wizard in Slack. "
        "Start again from Slack.",
    )


class Router:
    """Routes by path; Slack's paths go to Bolt's WSGI handler, the rest are answered here."""

    def __init__(
        self,
        *,
        slack: WsgiApp,
        engine: Engine,
        signing_secret: str,
        oauth_callback: OAuthCallback = missing_callback,
        stale_loops: StaleLoops | None = None,
    ):
        self._slack = slack
        self._events = SlackGate(slack, signing_secret)
        self._engine = engine
        self._oauth_callback = oauth_callback
        self._stale_loops = stale_loops

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        with log_context(request_id=new_request_id()):  # on every line logged while the request is answered
            return self._route(environ, start_response)

    def _route(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path == SLACK_EVENTS_PATH and method == "POST":
            return self._events(environ, start_response)
        try:
            if path in SLACK_OAUTH_PATHS and method == "GET":
                _browser_query(environ)
                return self._slack(environ, start_response)
            answer = self._answer(path, method, environ)
        except RequestRejected as refused:
            answer = _refused_page(refused)
        status, headers, body = answer
        start_response(status, [*headers, ("Content-Length", str(len(body)))])
        return [b""] if method == "HEAD" else [body]

    def _answer(self, path: str, method: str, environ: dict[str, Any]) -> Answer:
        if path == SLACK_EVENTS_PATH:
            return self._not_allowed("POST")
        if path in SLACK_OAUTH_PATHS:
            return self._not_allowed("GET")
        if path == "/healthz":
            answer = self._healthz() if method in ("GET", "HEAD") else self._not_allowed("GET")
        elif path == "/oauth/confluence/callback":
            answer = self._oauth_callback(_browser_query(environ)) if method == "GET" else self._not_allowed("GET")
        else:
            answer = _json("404 Not Found", {"error": "not_found"})
        return answer

    def _healthz(self) -> Answer:
        """200 when the database answers and every long-running loop (sync worker, scheduler) beat recently;
        503 saying which is not."""
        unreachable = _json("503 Service Unavailable", {"status": "unavailable", "database": "unreachable"})
        if not database_is_reachable(self._engine):
            return unreachable
        if self._stale_loops is not None:
            try:
                stale = self._stale_loops()
            except SQLAlchemyError:
                return unreachable
            if stale:
                loops = {loop: "stale" for loop in stale}
                return _json("503 Service Unavailable", {"status": "unavailable", "database": "ok", **loops})
        return _json("200 OK", {"status": "ok", "database": "ok"})

    @staticmethod
    def _not_allowed(allowed: str) -> Answer:
        status, headers, body = _json("405 Method Not Allowed", {"error": "method_not_allowed"})
        return status, [*headers, ("Allow", allowed)], body


def cannot_listen(host: str, port: int, error: OSError) -> str:
    """The one line for a port the server cannot listen on (in use, privileged, an unknown address)."""
    if error.errno == errno.EADDRINUSE:
        return (
            f"port {port} is already in use on {host} — stop what is listening there, "
            "or set PORT (or --port) to a free port."
        )
    reason = error.strerror or str(error)
    return (
        f"cannot listen on {host}:{port} ({reason}) — set PORT (or --port) to another port, "
        "or --host to an address of this machine."
    )


class HttpServer:
    """A waitress server whose loop runs on one thread and stops cleanly from any other.

    waitress has no stop method; closing its sockets from another thread races with its select() loop, so
    the loop runs in short rounds and the closing happens on the loop's own thread.
    """

    def __init__(self, app: WsgiApp, *, host: str = "0.0.0.0", port: int = 3000, threads: int = 16) -> None:
        try:
            self._server: Any = create_server(
                app,
                host=host,
                port=port,
                threads=threads,
                ident="datastore-bot",
                max_request_body_size=SERVER_BODY_LIMIT,
            )
        except OSError as exc:
            raise ConfigurationError("PORT", cannot_listen(host, port, exc)) from None
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        # close() wakes the loop only while its sockets are open. Re-entrant: `serve` calls close() from a signal
        # handler, which may interrupt the loop's own thread while it holds the lock closing them.
        self._sockets_lock = threading.RLock()
        self._sockets_closed = False

    @property
    def port(self) -> int:
        return int(self._server.effective_port)

    def serve_forever(self) -> None:
        """Serve until ``close()`` is called (from another thread) or the process is interrupted."""
        socket_map = self._server._map
        try:
            while not self._stopping.is_set() and socket_map:
                wasyncore.loop(timeout=0.2, map=socket_map, use_poll=True, count=1)
        finally:
            with self._sockets_lock:
                self._sockets_closed = True
                for dispatcher in list(socket_map.values()):
                    dispatcher.close()
            self._server.task_dispatcher.shutdown()

    def start_in_thread(self) -> None:
        self._thread = threading.Thread(target=self.serve_forever, name="http", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stopping.set()
        with self._sockets_lock:
            if not self._sockets_closed:
                self._server.trigger.pull_trigger()  # wakes the loop from its poll now, not at its round's end
        if self._thread is not None:
            self._thread.join(timeout=5)


def start_http_server(app: WsgiApp, *, host: str = "127.0.0.1", port: int = 0) -> HttpServer:
    server = HttpServer(app, host=host, port=port)
    server.start_in_thread()
    return server
