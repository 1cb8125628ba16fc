"""Configuration from the environment (and an optional ``.env``), built once and passed down.

The environment variable names are a fixed contract with deployments and other tools: see ``.env.example``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from dotenv.parser import parse_stream
from pydantic import Field, PrivateAttr, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.database_url import normalize_database_url, resolve_sqlite_path
from bot.errors import ConfigurationError

__all__ = ["Settings", "load_settings"]

DEFAULT_DATABASE_FILE = "datastore.db"
ENV_FILE_NAME = ".env"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
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

    # A blank value (``DATABASE_URL=`` in .env, or an empty variable) means unset: the default applies.
    model_config = SettingsConfigDict(
        env_file=ENV_FILE_NAME, env_file_encoding="utf-8", extra="ignore", env_ignore_empty=True
    )
    #: The .env file the values were read from (None: the environment only); relative paths resolve against
    #: its folder.
    _env_path: Path | None = PrivateAttr(default=None)

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    slack_client_id: str | None = None
    slack_client_secret: SecretStr | None = None

    database_url: str | None = None
    #: How long start-up keeps trying to reach the database before giving up (containers start in any order).
    database_connect_timeout: Annotated[int, Field(ge=0, le=3600)] = 30
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
    #: Sync worker processes `serve` starts and restarts (0: none; `datastore-bot worker` runs them elsewhere).
    serve_workers: Annotated[int, Field(ge=0, le=16)] = 1
    #: How much lower the sync workers' CPU priority is than the web process's (0: the same, 19: the lowest).
    worker_nice: Annotated[int, Field(ge=0, le=19)] = 19
    #: Per-person search: a result whose synced ACL is older than this is checked live with the person's own
    #: token (issue #12: exact within at most an hour).
    access_freshness_minutes: Annotated[int, Field(ge=1, le=60)] = 60
    datastore_admins: str = ""
    log_level: str = "INFO"
    #: ``text`` (one line per record) or ``json`` (one JSON object per line, with the run and request ids).
    log_format: Literal["text", "json"] = "text"
    #: Prometheus /metrics on its own port (0 or blank: off), on loopback unless METRICS_HOST says otherwise.
    metrics_port: Annotated[int, Field(ge=0, le=65535)] = 9464
    metrics_host: str = "127.0.0.1"

    @model_validator(mode="before")
    @classmethod
    def _blank_is_unset(cls, values: Any) -> Any:
        """A value of only spaces is unset too, for every setting (empty ones never get here)."""
        if not isinstance(values, dict):
            return values
        return {key: value for key, value in values.items() if not (isinstance(value, str) and not value.strip())}

    @field_validator("slack_api_url", "public_url", "atlassian_auth_url", "atlassian_api_url", "terms_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{value!r} is not an http:// or https:// URL (like https://bot.example.com)")
        return value.strip()

    @field_validator("slack_api_url")
    @classmethod
    def _slack_api_url_ends_with_slash(cls, value: str) -> str:
        return value if value.endswith("/") else value + "/"

    @field_validator("public_url", "atlassian_auth_url", "atlassian_api_url")
    @classmethod
    def _strip_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str | None) -> str | None:
        return None if value is None else normalize_database_url(value)

    @field_validator("log_level")
    @classmethod
    def _known_log_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in LOG_LEVELS:
            raise ValueError(f"{value!r} is not a log level: use one of {', '.join(LOG_LEVELS)}")
        return level

    @field_validator("slack_app_token", mode="before")
    @classmethod
    def _app_level_token(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip().startswith("xapp-"):
            raise ValueError(
                "it is not an app-level token (xapp-…): generate one under Basic Information → App-Level Tokens "
                "with the connections:write scope, or leave it empty for HTTP mode"
            )
        return value.strip() if isinstance(value, str) else value

    @field_validator("log_format", mode="before")
    @classmethod
    def _log_format_any_case(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

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
    def env_path(self) -> Path | None:
        """The .env file these settings were read from, if any."""
        return self._env_path

    def resolved_against(self, base: Path) -> Settings:
        """These settings with relative paths (DATA_DIR, a SQLite file in DATABASE_URL) made absolute against
        ``base``: the folder of the .env that was loaded, else the current directory."""
        data_dir = self.data_dir.expanduser()
        update: dict[str, Any] = {"data_dir": data_dir if data_dir.is_absolute() else (base / data_dir).resolve()}
        if self.database_url is not None:
            update["database_url"] = resolve_sqlite_path(self.database_url, base)
        return self.model_copy(update=update)

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


def find_env_file(start: Path) -> Path | None:
    """The ``.env`` in ``start`` or the nearest folder above it, if there is one."""
    for folder in (start, *start.parents):
        candidate = folder / ENV_FILE_NAME
        if candidate.is_file():
            return candidate
    return None


def _check_env_lines(path: Path) -> None:
    """Every line of the .env is ``NAME=value``, a comment or blank (python-dotenv would skip the others)."""
    with path.open(encoding="utf-8") as stream:
        for binding in parse_stream(stream):
            if binding.error:
                line = binding.original.string.strip()
                shown = line if len(line) <= 40 else line[:40] + "…"
                raise ConfigurationError(
                    ENV_FILE_NAME,
                    f"{path} line {binding.original.line} is not NAME=value ({shown!r}) — fix it or make it a "
                    "# comment.",
                )


def load_settings(env_file: Path | str | Literal["search"] | None = "search") -> Settings:
    """Build the settings once; invalid values become a ConfigurationError with a one-line message.

    ``"search"``: read the ``.env`` in the current folder or the nearest one above it; None: no file. Relative
    paths then resolve against that file's folder, else the current directory.
    """
    cwd = Path.cwd()
    path = find_env_file(cwd) if env_file == "search" else (Path(env_file) if env_file is not None else None)
    if path is not None and not path.is_absolute():
        path = cwd / path
    try:
        if path is not None and path.is_file():
            _check_env_lines(path)
        settings = Settings(_env_file=path)
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "it is not UTF-8 text"
        raise ConfigurationError(ENV_FILE_NAME, f"{path} cannot be read ({reason}) — fix it or remove it.") from None
    except ValidationError as exc:
        error = exc.errors()[0]
        variable = str(error["loc"][0]).upper() if error["loc"] else "configuration"
        message = str(error["msg"]).removeprefix("Value error, ").rstrip(".")
        raise ConfigurationError(variable, f"{variable} is invalid: {message}.") from None
    loaded = path if path is not None and path.is_file() else None
    resolved = settings.resolved_against(loaded.parent if loaded is not None else cwd)
    resolved._env_path = loaded
    return resolved
