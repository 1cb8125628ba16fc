"""Configuration from the environment (and an optional ``.env``), built once and passed down.

The environment variable names are a fixed contract with deployments and other tools: see ``.env.example``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.errors import ConfigurationError

__all__ = ["Settings", "load_settings"]

DEFAULT_DATABASE_FILE = "datastore.db"
#: A DATASTORE_ADMINS entry: a user id, optionally bound to its workspace (``T012AB3CD:U012AB3CD``).
_SLACK_USER_ID = re.compile(r"(?:T[A-Z0-9]{2,}:)?[UW][A-Z0-9]{2,}")

#: Where to get each required value, shown when it is missing.
WHERE_TO_GET: dict[str, str] = {
    "SLACK_SIGNING_SECRET": "copy it from your Slack app's Basic Information page → App Credentials → Signing Secret",
    "SLACK_BOT_TOKEN": "install the app to your workspace and copy OAuth & Permissions → Bot User OAuth Token "
    "(xoxb-…), or set SLACK_CLIENT_ID and SLACK_CLIENT_SECRET for multi-workspace installs",
    "ENCRYPTION_KEY": "generate one with `datastore-bot keygen` and keep it with your database backups",
}


class Settings(BaseSettings):
    """Every setting the bot reads. Field names map to upper-case environment variables."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    slack_client_id: str | None = None
    slack_client_secret: SecretStr | None = None

    database_url: str | None = None
    data_dir: Path = Path("data")

    port: Annotated[int, Field(ge=1, le=65535)] = 3000
    public_url: str = "http://localhost:3000"

    atlassian_client_id: str | None = None
    atlassian_client_secret: SecretStr | None = None
    atlassian_auth_url: str = "https://auth.atlassian.com"
    atlassian_api_url: str = "https://api.atlassian.com"

    encryption_key: SecretStr | None = None
    terms_url: str = "https://www.atlassian.com/legal/atlassian-customer-agreement"
    free_credits: Annotated[int, Field(ge=0)] = 100_000
    credits_per_page: Annotated[int, Field(ge=0)] = 1
    atlassian_points_per_hour: Annotated[int, Field(ge=100)] = 65_000
    sync_lease_seconds: Annotated[int, Field(ge=1, le=3600)] = 60
    sync_interval_minutes: Annotated[int, Field(ge=1)] = 180
    #: Per-person search: a result whose synced ACL is older than this is checked live with the person's own
    #: token (issue #12: exact within at most an hour).
    access_freshness_minutes: Annotated[int, Field(ge=1, le=60)] = 60
    datastore_admins: str = ""
    log_level: str = "INFO"

    @field_validator("slack_api_url")
    @classmethod
    def _slack_api_url_ends_with_slash(cls, value: str) -> str:
        return value if value.endswith("/") else value + "/"

    @field_validator("public_url", "atlassian_auth_url", "atlassian_api_url")
    @classmethod
    def _strip_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("slack_bot_token", "slack_signing_secret", "slack_app_token", "encryption_key", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("datastore_admins")
    @classmethod
    def _slack_user_ids(cls, value: str) -> str:
        for user_id in value.replace(",", " ").split():
            if not _SLACK_USER_ID.fullmatch(user_id):
                raise ValueError(
                    f"{user_id!r} is not a Slack user id (like U012AB3CD, or T012AB3CD:U012AB3CD for that user in "
                    "that workspace): list ids, not names"
                )
        return value

    @property
    def admin_user_ids(self) -> frozenset[str]:
        """DATASTORE_ADMINS: Slack users who may manage every datastore and the credits, like workspace admins
        (``TEAM:USER`` entries only in that workspace; see handlers.permissions)."""
        return frozenset(self.datastore_admins.replace(",", " ").split())

    @property
    def uses_embedded_database(self) -> bool:
        """True when no DATABASE_URL is given and the bot keeps its SQLite file under ``data_dir``."""
        return self.database_url is None

    @property
    def effective_database_url(self) -> str:
        if self.database_url is not None:
            return self.database_url
        return f"sqlite:///{(self.data_dir / DEFAULT_DATABASE_FILE).resolve()}"

    @property
    def oauth_callback_url(self) -> str:
        return f"{self.public_url}/oauth/confluence/callback"

    @property
    def multi_workspace(self) -> bool:
        """True when "Add to Slack" installs are configured: bot tokens then come from each installation."""
        return bool(self.slack_client_id and self.slack_client_secret)

    @property
    def socket_mode(self) -> bool:
        return self.slack_app_token is not None

    def require_for_serve(self) -> None:
        """Raise ConfigurationError naming the first setting ``serve`` cannot run without."""
        missing = [
            name
            for name, value in (
                ("SLACK_SIGNING_SECRET", self.slack_signing_secret),
                ("SLACK_BOT_TOKEN", self.slack_bot_token if not self.multi_workspace else "installations"),
            )
            if value is None
        ]
        if missing:
            first = missing[0]
            also = f" (also missing: {', '.join(missing[1:])})" if missing[1:] else ""
            raise ConfigurationError(first, f"{first} is not set — {WHERE_TO_GET[first]}{also}.")


def load_settings(env_file: Path | str | None = ".env") -> Settings:
    """Build the settings once; invalid values become a ConfigurationError with a one-line message."""
    try:
        return Settings(_env_file=env_file)
    except ValidationError as exc:
        error = exc.errors()[0]
        variable = str(error["loc"][0]).upper() if error["loc"] else "configuration"
        raise ConfigurationError(variable, f"{variable} is invalid: {error['msg']}.") from None
