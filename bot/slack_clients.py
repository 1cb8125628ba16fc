"""Slack Web API clients: one counting ``WebClient`` per installation (bot token and workspace), built on first use
and shared by every request and job of the process, instead of one per request.

Bolt builds a fresh client for each request (so a listener may change its token without touching another's); no
listener of ours changes a client, so the first global middleware swaps it for the installation's shared one.
slack_sdk's client holds no per-call state (each call opens its own connection), so threads may share it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler
from slack_sdk.http_retry.request import HttpRequest as RetryHttpRequest
from slack_sdk.http_retry.response import HttpResponse as RetryHttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web import SlackResponse

from bot import metrics

__all__ = ["MAX_INSTALLATIONS", "NOT_REPEATABLE", "CountingWebClient", "RepeatableCallRetryHandler", "SlackClients"]

#: Web API methods that post something new: never sent again on their own after a connection error, since Slack
#: may have applied the first request (the caller looks for it before posting again).
NOT_REPEATABLE = frozenset({"chat.postMessage", "chat.postEphemeral", "chat.scheduleMessage", "chat.meMessage"})
#: Clients kept: the installations used most recently (a rotated or revoked token's client ages out).
MAX_INSTALLATIONS = 1024


class RepeatableCallRetryHandler(ConnectionErrorRetryHandler):
    """slack_sdk's connection-error retries, except for posts: a dropped connection after Slack applied a
    chat.postMessage would otherwise post it twice."""

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: RetryHttpRequest,
        response: RetryHttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        method = request.url.split("?", 1)[0].rsplit("/", 1)[-1]
        if method in NOT_REPEATABLE:
            return False
        return super()._can_retry(state=state, request=request, response=response, error=error)


class CountingWebClient(WebClient):
    """slack_sdk's WebClient, counting each Web API call by method and outcome in /metrics (bot/metrics.py)."""

    def api_call(self, api_method: str, **kwargs: Any) -> SlackResponse:
        outcome = "unreachable"
        try:
            response = super().api_call(api_method, **kwargs)
            outcome = "ok"
            return response
        except SlackApiError as exc:
            outcome = "rate_limited" if exc.response.status_code == 429 else "error"
            raise
        finally:
            metrics.slack_call(api_method, outcome)


class SlackClients:
    """The process's clients, one per (bot token, workspace): counting, with connection-error retries that never
    repeat a post, ``timeout`` seconds a call."""

    def __init__(self, base_url: str, *, timeout: int = 10, limit: int = MAX_INSTALLATIONS) -> None:
        self.base_url, self.timeout, self.limit = base_url, timeout, limit
        self._clients: OrderedDict[tuple[str | None, str | None], CountingWebClient] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, token: str | None, team_id: str | None = None) -> CountingWebClient:
        """The shared client of this installation (built on its first use)."""
        key = (token, team_id)
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                client = CountingWebClient(
                    token=token,
                    base_url=self.base_url,
                    timeout=self.timeout,
                    team_id=team_id,
                    retry_handlers=[RepeatableCallRetryHandler(max_retry_count=2)],
                )
                self._clients[key] = client
                while len(self._clients) > self.limit:
                    self._clients.popitem(last=False)
            else:
                self._clients.move_to_end(key)
            return client

    def like(self, client: WebClient) -> CountingWebClient:
        """The shared client for the installation ``client`` (Bolt's per-request one) speaks for."""
        team_id = client.default_params.get("team_id")
        return self.get(client.token, team_id if isinstance(team_id, str) else None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._clients)
