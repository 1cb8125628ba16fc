from __future__ import annotations

from pathlib import Path

import pytest

from bot.errors import ConfigurationError
from bot.settings import load_settings


def test_defaults_use_the_embedded_database_under_data(tmp_path: Path) -> None:
    settings = load_settings(env_file=None)
    assert settings.uses_embedded_database
    assert settings.effective_database_url == f"sqlite:///{tmp_path / 'data' / 'datastore.db'}"
    assert settings.slack_api_url == "https://slack.com/api/"
    assert settings.atlassian_auth_url == "https://auth.atlassian.com"
    assert settings.atlassian_api_url == "https://api.atlassian.com"
    assert settings.port == 3000
    assert settings.oauth_callback_url == "http://localhost:3000/oauth/confluence/callback"
    assert not settings.socket_mode


def test_environment_names_are_the_contract(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_API_URL", "http://127.0.0.1:9999/api")
    monkeypatch.setenv("PUBLIC_URL", "https://bot.example.com/")
    monkeypatch.setenv("ATLASSIAN_AUTH_URL", "http://127.0.0.1:1/")
    monkeypatch.setenv("ATLASSIAN_API_URL", "http://127.0.0.1:2")
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://u@h/db")
    monkeypatch.setenv("PORT", "8080")
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-1")
    settings = load_settings(env_file=None)
    assert settings.slack_api_url == "http://127.0.0.1:9999/api/"
    assert settings.oauth_callback_url == "https://bot.example.com/oauth/confluence/callback"
    assert settings.atlassian_auth_url == "http://127.0.0.1:1"
    assert settings.atlassian_api_url == "http://127.0.0.1:2"
    assert settings.effective_database_url == "postgresql+psycopg://u@h/db"
    assert settings.port == 8080
    assert settings.socket_mode


def test_dotenv_file_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("SLACK_SIGNING_SECRET=from-file\nPORT=4000\n")
    settings = load_settings()
    assert settings.slack_signing_secret is not None
    assert settings.slack_signing_secret.get_secret_value() == "from-file"
    assert settings.port == 4000


def test_serve_requires_the_signing_secret_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    with pytest.raises(ConfigurationError) as caught:
        load_settings(env_file=None).require_for_serve()
    assert caught.value.variable == "SLACK_SIGNING_SECRET"
    assert "Signing Secret" in caught.value.message
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "  ")
    with pytest.raises(ConfigurationError):
        load_settings(env_file=None).require_for_serve()


def test_invalid_values_name_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "70000")
    with pytest.raises(ConfigurationError) as caught:
        load_settings(env_file=None)
    assert caught.value.variable == "PORT"
    assert caught.value.message.startswith("PORT is invalid")


def test_datastore_admins_are_slack_user_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATASTORE_ADMINS", "U012AB3CD, W0ENTERPRISE,U045EF6GH")
    assert load_settings(env_file=None).admin_user_ids == {"U012AB3CD", "W0ENTERPRISE", "U045EF6GH"}
    monkeypatch.setenv("DATASTORE_ADMINS", "U012AB3CD,@alice")
    with pytest.raises(ConfigurationError) as caught:
        load_settings(env_file=None)
    assert caught.value.variable == "DATASTORE_ADMINS" and "'@alice' is not a Slack user id" in caught.value.message
    monkeypatch.delenv("DATASTORE_ADMINS")
    assert load_settings(env_file=None).admin_user_ids == frozenset()


def test_datastore_admins_may_name_their_workspace(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATASTORE_ADMINS", "T012AB3CD:U012AB3CD U045EF6GH")
    assert load_settings(env_file=None).admin_user_ids == {"T012AB3CD:U012AB3CD", "U045EF6GH"}
    for bad in ("E012:U012AB3CD", "T012AB3CD:", ":U012AB3CD", "T012AB3CD:U012:U034"):
        monkeypatch.setenv("DATASTORE_ADMINS", bad)
        with pytest.raises(ConfigurationError):
            load_settings(env_file=None)


def test_secrets_do_not_show_in_the_settings_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-very-secret")
    assert "xoxb-very-secret" not in repr(load_settings(env_file=None))


def test_every_setting_is_documented() -> None:
    from bot.settings import Settings

    root = Path(__file__).resolve().parents[2]
    example = (root / ".env.example").read_text()
    readme = (root / "README.md").read_text()
    for field in Settings.model_fields:
        name = field.upper()
        assert f"\n{name}=" in example, f"{name} is missing from .env.example"
        assert f"`{name}`" in readme, f"{name} is missing from the README's configuration table"


@pytest.mark.parametrize("value", ["0", "61", "an hour"])
def test_the_access_freshness_bound_is_at_most_an_hour(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("ACCESS_FRESHNESS_MINUTES", value)
    with pytest.raises(ConfigurationError) as caught:
        load_settings(env_file=None)
    assert caught.value.variable == "ACCESS_FRESHNESS_MINUTES"
    assert caught.value.message.startswith("ACCESS_FRESHNESS_MINUTES is invalid") and "\n" not in caught.value.message
    monkeypatch.setenv("ACCESS_FRESHNESS_MINUTES", "15")
    assert load_settings(env_file=None).access_freshness_minutes == 15


def test_a_blank_value_is_unset_for_every_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.settings import Settings

    names = [field.upper() for field in Settings.model_fields]
    (tmp_path / ".env").write_text("".join(f"{name}=\n" for name in names))
    from_file = load_settings()
    for name in names:
        monkeypatch.setenv(name, "  ")
    from_environment = load_settings(env_file=None)
    defaults = Settings(_env_file=None).model_dump()
    for settings in (from_file, from_environment):
        dumped = settings.model_dump()
        assert dumped.pop("data_dir") == tmp_path / "data"
        assert {key: value for key, value in defaults.items() if key != "data_dir"} == dumped
        assert settings.effective_database_url == f"sqlite:///{tmp_path / 'data' / 'datastore.db'}"


@pytest.mark.parametrize(
    ("written", "used"),
    [
        ("postgres://bot:pw@db:5432/bot", "postgresql+psycopg://bot:pw@db:5432/bot"),
        ("postgresql://bot@db/bot?sslmode=require", "postgresql+psycopg://bot@db/bot?sslmode=require"),
        ("postgresql+psycopg://bot@db/bot", "postgresql+psycopg://bot@db/bot"),
        ("postgresql:///bot", "postgresql+psycopg:///bot"),
    ],
)
def test_postgresql_urls_get_the_psycopg_3_driver(monkeypatch: pytest.MonkeyPatch, written: str, used: str) -> None:
    monkeypatch.setenv("DATABASE_URL", written)
    assert load_settings(env_file=None).effective_database_url == used


@pytest.mark.parametrize("written", ["debug", "Warning", " error ", "CRITICAL"])
def test_log_levels_are_case_insensitive(monkeypatch: pytest.MonkeyPatch, written: str) -> None:
    monkeypatch.setenv("LOG_LEVEL", written)
    assert load_settings(env_file=None).log_level == written.strip().upper()


def test_the_nearest_env_file_above_is_read_and_anchors_relative_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text("DATA_DIR=state\nDATABASE_URL=sqlite:///db/bot.db\nPORT=4001\n")
    deeper = tmp_path / "a" / "b"
    deeper.mkdir(parents=True)
    monkeypatch.chdir(deeper)
    settings = load_settings()
    assert settings.env_path == tmp_path / ".env"
    assert settings.port == 4001
    assert settings.data_dir == tmp_path / "state"
    assert settings.effective_database_url == f"sqlite:///{tmp_path / 'db' / 'bot.db'}"


def test_absolute_paths_are_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATA_DIR", "/app/data")
    (tmp_path / ".env").write_text("DATABASE_URL=sqlite:////var/lib/bot/bot.db\n")
    settings = load_settings()
    assert settings.data_dir == Path("/app/data")
    assert settings.effective_database_url == "sqlite:////var/lib/bot/bot.db"


def test_without_an_env_file_the_working_directory_anchors_paths(tmp_path: Path) -> None:
    settings = load_settings()
    assert settings.env_path is None
    assert settings.data_dir == tmp_path / "data"


def test_an_unreadable_env_file_is_one_line(tmp_path: Path) -> None:
    (tmp_path / ".env").write_bytes(b"PORT=\xff\xfe\n")
    with pytest.raises(ConfigurationError) as caught:
        load_settings()
    assert "not UTF-8" in caught.value.message and "\n" not in caught.value.message


def test_a_line_of_env_that_is_not_a_setting_is_one_line(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("PORT=4000\nexport the bot token here\n")
    with pytest.raises(ConfigurationError) as caught:
        load_settings()
    assert caught.value.message == (
        f"{tmp_path / '.env'} line 2 is not NAME=value ('export the bot token here') — fix it or make it a # comment."
    )
