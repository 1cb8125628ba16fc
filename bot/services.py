"""The long-lived objects a running bot shares, built once by the CLI and passed down."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.confluence.budget import PermissionLane
from bot.confluence.shared_budget import SharedBudget
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
    #: The app-wide budget of Atlassian points (syncs, passes, group reads, live checks), this process's pacing
    #: under the hourly count every process shares through the database ...
    budget: SharedBudget = field(init=False)
    #: ... and its one lane for permission work: at most a fifth of the hour (issue #12).
    permission_lane: PermissionLane = field(init=False)

    def __post_init__(self) -> None:
        points = self.settings.atlassian_points_per_hour
        budget = SharedBudget(self.sessions, points, metered=True)
        object.__setattr__(self, "budget", budget)
        object.__setattr__(self, "permission_lane", PermissionLane(budget, points))


def build_services(settings: Settings) -> Services:
    engine = make_engine(settings.effective_database_url)
    return Services(
        settings=settings,
        engine=engine,
        sessions=make_sessionmaker(engine),
        cipher=load_cipher(settings),
    )
