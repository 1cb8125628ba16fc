"""The long-lived objects a running bot shares, built once by the CLI and passed down."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.crypto import SecretCipher, load_cipher
from bot.settings import Settings
from storage.db import make_engine, make_sessionmaker

__all__ = ["Services", "build_services"]


@dataclass(frozen=True)
class Services:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    cipher: SecretCipher


def build_services(settings: Settings) -> Services:
    engine = make_engine(settings.effective_database_url)
    return Services(
        settings=settings,
        engine=engine,
        sessions=make_sessionmaker(engine),
        cipher=load_cipher(settings),
    )
