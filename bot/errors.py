"""Every error the bot raises on purpose, in one tree.

    BotError                      base of everything below
    ├── ConfigurationError        a setting is missing or invalid (the CLI prints one line, exit code 2)
    ├── UserFacingError           safe to show to the Slack user as it is
    │   └── CommandUsageError     a /datastore command was typed wrongly
    ├── StorageError              the database could not be reached or migrated
    └── SlackUnavailableError     the Slack Web API could not be reached at start-up

Errors that come from libraries (httpx, SQLAlchemy, slack_sdk) are wrapped into one of these where the
bot can say something useful; anything else reaches the single ``@app.error`` handler, which logs it with
an error id and shows the user that id.
"""

from __future__ import annotations

__all__ = [
    "BotError",
    "CommandUsageError",
    "ConfigurationError",
    "SlackUnavailableError",
    "StorageError",
    "UserFacingError",
]


class BotError(Exception):
    """Base class of the bot's own errors."""


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


class StorageError(BotError):
    """The database could not be reached or brought up to date."""


class SlackUnavailableError(BotError):
    """The Slack Web API did not answer, or rejected the bot token, at start-up."""
