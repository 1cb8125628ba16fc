"""Minimal HTTP plumbing for the fake: request/response values, a router and a threaded server.

Each :class:`HttpServer` is a stdlib ``ThreadingHTTPServer`` bound to 127.0.0.1 on an ephemeral
port and served from a daemon thread.  Open connections are tracked so :meth:`HttpServer.stop`
can close keep-alive sockets and wake handlers that are deliberately holding a connection.
"""

from __future__ import annotations

import json
import re
import socket
import sys
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Generic, TypeVar
from urllib.parse import parse_qs, unquote, urlsplit


@dataclass(frozen=True)
class Request:
    """An incoming HTTP request, already parsed."""

    method: str
    path: str
    raw_query: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def param(self, name: str, default: str | None = None) -> str | None:
        """First value of a query parameter."""
        values = self.query.get(name)
        return values[0] if values else default

    def params(self, name: str) -> list[str]:
        """All values, accepting both repeated (``a=1&a=2``) and comma-separated (``a=1,2``) forms."""
        out: list[str] = []
        for value in self.query.get(name, []):
            out.extend(part for part in value.split(",") if part)
        return out

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def form_or_json(self) -> dict[str, str]:
        """Decode a JSON or ``application/x-www-form-urlencoded`` body into a flat dict."""
        content_type = (self.header("content-type") or "").split(";")[0].strip().lower()
        if content_type == "application/json":
            try:
                data = json.loads(self.body or b"{}")
            except ValueError:
                return {}
            return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}
        parsed = parse_qs(self.body.decode("utf-8", "replace"), keep_blank_values=True)
        return {key: values[0] for key, values in parsed.items()}


@dataclass
class Response:
    """An outgoing response plus bookkeeping the fake records in its request log."""

    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    endpoint: str = ""
    principal: str | None = None
    body_ids: tuple[str, ...] = ()
    note: str = ""
    points: int = 0  # Atlassian points the answer costs (see points.py)


@dataclass(frozen=True)
class Drop:
    """Hold the connection for ``hold`` seconds (or until the server stops), then close it."""

    hold: float


Outcome = Response | Drop
App = Callable[[Request], Outcome]


def json_response(status: int, payload: Any, headers: Iterable[tuple[str, str]] = ()) -> Response:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return Response(status, body, [("Content-Type", "application/json;charset=UTF-8"), *headers])


def html_response(status: int, html: str) -> Response:
    return Response(status, html.encode("utf-8"), [("Content-Type", "text/html;charset=UTF-8")])


def redirect(location: str) -> Response:
    return Response(302, b"", [("Location", location)])


Handler = TypeVar("Handler")


class Router(Generic[Handler]):
    """Path templates such as ``/wiki/api/v2/pages/{id}`` mapped to handlers (first match wins)."""

    def __init__(self) -> None:
        self._routes: list[tuple[str, re.Pattern[str], str, Handler]] = []

    def add(self, method: str, template: str, handler: Handler) -> None:
        pattern = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template)
        self._routes.append((method, re.compile(f"^{pattern}/?$"), template, handler))

    def match(self, method: str, path: str) -> tuple[str, Handler, dict[str, str]] | None:
        for route_method, pattern, template, handler in self._routes:
            found = pattern.match(path)
            if found and route_method == method:
                return f"{method} {template}", handler, found.groupdict()
        return None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, app: App, stop_event: threading.Event) -> None:
        self.app = app
        self.stop_event = stop_event
        self.open_sockets: set[socket.socket] = set()
        self.sockets_lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.sockets_lock:
            self.open_sockets.add(request)
        super().process_request(request, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients hanging up mid-response are normal in fault tests; report anything else."""
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.sockets_lock:
            self.open_sockets.discard(request)
        super().shutdown_request(request)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default stderr access log."""

    def _dispatch(self) -> None:
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = Request(
            method=self.command,
            path=unquote(split.path),
            raw_query=split.query,
            query=parse_qs(split.query, keep_blank_values=True),
            headers={key.lower(): value for key, value in self.headers.items()},
            body=body,
        )
        outcome = self.server.app(request)
        if isinstance(outcome, Drop):
            self.server.stop_event.wait(outcome.hold)
            self.close_connection = True
            return
        self._write(outcome)

    def _write(self, response: Response) -> None:
        self.send_response_only(response.status)
        if not any(name.lower() == "date" for name, _ in response.headers):
            self.send_header("Date", self.date_time_string())
        for name, value in response.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD" and response.body:
            self.wfile.write(response.body)

    do_GET = _dispatch
    do_POST = _dispatch
    do_PUT = _dispatch
    do_DELETE = _dispatch
    do_HEAD = _dispatch


class HttpServer:
    """A started-on-demand threaded HTTP server on 127.0.0.1:<ephemeral>."""

    def __init__(self, app: App, stop_event: threading.Event) -> None:
        self._server = _Server(app, stop_event)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        with self._server.sockets_lock:
            open_sockets = list(self._server.open_sockets)
        for sock in open_sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._server.server_close()
