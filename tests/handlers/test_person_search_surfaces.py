"""Per-person datastores end to end (issue #12 step 5): the real bot over HTTP, the fake Slack, and the fake
Atlassian over sockets, people linked through the in-memory person directory with their own fake-Atlassian
tokens. A page restricted directly, only through its parent, and to one person reaches only who Confluence lets
see it, in search and in shared messages; a restriction added in Confluence hides it once the freshness bound
has passed; Confluence down hides what cannot be checked and says so; a revoked grant shows nothing; "everyone"
mode shows it with its warning; status and App Home give counts only."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from bot.access.model import AccessMode
from demo.fakes.atlassian import SiteSpec
from demo.fakes.slack_api import FakeSlack
from handlers.ids import ActionId, BlockId
from storage.documents import Document
from storage.models import Datastore, utcnow
from tests.bot.access.fake_pass import principals_in_site, run_fake_pass
from tests.bot.sync.conftest import TEAM, SyncWorld, make_world
from tests.fakes.person_directory import FakePersonDirectory, FakePersonTokens
from tests.harness import RunningBot, running_bot, wait_until

UNLINKED, GRACE, BOB, CAROL = "U0TESTER", "U0GRACE", "U0BOB", "U0CAROL"


@dataclass
class Each:
    world: SyncWorld
    bot: RunningBot
    people: FakePersonDirectory
    pages: dict[str, int]  # open, direct, parent, child, personal
    tokens: dict[str, dict[str, Any]]

    def title(self, name: str) -> str:
        return self.world.atlassian.site.content[self.pages[name]].title

    def tag(self, name: str) -> str:
        return self.world.atlassian.site.page_text_hints(self.pages[name]).tag

    def reply(self, user: str, text: str) -> dict[str, Any]:
        before = len(self.bot.slack.calls("response_url"))
        assert self.bot.sender.slash_command(text, user_id=user).status == 200
        return dict(self.bot.slack.wait_for_call("response_url", count=before + 1, timeout=10).args)

    def search(self, user: str, name: str) -> dict[str, Any]:
        return self.reply(user, f"search eng-wiki {self.tag(name)}")

    def sees(self, user: str, name: str) -> bool:
        reply = self.search(user, name)
        return self.title(name) in str(reply)

    def age(self, minutes: float) -> None:
        with self.world.services.sessions.begin() as session:
            session.execute(update(Document).values(acl_checked_at=utcnow() - timedelta(minutes=minutes)))

    def share(self, user: str, reply: dict[str, Any]) -> list[dict[str, Any]]:
        (actions,) = [b for b in reply["blocks"] if b.get("block_id") == BlockId.SEARCH_ACTIONS]
        value = actions["elements"][0]["value"]
        before = len(self.bot.slack.calls("response_url"))
        slack = self.bot.slack
        clicked = self.bot.sender.click_in_ephemeral(
            ActionId.SHARE_RESULTS, BlockId.SEARCH_ACTIONS, value, slack.default_channel_id, user_id=user
        )
        assert clicked.status == 200
        wait_until(lambda: len(slack.calls("response_url")) > before, timeout=10)
        return [dict(call.args) for call in slack.calls("response_url")[before:]]


def _pick(site: Any) -> dict[str, int]:
    pages = sorted(site.ids("page"))
    child = next(
        p
        for p in pages
        if not site.children(p) and (parent := site.content[p].parent_id) in pages and site.content[parent].parent_id
    )
    parent = site.content[child].parent_id
    family = {child, parent} | {c.id for c in site.children(parent)}
    rest = [p for p in pages if p not in family and site.content[p].parent_id not in family and not site.children(p)]
    return {"open": rest[0], "direct": rest[1], "personal": rest[2], "parent": parent, "child": child}


@pytest.fixture
def each(database_url: str) -> Iterator[Each]:
    spec = SiteSpec(spaces=1, pages_per_space=16, blogposts_per_space=0, body_bytes=1500)
    with FakeSlack(team_id=TEAM) as slack:
        for user in (GRACE, BOB, CAROL):
            slack.add_user(user, user.lower())
        for world in make_world(database_url, spec):
            fake = world.atlassian
            site = fake.site
            connecting, grace, bob, carol = (site.users[i].account_id for i in range(4))
            site.people.add_group("hr", [connecting, grace])
            pages = _pick(site)
            site.restrict_page(pages["direct"], groups=["hr"])
            site.restrict_page(pages["parent"], groups=["hr"])  # the child only inherits it
            site.restrict_page(pages["personal"], users=[carol, connecting])
            world.queue(kind="full")
            world.worker().run_until_idle()
            run_fake_pass(world.services, site, datastore_id=world.datastore_id, checked_at=utcnow())
            with world.services.sessions.begin() as session:
                datastore = session.get(Datastore, world.datastore_id)
                assert datastore is not None
                datastore.access_mode = AccessMode.EACH
            people = FakePersonDirectory(FakePersonTokens(token_url=f"{fake.auth_url}/oauth/token"))
            tokens = {}
            for slack_user, account in ((GRACE, grace), (BOB, bob), (CAROL, carol)):
                tokens[slack_user] = token = fake.issue_token(account_id=account)
                person = people.link(
                    team_id=TEAM,
                    slack_user_id=slack_user,
                    cloud_id=fake.cloud_id,
                    account_id=account,
                    groups=site.people.groups_of(account),
                    token=token,
                )
                assert person.principals == principals_in_site(site, account)
            settings = world.services.settings
            assert settings.encryption_key is not None
            with running_bot(
                slack,
                database_url,
                encryption_key=settings.encryption_key.get_secret_value(),
                people=people,
                atlassian_api_url=fake.api_url,
                atlassian_auth_url=fake.auth_url,
            ) as bot:
                fake.log.clear()  # from here on only what searches ask
                yield Each(world, bot, people, pages, tokens)
                bot.sender.close()


RESTRICTED = ("direct", "child", "personal")


def test_restricted_pages_reach_only_the_people_confluence_lets_see_them(each: Each) -> None:
    for name in RESTRICTED:
        reply = each.search(UNLINKED, name)
        (connect,) = [b for b in reply["blocks"] if b.get("block_id") == BlockId.PERSON_CONNECT_ACTIONS]
        assert connect["elements"][0]["text"]["text"] == "Connect your Confluence account"
        assert connect["elements"][0]["url"].startswith("https://link.example/connect?")
        assert each.title(name) not in str(reply)
    assert not each.sees(BOB, "direct") and not each.sees(BOB, "child") and not each.sees(BOB, "personal")
    assert each.sees(GRACE, "direct") and each.sees(GRACE, "child") and not each.sees(GRACE, "personal")
    assert each.sees(CAROL, "personal") and not each.sees(CAROL, "direct")
    assert each.sees(BOB, "open") and each.sees(CAROL, "open")
    assert not each.world.atlassian.log.filter(endpoint="GET /wiki/api/v2/pages")  # all fresh: no live check


def test_shared_messages_carry_only_a_short_link_and_the_sharer(each: Each) -> None:
    reply = each.search(GRACE, "direct")
    assert each.title("direct") in str(reply)
    posted = each.share(GRACE, reply)
    (shared,) = [m for m in posted if m.get("response_type") == "in_channel"]
    text = str(shared)
    hints = each.world.atlassian.site.page_text_hints(each.pages["direct"])
    assert each.title("direct") not in text and hints.tag not in text and hints.phrase not in text
    assert "/wiki/x/" in text and f"<@{GRACE}>" in text and "won't be able to open it" in text
    assert shared["unfurl_links"] is False and shared["unfurl_media"] is False
    # Bob clicks the same button value (a forwarded or replayed click): nothing he may not see is posted.
    bob_posts = each.share(BOB, reply)
    assert not [m for m in bob_posts if m.get("response_type") == "in_channel"]
    assert each.title("direct") not in str(bob_posts)


def test_a_restriction_added_in_confluence_hides_the_page_once_the_bound_has_passed(each: Each) -> None:
    site = each.world.atlassian.site
    site.restrict_page(each.pages["open"], users=[site.users[3].account_id, site.users[0].account_id])  # Carol only
    assert each.sees(BOB, "open")  # the synced ACL is fresh (within the hour the bound allows)
    each.age(61)
    assert not each.sees(BOB, "open")  # the live check, as Bob, drops it before any permission pass
    assert each.sees(CAROL, "open")
    checks = each.world.atlassian.log.filter(endpoint="GET /wiki/api/v2/pages")
    assert checks and each.world.atlassian.log.points(principal=each.tokens[CAROL]["access_token"]) <= 9


def test_confluence_down_during_a_check_shows_nothing_stale_and_says_so(each: Each) -> None:
    each.age(120)
    with each.world.services.sessions.begin() as session:  # the open page's ACL was just read
        session.execute(
            update(Document).where(Document.source_id == str(each.pages["open"])).values(acl_checked_at=utcnow())
        )
    each.world.atlassian.inject("GET /wiki/api/v2/pages", "503", times=None, retry_after=1)
    reply = each.search(GRACE, "direct")
    assert each.title("direct") not in str(reply)
    (notice,) = [b for b in reply["blocks"] if b.get("block_id") == BlockId.SEARCH_UNCHECKED]
    assert "couldn't check your access to some results just now" in str(notice)
    assert each.sees(GRACE, "open")  # fresh: shown without asking


def test_a_token_revoked_mid_search_shows_nothing_and_asks_to_link_again(each: Each) -> None:
    each.age(120)
    oauth = each.world.atlassian.oauth
    family = oauth.family_of(each.tokens[GRACE]["access_token"])
    assert family is not None
    oauth.revoke_family(family)
    reply = each.search(GRACE, "direct")
    assert each.title("direct") not in str(reply) and "no longer accepts your connected account" in str(reply)
    assert [b for b in reply["blocks"] if b.get("block_id") == BlockId.PERSON_CONNECT_ACTIONS]
    cloud = each.world.atlassian.cloud_id
    assert each.people.linked(team_id=TEAM, slack_user_id=GRACE, cloud_id=cloud) is None  # unlinked
    assert each.title("open") not in str(each.search(GRACE, "open"))  # and nothing until they link again


def test_everyone_mode_shows_it_with_the_warning(each: Each) -> None:
    with each.world.services.sessions.begin() as session:
        session.execute(update(Datastore).values(access_mode=AccessMode.EVERYONE))
    reply = each.search(UNLINKED, "direct")
    assert each.title("direct") in str(reply)
    (access,) = [b for b in reply["blocks"] if b.get("block_id") == BlockId.SEARCH_ACCESS]
    assert "Everyone in this workspace sees what" in str(access)


def test_status_and_app_home_give_counts_only(each: Each) -> None:
    status = each.reply(BOB, "status eng-wiki")
    assert "Each person sees only what they can see in Confluence" in str(status)
    assert not any(each.title(name) in str(status) for name in (*RESTRICTED, "open"))
    slack = each.bot.slack
    assert each.bot.sender.app_home_opened(user_id=BOB).status == 200
    wait_until(lambda: slack.home_view(BOB) is not None, timeout=5)
    home = slack.home_view(BOB)
    assert home is not None and not any(each.title(name) in str(home.blocks) for name in (*RESTRICTED, "open"))
