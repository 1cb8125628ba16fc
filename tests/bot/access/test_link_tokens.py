"""A linked person's own tokens are refreshed by the connections' protocol (TokenManager over PersonLinkTokens):
once across threads, the rotated refresh token stored encrypted; a refusal deletes the link, not a connection."""

from __future__ import annotations

import pytest

from bot.errors import ReconnectRequired
from bot.services import Services
from demo.fakes.atlassian import FakeAtlassian
from storage.models import Connection
from storage.person_links import get_link
from tests.bot.access.links_world import TEAM, connected_datastore, link_person, person_links
from tests.bot.atlassian.test_tokens import concurrently

HOUR = 3600.0


def test_an_expired_link_token_is_refreshed_once_and_rotated(services: Services, fake: FakeAtlassian) -> None:
    connected_datastore(services, fake)
    grace = fake.site.users[1].account_id
    link_id, payload = link_person(services, fake, "U2", grace)
    fake.advance(HOUR)  # every token issued so far has expired, for the fake and for the bot's clock
    links = person_links(services, fake)
    values = concurrently(6, lambda _i: links.tokens.current(link_id).value)
    assert len(set(values)) == 1 and values[0] != payload["access_token"]
    assert fake.log.refresh_count() == 1
    grant = fake.oauth.check_access(values[0])
    assert grant is not None and grant.account_id == grace
    with services.sessions.begin() as session:
        link = get_link(session, link_id=link_id)
        assert link is not None and link.token_version == 2 and link.refresh_token_enc is not None
        stored_refresh = services.cipher.decrypt(link.refresh_token_enc)
    assert stored_refresh != payload["refresh_token"] and stored_refresh in fake.oauth.issued_tokens()


def test_a_refused_refresh_deletes_the_link_and_leaves_the_connection(services: Services, fake: FakeAtlassian) -> None:
    connection_id, _datastore = connected_datastore(services, fake)
    grace = fake.site.users[1].account_id
    link_id, payload = link_person(services, fake, "U2", grace)
    family = fake.oauth.family_of(payload["access_token"])
    assert family is not None
    fake.oauth.revoke_family(family)
    fake.advance(HOUR)
    links = person_links(services, fake)
    with pytest.raises(ReconnectRequired):
        links.tokens.current(link_id)
    assert links.linked(team_id=TEAM, slack_user_id="U2", cloud_id=fake.cloud_id) is None
    with pytest.raises(ReconnectRequired):  # and it stays gone: nothing asks Atlassian again
        links.tokens.force_refresh(link_id, 0)
    assert fake.log.refresh_count() == 1
    with services.sessions.begin() as session:
        connection = session.get(Connection, connection_id)
        assert connection is not None and connection.status == "active"
