"""GETs through Atlassian's API gateway for one connection, with its token, the app-wide budget and retries.

* One ``httpx.Client`` per connection at ``{ATLASSIAN_API_URL}/ex/confluence/{cloud_id}``, explicit timeouts,
  Bearer from the :class:`~bot.atlassian.tokens.TokenManager`.
* Every call is a GET (or a read-only POST such as v2 ``/users-bulk``), so every call is retried: ``Retry-After``
  is honoured on 429 and 503 (clamped to 1–120 s);
  5xx, timeouts, connection errors and broken JSON back off exponentially with jitter; then AtlassianUnavailable.
  A 429 asking for more than 120 s means the quota is gone: RateLimited at once, carrying when to resume.
* Every request draws from the app-wide budget (bot/confluence/shared_budget.py), which also reads Atlassian's
  rate-limit headers.
* Refusals. Atlassian's gateway has been seen answering an expired or revoked token with 404 (v2) or 403 (v1)
  rather than 401, so a 401, 403 or 404 may be about the token, not about what was asked for:

  - a 401 always, a 403/404 from a site-wide collection (``/spaces``, ``/pages``, ``/blogposts``: they never
    answer "not found"), and a 403/404 on a token older than MAYBE_EXPIRED_AFTER first force ONE refresh (a
    revoked connection fails right there: ReconnectRequired) and one more try;
  - still a 401, or a site-wide collection still refusing: the connection has lost access to the site. It is
    marked for reconnect (no sync tries it again) and ReconnectRequired says so;
  - otherwise (one page, one space's listing, with a fresh token) AtlassianRequestError with the status:
    404 is gone, 403 is refused.

  A 403/404 on a fresh token is believed at once, so pages that are really gone cost no refresh, and at most
  one refresh per MAYBE_EXPIRED_AFTER comes from them.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from bot.atlassian.tokens import AccessToken, TokenSource, retry_after
from bot.confluence.budget import PointsBudget, RequestBudget
from bot.errors import AtlassianRequestError, AtlassianUnavailable, RateLimited, ReconnectRequired
from bot.metrics import atlassian_call
from bot.settings import Settings
from storage.models import utcnow

__all__ = ["MAYBE_EXPIRED_AFTER", "SITE_WIDE", "Answer", "Gateway", "described", "server_date"]

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=5.0)
MAX_TRIES = 5
BACKOFF_START = 0.5
BACKOFF_CAP = 30.0
RETRY_AFTER_MIN = 1.0
RETRY_AFTER_MAX = 120.0
#: The longest pause a 429 can ask for (a Retry-After beyond it is taken as this).
PAUSE_MAX = 86_400.0
#: A refusal on a token issued longer ago than this may mean the gateway thinks it expired: refresh once first.
MAYBE_EXPIRED_AFTER = timedelta(minutes=3)
#: Collections of the whole site: a 403 or 404 from one of them is never about a missing thing.
SITE_WIDE = frozenset({"/wiki/api/v2/spaces", "/wiki/api/v2/pages", "/wiki/api/v2/blogposts"})
REFUSALS = frozenset({401, 403, 404})
#: A server Date further ahead of this machine's clock than this is not believed.
DATE_AHEAD_MAX = timedelta(minutes=10)


def server_date(header: str | None, now: datetime) -> datetime | None:
    """The server's clock from a ``Date`` header (RFC 9110), in UTC. Atlassian stamps pages with its own clock, so
    "changed since" questions are asked in its time, not this machine's. A date ahead of ``now`` by more than
    DATE_AHEAD_MAX is not believed (asking from the future would miss every change): None, like an unreadable
    one. A date behind ``now`` is kept: asking from too early costs a few listed items, never a lost change."""
    if not header or len(header) > 64:
        return None
    try:
        date = parsedate_to_datetime(header)
        if date.tzinfo is None:
            return None
        date = date.astimezone(UTC)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return None if date > now + DATE_AHEAD_MAX else date


def described(url: str) -> str:
    """The path of ``url`` without its query (cursors are long and say nothing to a person)."""
    return urlsplit(url).path


@dataclass(frozen=True)
class Answer:
    """A 200 answer: its JSON object, its ``Link`` header values and Atlassian's clock when it answered."""

    payload: dict[str, Any]
    links: tuple[str, ...] = field(default=())
    date: datetime | None = None  # the ``Date`` header (see server_date); None when absent or unusable


@dataclass(frozen=True)
class _Retry:
    problem: str
    wait: float | None  # the Retry-After to honour


def _outcome_of(answer: Answer | int | _Retry) -> str:
    """The metrics label of one request's result."""
    if isinstance(answer, Answer):
        return "ok"
    if isinstance(answer, int):
        return "refused"
    if answer.problem == "429":
        return "rate_limited"
    return "server_error" if answer.problem.isdigit() else "unreachable"


def _json_object(response: httpx.Response) -> dict[str, Any] | None:
    try:
        payload = response.json()
    except (ValueError, RecursionError):  # not JSON, or nested beyond reason
        return None
    return payload if isinstance(payload, dict) else None


class Gateway:
    """The connection's way into Confluence; see the module docstring. Close it when done."""

    def __init__(
        self,
        settings: Settings,
        tokens: TokenSource,
        connection_id: int,
        cloud_id: str,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], datetime] = utcnow,
        budget: PointsBudget | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        max_tries: int = MAX_TRIES,
        rng: random.Random | None = None,
    ) -> None:
        self._tokens = tokens
        self._connection_id = connection_id
        self._sleep = sleep
        self._clock = clock
        self.budget: PointsBudget = budget or RequestBudget(clock=clock)
        self._max_tries = max(1, max_tries)
        self._random = rng or random.Random()
        self._http = httpx.Client(
            base_url=f"{settings.atlassian_api_url}/ex/confluence/{quote(cloud_id, safe='')}",
            timeout=timeout,
            transport=transport,
            headers={"Accept": "application/json"},
        )

    def close(self) -> None:
        self._http.close()

    def get(self, url: str) -> Answer:
        """GET ``url`` (relative to the gateway base) as a JSON object, with the retries and refusals above."""
        return self._call(url, None)

    def post_read(self, url: str, body: dict[str, Any]) -> Answer:
        """POST a JSON ``body`` to a read-only endpoint (v2 ``/users-bulk``): retried and refused like a GET."""
        return self._call(url, body)

    def _call(self, url: str, body: dict[str, Any] | None) -> Answer:
        token = self._tokens.current(self._connection_id)
        refreshed = False
        attempt = 0
        while True:
            self.budget.take(1)
            outcome = self._attempt(url, token, body)
            if isinstance(outcome, Answer):
                return outcome
            if isinstance(outcome, int):  # a refusal
                if refreshed or not self._maybe_the_token(outcome, url, token):
                    raise self._refused(outcome, url, refreshed=refreshed)
                token = self._tokens.force_refresh(self._connection_id, token.version)
                refreshed = True
                continue
            attempt += 1
            wait = outcome.wait
            delay = min(max(wait, RETRY_AFTER_MIN), RETRY_AFTER_MAX) if wait is not None else self._backoff(attempt)
            if attempt >= self._max_tries:
                if outcome.problem == "429":
                    raise RateLimited(self._clock() + timedelta(seconds=delay))
                raise AtlassianUnavailable(
                    f"Confluence kept failing on {described(url)} ({outcome.problem}) after {attempt} tries."
                )
            self._sleep(delay)

    def _maybe_the_token(self, status: int, url: str, token: AccessToken) -> bool:
        """Whether a refusal may be the gateway's way of saying the token expired (so a refresh may cure it)."""
        old = self._clock() - token.issued_at >= MAYBE_EXPIRED_AFTER
        return status == 401 or described(url) in SITE_WIDE or old

    def _refused(self, status: int, url: str, *, refreshed: bool) -> ReconnectRequired | AtlassianRequestError:
        if status == 401 or described(url) in SITE_WIDE:
            fresh = " even with a fresh token" if refreshed else ""
            reason = (
                f"The Confluence connection has lost access to the site: Confluence answered {status} to "
                f"{described(url)}{fresh}."
            )
            self._tokens.lost_access(self._connection_id, reason)
            return ReconnectRequired(reason)
        return AtlassianRequestError(status, f"Confluence answered {status} to {described(url)}.")

    def _backoff(self, attempt: int) -> float:
        return min(BACKOFF_CAP, BACKOFF_START * 2.0 ** (attempt - 1)) * self._random.uniform(0.7, 1.3)

    def _attempt(self, url: str, token: AccessToken, body: dict[str, Any] | None = None) -> Answer | int | _Retry:
        """The answer, a refusal (its status), or what went wrong with the Retry-After to honour, for a retry."""
        outcome = "unreachable"
        try:
            answer = self._request(url, token, body)
            outcome = _outcome_of(answer)
            return answer
        except AtlassianRequestError:
            outcome = "refused"
            raise
        except RateLimited:
            outcome = "rate_limited"
            raise
        finally:
            atlassian_call("confluence", outcome)

    def _request(self, url: str, token: AccessToken, body: dict[str, Any] | None) -> Answer | int | _Retry:
        headers = {"Authorization": f"Bearer {token.value}"}
        try:
            if body is None:
                response = self._http.get(url, headers=headers)
            else:
                response = self._http.post(url, json=body, headers=headers)
        except (httpx.TransportError, httpx.DecodingError) as exc:  # timeouts, dropped connections, garbled bodies
            return _Retry(type(exc).__name__, None)
        status = response.status_code
        if status == 200:
            payload = _json_object(response)
            links = tuple(response.headers.get_list("link"))
            date = server_date(response.headers.get("date"), self._clock())
            if date is not None:  # the quota Atlassian reports is its hour's: only when we know which hour
                self.budget.observe(response.headers, date)
            return Answer(payload, links, date) if payload is not None else _Retry("a reply that is not JSON", None)
        if status in REFUSALS:
            return status
        if status in (429, 503):
            wait = retry_after(response)
            if status == 429 and wait is not None and wait > RETRY_AFTER_MAX:
                raise RateLimited(self._clock() + timedelta(seconds=min(wait, PAUSE_MAX)))
            return _Retry(str(status), wait)
        if status >= 500:
            return _Retry(str(status), None)
        raise AtlassianRequestError(status, f"Confluence answered {status} to {described(url)}.")
