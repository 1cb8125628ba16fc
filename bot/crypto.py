"""Encryption of secrets at rest (OAuth tokens) with Fernet, keyed by ENCRYPTION_KEY.

ENCRYPTION_KEY holds one Fernet key, or several separated by commas: the first encrypts, every key
decrypts, so keys can be rotated without losing stored tokens. On the embedded SQLite default a key is
generated into the data folder (mode 0600) the first time the bot runs without one.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from bot.errors import ConfigurationError
from bot.settings import WHERE_TO_GET, Settings

__all__ = ["KEY_FILE_NAME", "SecretCipher", "generate_key", "load_cipher"]

logger = logging.getLogger(__name__)

KEY_FILE_NAME = "encryption.key"


def generate_key() -> str:
    """A new random Fernet key, as the text to put in ENCRYPTION_KEY."""
    return Fernet.generate_key().decode("ascii")


class SecretCipher:
    """Encrypts and decrypts short secrets (tokens) to and from text safe to store in a column."""

    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise ConfigurationError("ENCRYPTION_KEY", "ENCRYPTION_KEY is empty.")
        try:
            self._fernet = MultiFernet([Fernet(key.encode("ascii")) for key in keys])
        except (ValueError, UnicodeEncodeError):
            raise ConfigurationError(
                "ENCRYPTION_KEY",
                "ENCRYPTION_KEY is not a valid key — generate one with `datastore-bot keygen`.",
            ) from None

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def can_decrypt(self, ciphertext: str) -> bool:
        """True when one of the configured keys made this ciphertext."""
        try:
            self._fernet.decrypt(ciphertext.encode("ascii"))
        except (InvalidToken, UnicodeEncodeError):
            return False
        return True

    def decrypt(self, ciphertext: str) -> str:
        """The plaintext; ConfigurationError when none of the configured keys made this ciphertext."""
        try:
            return self._fernet.decrypt(ciphertext.encode("ascii")).decode("utf-8")
        except InvalidToken:
            raise ConfigurationError(
                "ENCRYPTION_KEY",
                "a stored secret cannot be decrypted with ENCRYPTION_KEY — was the key changed? "
                "Put the old key after the new one, separated by a comma.",
            ) from None


def _split_keys(raw: str) -> list[str]:
    return [part.strip() for part in raw.split(",") if part.strip()]


def _read_or_create_key_file(path: Path) -> str:
    try:
        if path.exists():
            return path.read_text(encoding="ascii").strip()
        path.parent.mkdir(parents=True, exist_ok=True)
        key = generate_key()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(key + "\n")
    except (OSError, UnicodeDecodeError) as exc:
        reason = (exc.strerror or str(exc)) if isinstance(exc, OSError) else "it is not a key"
        raise ConfigurationError(
            "DATA_DIR",
            f"the key file {path} cannot be read or created ({reason}) — make DATA_DIR readable and writable "
            "by this user, or set ENCRYPTION_KEY.",
        ) from None
    logger.warning(
        "ENCRYPTION_KEY is not set: generated a new key in %s (mode 0600). Back it up with the database; "
        "without it stored Confluence tokens cannot be read.",
        path,
    )
    return key


def load_cipher(settings: Settings) -> SecretCipher:
    """The cipher for this deployment: from ENCRYPTION_KEY, or the embedded default's key file."""
    if settings.encryption_key is not None:
        return SecretCipher(_split_keys(settings.encryption_key.get_secret_value()))
    if not settings.uses_embedded_database:
        raise ConfigurationError(
            "ENCRYPTION_KEY",
            f"ENCRYPTION_KEY is not set — {WHERE_TO_GET['ENCRYPTION_KEY']} "
            "(it is required when DATABASE_URL points at a shared database).",
        )
    path = settings.data_dir / KEY_FILE_NAME
    key = _read_or_create_key_file(path)
    try:
        return SecretCipher([key])
    except ConfigurationError:
        raise ConfigurationError(
            "DATA_DIR",
            f"the key file {path} does not hold a valid key — put it back from your backup, or set ENCRYPTION_KEY.",
        ) from None
