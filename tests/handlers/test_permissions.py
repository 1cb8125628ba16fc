"""Permissions are bound to the requester's workspace: users.info (asked with the bot's token) must place the
user in it, and DATASTORE_ADMINS entries count only where they say."""

from __future__ import annotations

import logging

import pytest
from slack_sdk import WebClient

from demo.fakes.slack_api import FakeSlack
from handlers.permissions import Permissions, _belongs


@pytest.fixture
def client(fake_slack: FakeSlack) -> WebClient:
    fake_slack.add_user("U0ADMIN", "admin", is_admin=True)
    fake_slack.add_user("U0LISTED", "listed")
    fake_slack.add_user("U0PLAIN", "plain")
    return WebClient(token=sorted(fake_slack.bot_tokens)[0], base_url=fake_slack.api_url)


def test_admins_are_admins_of_their_own_workspace_only(client: WebClient) -> None:
    permissions = Permissions(frozenset({"U0LISTED", "T0OTHER:U0PLAIN"}))
    assert permissions.is_admin(client, team_id="T0TEST", user_id="U0ADMIN")
    assert permissions.is_admin(client, team_id="T0TEST", user_id="U0LISTED")
    assert not permissions.is_admin(client, team_id="T0TEST", user_id="U0PLAIN")
    # The same ids arriving from another workspace: users.info (the bot's workspace) says they are not there.
    for user_id in ("U0ADMIN", "U0LISTED", "U0PLAIN"):
        assert not permissions.is_admin(client, team_id="T0OTHER", user_id=user_id), user_id
    assert not permissions.is_admin(client, team_id="T0TEST", user_id="U0NOBODY")
    assert permissions.may_manage(client, team_id="T0OTHER", user_id="U0PLAIN", creator_id="U0PLAIN")


def test_a_multi_workspace_install_honours_qualified_entries_only(
    client: WebClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    permissions = Permissions(frozenset({"U0LISTED", "T0TEST:U0PLAIN"}), multi_workspace=True)
    assert "U0LISTED" in caplog.text and "TEAM_ID:USER_ID" in caplog.text
    assert not permissions.is_admin(client, team_id="T0TEST", user_id="U0LISTED")
    assert permissions.is_admin(client, team_id="T0TEST", user_id="U0PLAIN")
    refusal = permissions.refusal(creator_id="U0C", name="docs", action="delete")
    assert "U0PLAIN" not in refusal and "a workspace admin can delete it" in refusal


def test_enterprise_grid_members_belong_to_every_workspace_of_their_org() -> None:
    grid_user = {"team_id": "T0HOME", "enterprise_user": {"enterprise_id": "E0ORG", "teams": ["T0HOME", "T0SECOND"]}}
    assert _belongs(grid_user, "T0SECOND") and _belongs(grid_user, "T0HOME")
    assert not _belongs(grid_user, "T0THIRD")
    assert not _belongs({"team_id": "T0HOME", "enterprise_user": "odd"}, "T0SECOND")
