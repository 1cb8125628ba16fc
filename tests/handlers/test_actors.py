"""Reading who acts out of every kind of Slack body: team + enterprise + user, or nobody."""

from __future__ import annotations

from typing import Any

import pytest

from bot.actors import Actor
from handlers.actors import actor_of

PLAIN = Actor(team_id="T0TEAM", user_id="U0USER")
GRID = Actor(team_id="T0TEAM", user_id="W0USER", enterprise_id="E0ORG")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"team_id": "T0TEAM", "user_id": "U0USER", "is_enterprise_install": "false"}, PLAIN),
        ({"team_id": "T0TEAM", "user_id": "W0USER", "enterprise_id": "E0ORG", "enterprise_name": "Org"}, GRID),
        ({"team_id": "T0TEAM", "user_id": "U0USER", "enterprise_id": ""}, PLAIN),
        ({"user": {"id": "U0USER", "team_id": "T0TEAM"}, "team": {"id": "T0TEAM"}, "enterprise": None}, PLAIN),
        ({"user": {"id": "U0USER"}, "team": {"id": "T0TEAM", "domain": "x"}}, PLAIN),
        ({"user": {"id": "W0USER", "team_id": "T0TEAM"}, "team": None, "enterprise": {"id": "E0ORG"}}, GRID),
        ({"user": {"id": "W0USER", "team_id": "T0TEAM"}, "team": {"id": "T0TEAM", "enterprise_id": "E0ORG"}}, GRID),
        ({"user": {"id": "W0USER", "team_id": "T0TEAM"}, "enterprise": "E0ORG"}, GRID),
    ],
    ids=[
        "command",
        "command-grid",
        "command-empty-org",
        "action",
        "action-no-user-team",
        "org-install",
        "team-enterprise-id",
        "enterprise-string",
    ],
)
def test_the_identity_slack_sends(body: dict[str, Any], expected: Actor) -> None:
    assert actor_of(body) == expected


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"user": "U0USER", "team_id": "T0TEAM"},
        {"user": {"id": "U0USER"}},
        {"user": {"id": 5, "team_id": "T0TEAM"}},
        {"user": {"id": "U0USER", "team_id": "t0lower"}},
        {"user": {"id": "U0USER", "team_id": "T" * 40}},
        {"user": {"id": "U0USER", "team_id": "T0TEAM"}, "enterprise": {"id": 5}},
        {"user": {"id": "U0USER", "team_id": "T0TEAM"}, "enterprise": ["E0ORG"]},
        {"user": {"id": "U0USER\x00", "team_id": "T0TEAM"}},
        {"team_id": "T0TEAM", "user_id": "U0USER", "enterprise_id": "E0\u202eORG"},
    ],
)
def test_an_unreadable_identity_is_nobody(body: dict[str, Any]) -> None:
    assert actor_of(body) is None


def test_the_same_user_id_elsewhere_is_someone_else() -> None:
    assert not GRID.same_as(team_id="T0TEAM", user_id="W0USER", enterprise_id=None)
    assert not PLAIN.same_as(team_id="T0OTHER", user_id="U0USER", enterprise_id=None)
    assert GRID.same_as(team_id="T0TEAM", user_id="W0USER", enterprise_id="E0ORG")
    assert PLAIN.same_as(team_id="T0TEAM", user_id="U0USER", enterprise_id="")
