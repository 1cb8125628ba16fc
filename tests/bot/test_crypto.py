from __future__ import annotations

import stat
from pathlib import Path

import pytest

from bot.crypto import KEY_FILE_NAME, SecretCipher, generate_key, load_cipher
from bot.errors import ConfigurationError
from bot.settings import load_settings


def test_round_trip_and_ciphertext_hides_the_secret() -> None:
    cipher = SecretCipher([generate_key()])
    sealed = cipher.encrypt("refresh-token-123")
    assert "refresh-token-123" not in sealed
    assert cipher.decrypt(sealed) == "refresh-token-123"


def test_embedded_default_generates_a_private_key_file_once(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    settings = load_settings(env_file=None)
    first = load_cipher(settings)
    key_file = tmp_path / "data" / KEY_FILE_NAME
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert "generated a new key" in caplog.text
    second = load_cipher(settings)
    assert second.decrypt(first.encrypt("x")) == "x"


def test_shared_database_without_key_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://u@h/db")
    with pytest.raises(ConfigurationError) as caught:
        load_cipher(load_settings(env_file=None))
    assert caught.value.variable == "ENCRYPTION_KEY"


def test_invalid_key_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENCRYPTION_KEY", "not-a-key")
    with pytest.raises(ConfigurationError, match="not a valid key"):
        load_cipher(load_settings(env_file=None))


def test_rotation_keeps_old_secrets_readable(monkeypatch: pytest.MonkeyPatch) -> None:
    old, new = generate_key(), generate_key()
    sealed = SecretCipher([old]).encrypt("token")
    monkeypatch.setenv("ENCRYPTION_KEY", f"{new}, {old}")
    cipher = load_cipher(load_settings(env_file=None))
    assert cipher.decrypt(sealed) == "token"
    with pytest.raises(ConfigurationError, match="cannot be decrypted"):
        SecretCipher([new]).decrypt(sealed)
