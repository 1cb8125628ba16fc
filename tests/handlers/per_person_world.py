"""Issue #12's acceptance world, every part real: the wizard (over HTTP, consent in the browser) creates an "each"
datastore whose consenter is linked by that consent; the real sync worker indexes it; the real permission pass
(bot/access/passes.py) reads its ACLs from the fake Atlassian; people link through the real link flow (the
Connect button's URL → consent in their browser → /oauth/confluence/callback) and their groups are read by the
real link-groups reader (bot/access/link_groups.py). No stand-in pass or person directory anywhere.

The site: one space of 16 pages; group ``hr`` = the connecting account and Grace. ``direct`` is restricted to
``hr``, ``child`` only inherits ``parent``'s restriction to ``hr``, ``personal`` is restricted to Carol (and the
connecting account, which syncs it); ``open`` is unrestricted."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select, update

from bot.access.link_groups import GroupsPass, LinkGroups
from bot.access.passes import PassReport, PermissionPasses
from bot.atlassian.oauth import AtlassianOAuth
from bot.atlassian.tokens import TokenManager
from bot.sync.runtime import SyncRuntime
from demo.fakes.atlassian import Site, SiteConfig, SiteSpec
from demo.fakes.slack_api import FakeSlack
from handlers.ids import ActionId, BlockId
from storage.documents import Document
from storage.models import Datastore, utcnow
from tests.handlers.conftest import World, make_world
from tests.handlers.wizard_driver import WizardDriver
from tests.harness import wait_until

__all__ = ["BOB", "CAROL", "CONSENTER", "GRACE", "NOBODY", "RESTRICTED", "Acceptance", "acceptance"]

CONSENTER = "U0TESTER"  # the fake Slack's default user: runs the wizard and consents as the connecting account
GRACE, BOB, CAROL, NOBODY = "U0GRACE", "U0BOB", "U0CAROL", "U0NOBODY"
RESTRICTED = ("direct", "child", "personal")
#: Slack person → index of their Atlassian account in the fake site (0 is the connecting account).
ACCOUNTS = {CONSENTER: 0, GRACE: 1, BOB: 2, CAROL: 3}


def _pick(site: Site) -> dict[str, int]:
    """Leaf pages for open/direct/personal, and a parent whose child only inherits its restriction."""
    pages = sorted(site.ids("page"))
    child = next(
        p
        for p in pages
        if not site.children(p) and (parent := site.content[p].parent_id) in pages and site.content[parent].parent_id
    )
    parent = site.content[child].parent_id
    assert parent is not None
    family = {child, parent} | {c.id for c in site.children(parent)}
    rest = [p for p in pages if p not in family and site.content[p].parent_id not in family and not site.children(p)]
    return {"open": rest[0], "direct": rest[1], "personal": rest[2], "parent": parent, "child": child}


@dataclass
class Acceptance:
    world: World
    datastore_id: int
    pages: dict[str, int]

    @property
    def site(self) -> Site:
        return self.world.atlassian.site

    @property
    def slack(self) -> FakeSlack:
        return self.world.slack

    def account(self, slack_user: str) -> str:
        return self.site.users[ACCOUNTS[slack_user]].account_id

    def title(self, name: str) -> str:
        return self.site.content[self.pages[name]].title

    # ----- the real background work, run on demand ----------------------------------------------
    def connection_tokens(self) -> TokenManager:
        services = self.world.bot.services
        return TokenManager(services, AtlassianOAuth(services.settings))

    def run_pass(self, clock: Callable[[], datetime] = utcnow) -> list[PassReport]:
        """The real permission pass, as `serve`'s job runs it (the connection's token, the process's lane)."""
        services = self.world.bot.services
        runner = PermissionPasses(services, self.connection_tokens(), services.permission_lane, clock=clock)
        return runner.run_due()

    def read_groups(self, *, later: timedelta = timedelta(0)) -> GroupsPass:
        """The real link-groups reader (the scheduler's job); ``later``: as if run that long from now, so links
        read within the hour are read again."""
        services = self.world.bot.services
        reader = LinkGroups(
            services, self.connection_tokens(), services.permission_lane, clock=lambda: utcnow() + later
        )
        return reader.run()

    def age_checks(self, minutes: float) -> None:
        """The permission pass last read every ACL ``minutes`` ago."""
        with self.world.bot.services.sessions.begin() as session:
            session.execute(update(Document).values(acl_checked_at=utcnow() - timedelta(minutes=minutes)))

    # ----- Slack ----------------------------------------------------------------------------------
    def reply(self, user: str, text: str) -> dict[str, Any]:
        before = len(self.slack.calls("response_url"))
        response = self.world.bot.sender.slash_command(text, user_id=user)
        assert response.status == 200
        if response.body.strip():
            answer = response.json
            assert isinstance(answer, dict)
            return answer
        return dict(self.slack.wait_for_call("response_url", count=before + 1, timeout=10).args)

    def search(self, user: str, name: str) -> dict[str, Any]:
        return self.reply(user, f"search eng-wiki {self.site.page_text_hints(self.pages[name]).tag}")

    def sees(self, user: str, name: str) -> bool:
        return self.title(name) in str(self.search(user, name))

    def sees_nothing_restricted(self, user: str) -> bool:
        return not any(self.sees(user, name) for name in RESTRICTED)

    @staticmethod
    def connect_url(reply: dict[str, Any]) -> str | None:
        blocks = [b for b in reply.get("blocks", []) if b.get("block_id") == BlockId.PERSON_CONNECT_ACTIONS]
        return str(blocks[0]["elements"][0]["url"]) if blocks else None

    def consent(self, url: str, slack_user: str, *, account: str | None = None) -> httpx.Response:
        """The person's browser, logged in to Atlassian as their account: consent, then the bot's callback."""
        cookies = self.world.atlassian.session_cookies(account or self.account(slack_user))
        return httpx.get(url, cookies=cookies, follow_redirects=True, timeout=10)

    def link(self, slack_user: str) -> None:
        """Link through the real flow: search, get the Connect prompt, consent, back at the callback."""
        url = self.connect_url(self.search(slack_user, "open"))
        assert url is not None, "an unlinked person is offered the Connect button"
        page = self.consent(url, slack_user)
        assert page.status_code == 200 and "connected as" in page.text, page.text

    def share(self, user: str, reply: dict[str, Any]) -> list[dict[str, Any]]:
        (actions,) = [b for b in reply["blocks"] if b.get("block_id") == BlockId.SEARCH_ACTIONS]
        value = actions["elements"][0]["value"]
        before = len(self.slack.calls("response_url"))
        clicked = self.world.bot.sender.click_in_ephemeral(
            ActionId.SHARE_RESULTS, BlockId.SEARCH_ACTIONS, value, self.slack.default_channel_id, user_id=user
        )
        assert clicked.status == 200
        wait_until(lambda: len(self.slack.calls("response_url")) > before, timeout=10)
        return [dict(call.args) for call in self.slack.calls("response_url")[before:]]

    def datastore(self) -> Datastore:
        with self.world.bot.services.sessions() as session:
            datastore = session.scalars(select(Datastore)).one()
            session.expunge(datastore)
            return datastore


def acceptance(fake_slack: FakeSlack, database_url: str) -> Iterator[Acceptance]:
    sites = [
        SiteConfig(name="acme", spec=SiteSpec(spaces=1, pages_per_space=16, blogposts_per_space=0, body_bytes=1500)),
        SiteConfig(name="other", spec=SiteSpec(spaces=1, pages_per_space=1, blogposts_per_space=0)),
    ]
    for user in (GRACE, BOB, CAROL, NOBODY):
        fake_slack.add_user(user, user.lower())
    for world in make_world(fake_slack, database_url, sites):
        site = world.atlassian.site
        connecting, grace, carol = (site.users[i].account_id for i in (0, 1, 3))
        site.people.add_group("hr", [connecting, grace])
        pages = _pick(site)
        site.restrict_page(pages["direct"], groups=["hr"])
        site.restrict_page(pages["parent"], groups=["hr"])  # the child only inherits it
        site.restrict_page(pages["personal"], users=[carol, connecting])

        driver = WizardDriver(world)
        assert driver.connect().status_code == 200  # the consenter is linked by this consent
        assert driver.grant(None).errors is None  # "Grant access" submitted as shown: each person, the default
        assert driver.submit().json == {"response_action": "clear"}
        services = world.bot.services
        runtime = SyncRuntime(services, processes=0)
        try:
            runtime.worker().run_until_idle()
        finally:
            runtime.close()
        acc = Acceptance(world, 0, pages)
        datastore = acc.datastore()
        acc.datastore_id = datastore.id
        assert datastore.access_mode == "each" and datastore.document_count == 16
        (report,) = acc.run_pass()
        assert (report.outcome, report.documents) == ("complete", 16), report
        assert acc.read_groups().refreshed == 0  # the consent read the consenter's groups already
        world.atlassian.log.clear()  # from here on only what the tests ask
        yield acc
