"""Linking a Slack person to their Atlassian account, end to end: the bot served over HTTP, a browser consenting at
the fake Atlassian as that person, the callback route; the wrong site, replays, expiry and forgeries link nothing;
refusals and lost access delete the link; tokens are never stored in the clear, logged or shown."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from bot.access.links import PersonLinks
from bot.access.model import user_key
from bot.atlassian.oauth import AtlassianOAuth
from bot.confluence.gateway import Gateway
from bot.errors import ReconnectRequired
from demo.fakes.atlassian import PERMISSION_SCOPES, AccountStatus
from storage.models import utcnow
from storage.person_links import LinkState, PersonLink
from tests.handlers.conftest import World
from tests.handlers.wizard_driver import WizardDriver
from tests.harness import add_connected_datastore, wait_until

USER = "U0TESTER"


def _datastore(world: World) -> int:
    token = world.atlassian.issue_token(scopes=PERMISSION_SCOPES)
    return add_connected_datastore(
        world.bot.services, cloud_id=world.atlassian.cloud_id, token=token, team_id=world.slack.team_id, credits=0
    )


def _links(world: World) -> PersonLinks:
    return PersonLinks(world.bot.services, AtlassianOAuth(world.bot.services.settings))


def _consent(world: World, url: str, account_id: str) -> httpx.Response:
    """The person's browser, logged in to Atlassian as ``account_id``: consent, then the bot's callback page."""
    return httpx.get(url, cookies=world.atlassian.session_cookies(account_id), follow_redirects=True, timeout=10)


def _callback_url(world: World, url: str, account_id: str) -> str:
    """Where Atlassian sends the browser back to (code and state), without going there yet."""
    answer = httpx.get(url, cookies=world.atlassian.session_cookies(account_id), timeout=10)
    assert answer.status_code == 302
    return answer.headers["location"]


def _link(world: World, datastore_id: int, slack_user_id: str, account_id: str) -> httpx.Response:
    url = _links(world).link_url(
        team_id=world.slack.team_id, enterprise_id=None, slack_user_id=slack_user_id, datastore_id=datastore_id
    )
    return _consent(world, url, account_id)


def _rows(world: World) -> list[PersonLink]:
    with world.bot.services.sessions() as session:
        return list(session.scalars(select(PersonLink).order_by(PersonLink.id)))


def _linked(world: World, slack_user_id: str = USER) -> Any:
    return _links(world).linked(
        team_id=world.slack.team_id, slack_user_id=slack_user_id, cloud_id=world.atlassian.cloud_id
    )


def test_a_person_links_their_own_account(world: World, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG")
    datastore_id = _datastore(world)
    grace = world.atlassian.site.users[1]
    page = _link(world, datastore_id, USER, grace.account_id)
    assert page.status_code == 200, page.text
    assert "You&#x27;re connected as Grace Hopper" in page.text

    person = _linked(world)
    assert person is not None and person.account_id == grace.account_id and person.account_name == "Grace Hopper"
    assert user_key(grace.account_id) in person.principals
    token = _links(world).tokens.current(person.link_id)
    grant = world.atlassian.oauth.check_access(token.value)
    assert grant is not None and grant.account_id == grace.account_id  # their own token, not the connection's

    issued = world.atlassian.oauth.issued_tokens()
    (row,) = _rows(world)
    stored = " ".join(str(value) for value in vars(row).values())
    shown = page.text + caplog.text + str([call.args for call in world.slack.calls()])
    assert not [t for t in issued if t in stored or t in shown]
    assert grace.email not in shown


def test_consent_to_another_site_links_nothing(world: World) -> None:
    datastore_id = _datastore(world)
    grace = world.atlassian.site.users[1].account_id
    other = next(cid for cid in world.atlassian.sites if cid != world.atlassian.cloud_id)
    world.atlassian.set_user_consent(grace, site_ids=(other,))
    page = _link(world, datastore_id, USER, grace)
    assert page.status_code == 400
    assert "You connected other.atlassian.net; eng-wiki is on acme.atlassian.net. Nothing was linked." in page.text
    assert _rows(world) == [] and _linked(world) is None


def test_a_declined_consent_links_nothing(world: World) -> None:
    datastore_id = _datastore(world)
    grace = world.atlassian.site.users[1].account_id
    world.atlassian.set_user_consent(grace, approve=False)
    page = _link(world, datastore_id, USER, grace)
    assert page.status_code == 400 and "You did not give access" in page.text
    assert _rows(world) == []


def test_replayed_expired_and_forged_links_change_nothing(world: World) -> None:
    datastore_id = _datastore(world)
    grace, ada = world.atlassian.site.users[1].account_id, world.atlassian.site.users[2].account_id
    links = _links(world)
    url = links.link_url(team_id=world.slack.team_id, enterprise_id=None, slack_user_id=USER, datastore_id=datastore_id)
    back = _callback_url(world, url, grace)
    assert httpx.get(back, timeout=10).status_code == 200
    first = [(row.id, row.account_id, row.access_token_enc) for row in _rows(world)]
    replay = httpx.get(back, timeout=10)
    assert replay.status_code == 400 and "This link was already used" in replay.text
    assert [(row.id, row.account_id, row.access_token_enc) for row in _rows(world)] == first

    late = links.link_url(
        team_id=world.slack.team_id, enterprise_id=None, slack_user_id="U2", datastore_id=datastore_id
    )
    with world.bot.services.sessions.begin() as session:
        session.execute(update(LinkState).where(LinkState.used_at.is_(None)).values(expires_at=utcnow() - timedelta(1)))
    expired = _consent(world, late, ada)
    assert expired.status_code == 400 and "This link expired" in expired.text
    assert _linked(world, "U2") is None

    forged = httpx.get(f"{world.bot.url}/oauth/confluence/callback", params={"state": "forged", "code": "x"})
    assert forged.status_code == 400 and "not valid" in forged.text
    assert [(row.id, row.account_id, row.access_token_enc) for row in _rows(world)] == first


def test_invalid_grant_on_refresh_deletes_the_link(world: World) -> None:
    datastore_id = _datastore(world)
    grace = world.atlassian.site.users[1].account_id
    assert _link(world, datastore_id, USER, grace).status_code == 200
    person = _linked(world)
    links = _links(world)
    family = world.atlassian.oauth.family_of(links.tokens.current(person.link_id).value)
    assert family is not None
    world.atlassian.oauth.revoke_family(family)  # the person revoked the app in their Atlassian account
    world.atlassian.expire_access_tokens()
    with world.bot.services.sessions.begin() as session:  # the bot sees its token as expired too
        session.execute(update(PersonLink).values(access_expires_at=utcnow() - timedelta(minutes=1)))
    with pytest.raises(ReconnectRequired):
        _links(world).tokens.current(person.link_id)
    assert _linked(world) is None and _rows(world) == []


def test_access_lost_even_with_a_fresh_token_deletes_the_link(world: World) -> None:
    datastore_id = _datastore(world)
    grace = world.atlassian.site.users[1].account_id
    assert _link(world, datastore_id, USER, grace).status_code == 200
    person = _linked(world)
    world.atlassian.site.people.set_status(grace, AccountStatus.INACTIVE)  # their tokens stop working
    links = _links(world)
    gateway = Gateway(world.bot.services.settings, links.tokens, person.link_id, world.atlassian.cloud_id)
    try:
        with pytest.raises(ReconnectRequired):
            gateway.get("/wiki/api/v2/spaces")
    finally:
        gateway.close()
    assert _linked(world) is None


def test_the_wizard_consenter_is_linked_by_that_consent(world: World) -> None:
    driver = WizardDriver(world)
    page = driver.connect()
    assert page.status_code == 200
    person = _linked(world)
    connecting = world.atlassian.site.users[0].account_id
    assert person is not None and person.account_id == connecting
    (row,) = _rows(world)
    assert row.connection_id is not None and row.access_token_enc is None and row.refresh_token_enc is None
    token = _links(world).tokens.current(person.link_id)
    grant = world.atlassian.oauth.check_access(token.value)
    assert grant is not None and grant.account_id == connecting  # the connection's own tokens


def _reply(world: World, text: str, user_id: str = USER) -> dict[str, Any]:
    before = len(world.slack.calls("response_url"))
    assert world.bot.sender.slash_command(text, user_id=user_id).status == 200
    return dict(world.slack.wait_for_call("response_url", count=before + 1, timeout=5).args)


def test_unlink_removes_every_link_of_the_caller(world: World) -> None:
    datastore_id = _datastore(world)
    grace, ada = world.atlassian.site.users[1].account_id, world.atlassian.site.users[2].account_id
    assert _link(world, datastore_id, USER, grace).status_code == 200
    assert _link(world, datastore_id, "U2", ada).status_code == 200
    reply = _reply(world, "unlink")
    assert "no longer linked" in str(reply["text"]) and "(1 Confluence site)" in str(reply["text"])
    assert _linked(world) is None and _linked(world, "U2") is not None
    again = _reply(world, "unlink")
    assert "was not linked here, so nothing changed" in str(again["text"])


def test_linked_lists_people_for_the_creator_and_admins_only(world: World) -> None:
    datastore_id = _datastore(world)
    grace = world.atlassian.site.users[1]
    grace.display_name = "<!channel> Grace"
    assert _link(world, datastore_id, USER, grace.account_id).status_code == 200
    refused = _reply(world, "linked eng-wiki")
    assert "Only <@U1>, who created *eng-wiki*" in str(refused["text"]) and "Grace" not in str(refused)

    world.slack.add_user("U0ADMIN", "admin", is_admin=True)
    listed = str(_reply(world, "linked eng-wiki", user_id="U0ADMIN"))
    assert "<@U0TESTER> — &lt;!channel&gt; Grace" in listed and "1 person is linked to acme.atlassian.net" in listed
    assert "<!channel>" not in listed and grace.email not in listed
    assert not [t for t in world.atlassian.oauth.issued_tokens() if t in listed]
    usage = world.bot.sender.slash_command("linked")
    assert usage.json is not None and "Say which datastore" in usage.json["text"]


def test_help_names_the_link_commands(world: World) -> None:
    shown = world.bot.sender.slash_command("help").json
    assert shown is not None
    assert "/datastore unlink" in shown["text"] and "/datastore linked NAME" in shown["text"]


def _event(world: World, event: dict[str, Any]) -> None:
    assert world.bot.sender.event(event).status == 200


def test_slack_events_end_links(world: World) -> None:
    datastore_id = _datastore(world)
    users = world.atlassian.site.users
    for slack_user, person in ((USER, users[1]), ("U2", users[2]), ("U3", users[3])):
        assert _link(world, datastore_id, slack_user, person.account_id).status_code == 200

    _event(world, {"type": "user_change", "user": {"id": USER, "team_id": world.slack.team_id, "deleted": False}})
    _event(world, {"type": "user_change", "user": {"id": USER, "team_id": world.slack.team_id, "deleted": True}})
    _event(world, {"type": "tokens_revoked", "tokens": {"oauth": ["U2"], "bot": []}})
    wait_until(lambda: [row.slack_user_id for row in _rows(world)] == ["U3"])
    _event(world, {"type": "app_uninstalled"})
    wait_until(lambda: _rows(world) == [])
