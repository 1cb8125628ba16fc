"""Every error the bot raises on purpose, in one tree.

    BotError                      base of everything below
    ├── ConfigurationError        a setting is missing or invalid (the CLI prints one line, exit code 2)
    ├── UserFacingError           safe to show to the Slack user as it is
    │   └── CommandUsageError     a /datastore command was typed wrongly
    ├── StorageError              the database could not be reached or migrated
    ├── SyncError                 a sync run cannot go on in this worker
    │   ├── LeaseLost             another worker took the run over (this one stops quietly)
    │   └── OutOfCredits          the workspace ran out of ingestion credits (the run pauses)
    ├── SlackUnavailableError     the Slack Web API could not be reached at start-up
    ├── RequestRejected           an HTTP request refused before any handler sees it (``status``: 400/401/413/414)
    ├── SlackPostPending          a post may be in flight elsewhere, or applied unseen: go on at the next pass
    └── AtlassianError            Atlassian answered with an error or not at all
        ├── OAuthExchangeError    the authorization code could not be exchanged for tokens
        ├── ReconnectRequired     refused for good (a token refusal such as invalid_grant, or access to the
        │                         site lost even with a fresh token): someone must consent again
        ├── AtlassianUnavailable  not reachable, timing out or failing (5xx, broken JSON) even after retries
        ├── AtlassianRequestError Atlassian refused a request (a 4xx other than 429); ``status`` says which
        ├── IncompleteListing     a listing cannot be finished (a bad, repeated or disagreeing next-page link):
        │                         it stops there and nothing is pruned
        └── RateLimited           the points quota (Atlassian's or our own budget) is used up until ``until``

``BotError`` and ``StorageError`` are defined in ``storage/errors.py`` (storage imports nothing from bot/) and
re-exported here: name them from this module.

Errors that come from libraries (httpx, SQLAlchemy, slack_sdk) are wrapped into one of these where the
bot can say something useful; anything else reaches the single ``@app.error`` handler, which logs it with
an error id and shows the user that id.
"""

from __future__ import annotations

from datetime import datetime

from storage.errors import BotError, StorageError

__all__ = [
    "AtlassianError",
    "AtlassianRequestError",
    "AtlassianUnavailable",
    "BotError",
    "CommandUsageError",
    "ConfigurationError",
    "IncompleteListing",
    "LeaseLost",
    "OAuthExchangeError",
    "OutOfCredits",
    "RateLimited",
    "ReconnectRequired",
    "RequestRejected",
    "SlackPostPending",
    "SlackUnavailableError",
    "StorageError",
    "SyncError",
    "UserFacingError",
]


class ConfigurationError(BotError):
    """A setting is missing or invalid; ``variable`` names the environment variable."""

    def __init__(self, variable: str, message: str) -> None:
        super().__init__(message)
        self.variable = variable
        self.message = message


class UserFacingError(BotError):
    """An error whose message is written for the person in Slack."""


class CommandUsageError(UserFacingError):
    """A slash command was typed wrongly; the message says how to type it."""


class SlackUnavailableError(BotError):
    """The Slack Web API did not answer, or rejected the bot token, at start-up."""


class RequestRejected(BotError):
    """An HTTP request the bot refuses as it arrives: not signed by Slack (401), too large (413, 414) or a body
    Slack never sends (400). ``reason`` is written by the bot, never copied from the request, so it is safe to log.
    """

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"{status}: {reason}")
        self.status = status
        self.reason = reason


class SlackPostPending(BotError):
    """A Slack post is claimed by another attempt still in flight, or its last attempt may have been applied:
    the progress job stops this thread's pass here and goes on at the next one (where it looks first)."""


class SlackThreadUnreachable(BotError):
    """A sync thread has nowhere left to go: its channel is closed to the bot and the datastore's creator cannot
    be sent a DM (deactivated, or not a person). The progress job backs off; a finished run is not announced."""


class AtlassianError(BotError):
    """Atlassian answered with an error, or not at all; the message is safe to show (no tokens in it)."""


class OAuthExchangeError(AtlassianError):
    """The authorization code could not be exchanged for tokens."""


class ReconnectRequired(AtlassianError):
    """Atlassian refuses the connection for good: its token endpoint refused to renew it (``invalid_grant``,
    ``invalid_client``, ``unauthorized_client``, ``access_denied``, any other 4xx), or the API refuses it even
    with a fresh token. Someone must consent again; the message says why and is safe to show."""


class AtlassianUnavailable(AtlassianError):
    """Atlassian could not be reached, timed out or kept failing (5xx, broken JSON), even after retries.

    ``retry_after`` is the wait Atlassian asked for (seconds), when it asked."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class AtlassianRequestError(AtlassianError):
    """Atlassian refused a request with a 4xx (other than 429); ``status`` is the HTTP status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class IncompleteListing(AtlassianError):
    """Confluence's paging cannot be trusted to have listed everything (a next-page link that is not a relative
    path of the same listing, one seen before, two that disagree): the listing stops here, nothing is pruned."""


class RateLimited(AtlassianError):
    """The request quota is used up; work can resume at ``until`` (UTC)."""

    def __init__(self, until: datetime, message: str | None = None, *, quota: bool = False) -> None:
        super().__init__(message or f"Confluence's rate limit is used up; resuming at {until:%H:%M} UTC.")
        self.until = until
        self.quota = quota  # the app's own hourly points (Atlassian's quota, counted by every process) are spent


class SyncError(BotError):
    """A sync run cannot go on in this worker."""


class LeaseLost(SyncError):
    """Another worker holds the run's lease now; this one must stop without writing more."""


class OutOfCredits(SyncError):
    """The workspace has no ingestion credits left for the next pages: the run pauses until credits come."""
