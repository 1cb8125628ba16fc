"""Person links for the link tests: a connection and a datastore of workspace T1, people linked with their own
tokens from the fake Atlassian, and the link store built as the bot builds it."""

from __future__ import annotations

from typing import Any

from bot.access.links import PersonLinks
from bot.atlassian.oauth import AtlassianOAuth, token_set_from
from bot.services import Services
from demo.fakes.atlassian import PERMISSION_SCOPES, FakeAtlassian
from storage.models import Datastore
from storage.person_links import PersonLink, save_link
from tests.bot.atlassian.connections import add_connection, fake_clock

TEAM = "T1"


def connected_datastore(services: Services, fake: FakeAtlassian) -> tuple[int, int]:
    """(connection id, datastore id): the connecting account's token can read users and groups."""
    connection_id = add_connection(services, fake, fake.issue_token(scopes=PERMISSION_SCOPES))
    with services.sessions.begin() as session:
        datastore = Datastore(
            team_id=TEAM, name="eng-wiki", name_key="eng-wiki", connection_id=connection_id, created_by="U1"
        )
        session.add(datastore)
        session.flush()
        return connection_id, datastore.id


def link_person(
    services: Services, fake: FakeAtlassian, slack_user_id: str, account_id: str
) -> tuple[int, dict[str, Any]]:
    """(link id, the token payload): ``account_id``'s own tokens, linked to Slack user ``slack_user_id``."""
    payload = fake.issue_token(scopes=PERMISSION_SCOPES, account_id=account_id)
    tokens = token_set_from(payload, now=fake_clock(fake)())
    user = fake.site.people.require_user(account_id)
    with services.sessions.begin() as session:
        link = save_link(
            session,
            PersonLink(
                team_id=TEAM,
                slack_user_id=slack_user_id,
                cloud_id=fake.cloud_id,
                account_id=account_id,
                account_name=user.display_name,
                access_token_enc=services.cipher.encrypt(tokens.access_token),
                refresh_token_enc=services.cipher.encrypt(tokens.refresh_token or ""),
                access_expires_at=tokens.expires_at,
                scopes=tokens.scope,
            ),
        )
        return link.id, payload


def person_links(services: Services, fake: FakeAtlassian) -> PersonLinks:
    return PersonLinks(services, AtlassianOAuth(services.settings), clock=fake_clock(fake))
