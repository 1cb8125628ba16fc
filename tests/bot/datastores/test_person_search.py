"""Per-person search (issue #12 step 5) on both backends, with the in-memory person directory and a stub
Confluence: restricted pages (directly, through an ancestor, to one person) reach only those allowed; a page
whose ACL is older than the freshness bound is checked live as the person and dropped when Confluence no
longer shows it to them; Confluence down shows only fresh results; a revoked grant shows nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import update

from bot.access.filter import store_document_acls
from bot.access.model import AccessMode, effective_acl, group_key, user_key
from bot.crypto import generate_key
from bot.datastores.person_search import PersonAccess, PersonSearch, Searcher
from bot.datastores.queries import EACH_NOT_YET, Queries
from bot.errors import AtlassianUnavailable, ReconnectRequired, UserFacingError
from bot.services import Services, build_services
from bot.settings import Settings
from storage.documents import Document
from storage.models import Connection, Datastore, utcnow
from storage.search_index import ChunkInput, DocumentInput, bulk_replace_documents, content_hash
from tests.bot.access.stub_gateway import BASE, StubGateway, tiny
from tests.fakes.person_directory import LINK_BASE, FakePersonDirectory
from tests.harness import migrate

TEAM, CLOUD = "T0PEOPLE", "cloud-1"
SPACE = [group_key("staff")]
HR = group_key("hr")
TITLES = {
    "101": "Open handbook",
    "102": "HR salaries",
    "103": "HR child notes",
    "104": "Carol review",
    "105": "Unknown",
}
ACLS = {
    "101": effective_acl(SPACE),
    "102": effective_acl(SPACE, [HR]),  # restricted directly
    "103": effective_acl(SPACE, None, [[HR]]),  # only through its parent's restriction
    "104": effective_acl(SPACE, [user_key("carol")]),  # to one person
    "105": None,  # unknown: hidden from everyone
}


class World:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.people = FakePersonDirectory()
        self.gateway = StubGateway(visible=set(TITLES))
        self.gateways: list[StubGateway] = []

        def factory(_person: object, _cloud: str) -> StubGateway:
            self.gateways.append(self.gateway)
            return self.gateway

        self.search = PersonSearch(services, self.people, self.gateway.budget, gateway_factory=factory)  # type: ignore[arg-type]
        self.queries = Queries(services, person_search=self.search)

    def link(self, user: str, account: str, groups: list[str]) -> None:
        self.people.link(team_id=TEAM, slack_user_id=user, cloud_id=CLOUD, account_id=account, groups=groups)

    def titles(self, user: str, query: str = "zebra", **kwargs: object) -> list[str]:
        result = self.run(user, query, **kwargs)
        assert result.access is PersonAccess.SEARCHED
        return sorted(hit.title for hit in result.hits)

    def run(self, user: str, query: str = "zebra", **kwargs: object):
        return self.search.search(
            datastore_id=1,
            cloud_id=CLOUD,
            query=query,
            searcher=Searcher(TEAM, user),
            **kwargs,  # type: ignore[arg-type]
        )

    def age(self, source_ids: list[str], checked_at: datetime | None) -> None:
        with self.services.sessions.begin() as session:
            session.execute(
                update(Document).where(Document.source_id.in_(source_ids)).values(acl_checked_at=checked_at)
            )


@pytest.fixture
def world(database_url: str) -> Iterator[World]:
    services = build_services(Settings(_env_file=None, database_url=database_url, encryption_key=generate_key()))
    migrate(services.engine)
    with services.sessions.begin() as session:
        connection = Connection(
            team_id=TEAM, created_by="U0CREATOR", cloud_id=CLOUD, site_url="https://acme.atlassian.net"
        )
        session.add(connection)
        session.flush()
        session.add(
            Datastore(
                team_id=TEAM,
                name="wiki",
                name_key="wiki",
                created_by="U0CREATOR",
                connection_id=connection.id,
                access_mode=AccessMode.EACH,
            )
        )
    items = [
        (
            DocumentInput(
                source_id=sid,
                title=title,
                url=f"{BASE}/spaces/S/pages/{sid}/{title.replace(' ', '+')}",
                content_hash=content_hash(title),
            ),
            [ChunkInput(text=f"the zebra handbook, {title}")],
        )
        for sid, title in TITLES.items()
    ]
    with services.sessions.begin() as session:
        bulk_replace_documents(session, 1, items)
        store_document_acls(session, datastore_id=1, acls=ACLS, checked_at=utcnow())
    yield World(services)
    services.engine.dispose()


def test_unlinked_people_get_a_connect_link_and_nothing_else(world: World) -> None:
    result = world.run("U0NOBODY")
    assert result.access is PersonAccess.NOT_LINKED and not result.hits
    assert result.connect_url is not None and result.connect_url.startswith(LINK_BASE)
    assert world.people.urls == [{"team": TEAM, "user": "U0NOBODY", "datastore": "1"}]
    assert not world.gateway.calls
    world.people.link(
        team_id=TEAM, slack_user_id="U0ELSEWHERE", cloud_id="other-site", account_id="x", groups=["staff", "hr"]
    )
    assert world.run("U0ELSEWHERE").access is PersonAccess.NOT_LINKED  # linked to another site: nothing here


def test_restricted_pages_reach_only_who_is_allowed(world: World) -> None:
    world.link("U0ALICE", "alice", ["staff", "hr"])
    world.link("U0BOB", "bob", ["staff"])
    world.link("U0CAROL", "carol", ["staff"])
    world.link("U0MALLORY", "mallory", ["contractors"])
    assert world.titles("U0ALICE") == ["HR child notes", "HR salaries", "Open handbook"]
    assert world.titles("U0BOB") == ["Open handbook"]
    assert world.titles("U0CAROL") == ["Carol review", "Open handbook"]
    assert world.titles("U0MALLORY") == []
    assert not world.gateway.calls  # every ACL is fresh: no live check


def test_a_restriction_added_in_confluence_drops_the_page_once_the_bound_has_passed(world: World) -> None:
    world.link("U0ALICE", "alice", ["staff", "hr"])
    world.gateway.visible = {"101", "103"}  # HR salaries restricted further in Confluence since the last pass
    world.age(["102"], utcnow() - timedelta(minutes=59))  # within the bound: the synced ACL stands
    assert world.titles("U0ALICE") == ["HR child notes", "HR salaries", "Open handbook"]
    assert not world.gateway.calls
    world.age(list(TITLES), utcnow() - timedelta(minutes=61))
    result = world.run("U0ALICE")
    assert sorted(hit.title for hit in result.hits) == ["HR child notes", "Open handbook"] and not result.unchecked
    assert result.requests == 1 and result.points == 1 + 2
    world.age(["101", "103"], None)  # never checked counts as stale too
    assert world.titles("U0ALICE") == ["HR child notes", "Open handbook"]


def test_confluence_down_shows_only_fresh_results_and_says_so(world: World) -> None:
    world.link("U0ALICE", "alice", ["staff", "hr"])
    world.age(["102", "103"], utcnow() - timedelta(hours=3))
    world.gateway.fail = AtlassianUnavailable("Confluence kept failing")
    result = world.run("U0ALICE")
    assert [hit.title for hit in result.hits] == ["Open handbook"] and result.unchecked
    world.gateway.fail = None
    assert world.titles("U0ALICE") == ["HR child notes", "HR salaries", "Open handbook"]


def test_a_grant_revoked_mid_search_shows_nothing_and_asks_to_connect_again(world: World) -> None:
    world.link("U0ALICE", "alice", ["staff", "hr"])
    world.age(["102"], None)
    world.gateway.fail = ReconnectRequired("invalid_grant")
    result = world.run("U0ALICE")
    assert result.access is PersonAccess.RELINK and not result.hits and result.connect_url
    assert world.gateways and all(g.closed for g in world.gateways)


def test_dropped_candidates_are_replaced_from_further_down_within_a_bound(world: World) -> None:
    many = {str(200 + n): f"Zebra plan {n}" for n in range(20)}
    items = [
        (
            DocumentInput(source_id=sid, title=t, url=f"{BASE}/spaces/S/pages/{sid}/x", content_hash=content_hash(t)),
            [ChunkInput(text=f"zebra zebra plan {t}")],
        )
        for sid, t in many.items()
    ]
    with world.services.sessions.begin() as session:
        bulk_replace_documents(session, 1, items)
        store_document_acls(
            session, datastore_id=1, acls={sid: effective_acl(SPACE) for sid in many}, checked_at=utcnow()
        )
    world.age(list(many), None)
    world.link("U0BOB", "bob", ["staff"])
    allowed = set(list(many)[::4])  # 5 of 20 still viewable in Confluence
    world.gateway.visible = allowed | {"101"}
    result = world.run("U0BOB", "zebra plan", limit=3)
    assert len(result.hits) == 3 and not result.unchecked
    assert {hit.url.split("/pages/")[1].split("/")[0] for hit in result.hits} <= allowed
    assert 2 <= result.requests <= 3  # more candidates were fetched and checked, one check per round


def test_a_share_checks_every_hit_and_links_without_titles(world: World) -> None:
    world.link("U0ALICE", "alice", ["staff", "hr"])
    result = world.run("U0ALICE", check_all=True)
    assert result.requests == 1  # fresh or not, a share asks Confluence
    assert set(result.short_links.values()) == {BASE + tiny(sid) for sid in ("101", "102", "103")}
    world.gateway.fail = AtlassianUnavailable("down")
    down = world.run("U0ALICE", check_all=True)  # fresh hits still go, with the id-only link
    assert sorted(down.short_links.values()) == [
        f"https://acme.atlassian.net/wiki/pages/viewpage.action?pageId={s}" for s in ("101", "102", "103")
    ]


def test_visible_ids_are_cached_per_generation_and_principals(world: World) -> None:
    world.link("U0BOB", "bob", ["staff"])
    world.titles("U0BOB")
    world.titles("U0BOB")
    assert world.search.cache.misses == 1 and world.search.cache.hits == 1
    with world.services.sessions.begin() as session:  # a new ACL bumps the generation
        store_document_acls(
            session, datastore_id=1, acls={"105": effective_acl(SPACE, [user_key("bob")])}, checked_at=utcnow()
        )
    assert world.titles("U0BOB") == ["Open handbook", "Unknown"]
    assert world.search.cache.misses == 2


def test_queries_never_search_an_each_datastore_unfiltered(world: World) -> None:
    info = world.queries.find(TEAM, "wiki")
    with pytest.raises(UserFacingError, match="not available yet"):
        world.queries.search_in(info, "zebra")  # nobody said who is searching
    with pytest.raises(UserFacingError, match="not available yet"):
        Queries(world.services).search_in(info, "zebra", searcher=Searcher(TEAM, "U0BOB"))  # nobody can link
    assert "nothing is shown" in EACH_NOT_YET
    world.link("U0BOB", "bob", ["staff"])
    answer = world.queries.search_in(info, "zebra", searcher=Searcher(TEAM, "U0BOB"))
    assert answer.per_person and [hit.title for hit in answer.hits] == ["Open handbook"]
