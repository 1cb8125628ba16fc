"""The step-1 seal: only metadata the bot wrote, for the wizard id it was written for, names a starter."""

from __future__ import annotations

import pytest

from bot.actors import Actor
from bot.wizard.starter import seal, unseal

SECRET = "signing-secret"
WIZARD = "0123456789abcdef01234567"
GRID = Actor(team_id="T0TEAM", user_id="W0USER", enterprise_id="E0ORG")


@pytest.mark.parametrize("actor", [GRID, Actor(team_id="T0TEAM", user_id="U0USER")], ids=["grid", "plain"])
def test_a_seal_opens_for_its_wizard_only(actor: Actor) -> None:
    fields = seal(SECRET, WIZARD, actor, "C0CHANNEL")
    starter = unseal(SECRET, WIZARD, fields)
    assert starter is not None and starter.actor == actor and starter.channel_id == "C0CHANNEL"
    assert unseal(SECRET, "f" * 24, fields) is None
    assert unseal("another-secret", WIZARD, fields) is None


@pytest.mark.parametrize(
    "change",
    [
        {"u": "U0SOMEONE"},
        {"t": "T0ELSEWHERE"},
        {"e": "E0OTHER"},
        {"c": "C0OTHER"},
        {"m": "0" * 32},
        {"m": 5},
        {"t": 5},
        {"u": "u0lower"},
        {"t": "T" * 40},
    ],
)
def test_a_changed_field_breaks_the_seal(change: dict[str, object]) -> None:
    fields: dict[str, object] = {**seal(SECRET, WIZARD, GRID, "C0CHANNEL"), **change}
    assert unseal(SECRET, WIZARD, fields) is None


def test_a_removed_field_breaks_the_seal() -> None:
    fields = seal(SECRET, WIZARD, GRID, "C0CHANNEL")
    for key in fields:
        assert unseal(SECRET, WIZARD, {k: v for k, v in fields.items() if k != key}) is None, key


def test_a_channel_that_is_not_an_id_is_left_out() -> None:
    fields = seal(SECRET, WIZARD, GRID, "not a channel")
    assert "c" not in fields
    starter = unseal(SECRET, WIZARD, fields)
    assert starter is not None and starter.channel_id is None
