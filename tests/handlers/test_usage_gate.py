"""GroupMembers: a user group's members are cached briefly; a failure is never cached and never opens."""

from __future__ import annotations

from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse

from handlers.usage_gate import GroupMembers, GroupUnreadable


class _Client:
    def __init__(self) -> None:
        self.answers: list[Any] = []
        self.calls = 0

    def usergroups_users_list(self, *, usergroup: str) -> Any:
        self.calls += 1
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def _error(code: str) -> SlackApiError:
    response = SlackResponse(
        client=None,
        http_verb="POST",
        api_url="x",
        req_args={},
        data={"ok": False, "error": code},
        headers={},
        status_code=200,
    )
    return SlackApiError(code, response)


def test_members_are_cached_for_the_ttl_and_failures_are_not() -> None:
    now = [0.0]
    groups = GroupMembers(ttl=60, clock=lambda: now[0])
    client = _Client()
    client.answers = [{"users": ["U1", "U2"]}, _error("missing_scope"), {"users": ["U3"]}]
    assert groups.members(client, team_id="T1", group_id="S1") == {"U1", "U2"}  # type: ignore[arg-type]
    now[0] = 59.0
    assert groups.members(client, team_id="T1", group_id="S1") == {"U1", "U2"}  # type: ignore[arg-type]
    assert client.calls == 1
    now[0] = 61.0
    with pytest.raises(GroupUnreadable) as raised:
        groups.members(client, team_id="T1", group_id="S1")  # type: ignore[arg-type]
    assert raised.value.reason == "missing_scope"
    assert groups.members(client, team_id="T1", group_id="S1") == {"U3"}  # type: ignore[arg-type]
    assert client.calls == 3


def test_an_answer_without_a_member_list_is_unreadable() -> None:
    client = _Client()
    client.answers = [{"ok": True}]
    with pytest.raises(GroupUnreadable):
        GroupMembers().members(client, team_id="T1", group_id="S1")  # type: ignore[arg-type]
