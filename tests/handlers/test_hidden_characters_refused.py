"""Class 3 over real HTTP: a hidden character (control, bidi, zero-width, lone surrogate …) in any text that
names or configures something is refused in the ack itself, naming the character.

Every command argument that names a datastore (create, status, search, sync, schedule, delete, reconnect),
the subcommand word, the schedule interval, and every text input of every modal (wizard name, the three
auto top-off numbers in the wizard and in the credits modal, the site URL, the delete confirmation's name)
gets three hidden characters, drawn with a fixed seed from tests/hostile.CONTROL_CHARACTERS (plus lone
surrogates, which only JSON payloads can carry) and planted in an ordinary value. Each case asserts: HTTP
200; the message the person sees (ephemeral ack text, or ``response_action: errors`` on the field's block)
names the character; no table changed (no bookkeeping table is ignored: a refusal touches none); the fake
Slack received no call at all, in this case or after an earlier one; no error or traceback in the log.

The world (one per database backend, shared by the module's cases: each one changes nothing) has a
datastore, three wizards waiting at step 1, step 2 (auto top-off fields shown) and step 3b (site URL), a
delete confirmation and the credits modal open, each for its own user.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.text_policy import describe_character, hidden_characters
from demo.fakes.atlassian import SiteConfig, SiteSpec
from demo.fakes.slack_api import FakeSlack
from handlers.ids import ActionId, BlockId, TopOffValue
from tests.backends import BACKENDS, postgres_base_url
from tests.conftest import BOT_VARIABLES, _postgres_schema_url
from tests.db_snapshot import changed_tables, snapshot
from tests.handlers.conftest import World, make_world
from tests.handlers.identity_cases import recorded_wizard_id
from tests.handlers.wizard_driver import WizardDriver
from tests.harness import add_connected_datastore, wait_until
from tests.hostile import CONTROL_CHARACTERS

ADMIN, NAMER, TOPPER, SITER, DELETER = "U0ADMIN", "U0NAMER", "U0TOPPER", "U0SITER", "U0DELETER"
SURROGATES = ["\ud800", "\udfff"]


@dataclass(frozen=True)
class Case:
    """One refused input: ``command`` text (with ``{}`` where the value goes) or a modal field."""

    label: str
    base: str  # the ordinary value the hidden character is planted in
    what: str  # how the message names the field
    command: str | None = None
    modal: str | None = None  # which open modal: name, topoff, site, delete, credits
    block: str | None = None
    action: str | None = None


INPUTS = [
    Case("create", "eng-wiki", "datastore name", command='create "{}"'),
    Case("status", "eng-wiki", "datastore name", command='status "{}"'),
    Case("search-name", "eng-wiki", "datastore name", command='search "{}" deploy steps'),
    Case("sync", "eng-wiki", "datastore name", command='sync "{}"'),
    Case("sync-full", "eng-wiki", "datastore name", command='sync "{}" --full'),
    Case("schedule-name", "eng-wiki", "datastore name", command='schedule "{}" 6h'),
    Case("schedule-interval", "6h", "interval", command='schedule eng-wiki "{}"'),
    Case("delete", "eng-wiki", "datastore name", command='delete "{}"'),
    Case("reconnect", "eng-wiki", "datastore name", command='reconnect "{}"'),
    Case("subcommand", "status", "command", command="{} eng-wiki"),
    Case("wizard-name", "Eng Wiki", "name", modal="name", block=BlockId.NAME, action=ActionId.NAME_INPUT),
    Case(
        "wizard-threshold",
        "1000",
        "threshold",
        modal="topoff",
        block=BlockId.TOPOFF_THRESHOLD,
        action=ActionId.TOPOFF_THRESHOLD,
    ),
    Case(
        "wizard-amount",
        "10000",
        "top-off amount",
        modal="topoff",
        block=BlockId.TOPOFF_AMOUNT,
        action=ActionId.TOPOFF_AMOUNT,
    ),
    Case("wizard-cap", "50000", "monthly cap", modal="topoff", block=BlockId.TOPOFF_CAP, action=ActionId.TOPOFF_CAP),
    Case("site-url", "acme.atlassian.net", "site URL", modal="site", block=BlockId.SITE_URL, action=ActionId.SITE_URL),
    Case(
        "delete-name",
        "eng-wiki",
        "name",
        modal="delete",
        block=BlockId.DELETE_NAME,
        action=ActionId.DELETE_NAME_INPUT,
    ),
    Case(
        "credits-threshold",
        "1000",
        "threshold",
        modal="credits",
        block=BlockId.TOPOFF_THRESHOLD,
        action=ActionId.TOPOFF_THRESHOLD,
    ),
    Case(
        "credits-amount",
        "10000",
        "top-off amount",
        modal="credits",
        block=BlockId.TOPOFF_AMOUNT,
        action=ActionId.TOPOFF_AMOUNT,
    ),
    Case("credits-cap", "50000", "monthly cap", modal="credits", block=BlockId.TOPOFF_CAP, action=ActionId.TOPOFF_CAP),
]
PER_INPUT = 3
TOP_OFF_VALUES: dict[str, dict[str, str]] = {
    BlockId.TOPOFF_THRESHOLD: {ActionId.TOPOFF_THRESHOLD: "1000"},
    BlockId.TOPOFF_AMOUNT: {ActionId.TOPOFF_AMOUNT: "10000"},
    BlockId.TOPOFF_CAP: {ActionId.TOPOFF_CAP: "50000"},
}


def _cases() -> list[tuple[Case, str]]:
    """Each input with PER_INPUT hidden characters, planted at a seeded spot of its ordinary value."""
    rng = random.Random(3)
    cases = []
    for case in INPUTS:
        pool = CONTROL_CHARACTERS + (SURROGATES if case.modal else [])  # a form body cannot carry a surrogate
        for char in rng.sample(pool, PER_INPUT):
            at = rng.randrange(1, len(case.base))
            cases.append((case, case.base[:at] + char + case.base[at:]))
    return cases


CASES = _cases()


@dataclass
class Refusals:
    world: World
    views: dict[str, tuple[str, str]]  # modal → (view id, user)


@pytest.fixture(scope="module", params=BACKENDS)
def refusals(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Refusals]:
    with pytest.MonkeyPatch.context() as env:
        for name in BOT_VARIABLES:
            env.delenv(name, raising=False)
        for url in _database(request.param, tmp_path_factory.mktemp("refusals")):
            with FakeSlack() as slack:
                sites = [SiteConfig(name="acme", spec=SiteSpec(spaces=1, pages_per_space=1, blogposts_per_space=0))]
                for world in make_world(slack, url, sites):
                    yield Refusals(world, _open_everything(world))


def _database(backend: str, directory: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{directory / 'test.db'}"
        return
    yield from _postgres_schema_url(postgres_base_url())


def _open_everything(world: World) -> dict[str, tuple[str, str]]:
    slack, services = world.slack, world.bot.services
    for user in (ADMIN, NAMER, TOPPER, SITER, DELETER):
        slack.add_user(user, user.lower(), is_admin=user in (ADMIN, DELETER))
        slack.add_channel_member(slack.default_channel_id, user)
    token = world.atlassian.issue_token()
    add_connected_datastore(
        services, cloud_id=world.atlassian.cloud_id, token=token, team_id=slack.team_id, credits=1000
    )
    views: dict[str, tuple[str, str]] = {}
    for user, modal in ((NAMER, "name"), (TOPPER, "topoff"), (SITER, "site")):
        driver = WizardDriver(world, user_id=user)
        driver.start()
        recorded_wizard_id(world, driver)
        if modal != "name":
            driver.name(f"store {user}")
        if modal == "topoff":
            driver.click(ActionId.TOPOFF_CHOICE, selected_option=TopOffValue.CONFIGURE)
        if modal == "site":
            driver.skip_top_off()
            driver.submit()  # review access → site URL
        views[modal] = (driver.view_id, user)
    views["delete"] = (_opened(world, "delete eng-wiki", DELETER), DELETER)
    credits = world.bot.sender.slash_command("credits", user_id=ADMIN)
    assert credits.status == 200
    reply = slack.wait_for_call("response_url", timeout=5).args
    button = reply["blocks"][-1]["elements"][0]
    before = len(slack.calls("views.open"))
    assert (
        world.bot.sender.click_in_ephemeral(
            ActionId.CREDITS_CHANGE, BlockId.CREDITS_ACTIONS, button["value"], slack.default_channel_id, user_id=ADMIN
        ).status
        == 200
    )
    views["credits"] = (slack.wait_for_call("views.open", count=before + 1, timeout=5).response["view"]["id"], ADMIN)
    wait_until(lambda: all(not slack.view(view_id).closed for view_id, _ in views.values()), timeout=5)
    slack.reset_calls()
    return views


def _opened(world: World, text: str, user: str) -> str:
    before = len(world.slack.calls("views.open"))
    assert world.bot.sender.slash_command(text, user_id=user).status == 200
    return str(world.slack.wait_for_call("views.open", count=before + 1, timeout=5).response["view"]["id"])


@pytest.mark.parametrize(
    ("case", "value"), CASES, ids=[f"{c.label}-U+{ord(hidden_characters(v)[0]):04X}" for c, v in CASES]
)
def test_hidden_character_is_refused_by_name(
    refusals: Refusals, case: Case, value: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    world = refusals.world
    engine = world.bot.services.engine
    before = snapshot(engine)
    char = hidden_characters(value)[0]
    if case.command is not None:
        response = world.bot.sender.slash_command(case.command.format(value))
        assert response.status == 200
        assert response.json is not None
        seen = str(response.json["text"])
    else:
        assert case.modal is not None and case.block is not None and case.action is not None
        view_id, user = refusals.views[case.modal]
        values: dict[str, dict[str, str]] = {case.block: {case.action: value}}
        if case.modal in ("topoff", "credits"):  # the other numbers valid: only the hidden character is wrong
            values = {**TOP_OFF_VALUES, **values}
        if case.modal == "topoff":
            values[BlockId.TOPOFF_CHOICE] = {ActionId.TOPOFF_CHOICE: TopOffValue.CONFIGURE}
        response = world.bot.sender.view_submission(view_id, values, user_id=user)
        assert response.status == 200
        assert response.errors is not None and set(response.errors) == {case.block}, response.body
        seen = response.errors[case.block]
        assert not world.slack.view(view_id).closed
    assert seen.startswith(f"The {case.what} contains {describe_character(char)}"), seen
    assert f"Retype the {case.what} without" in seen
    after = snapshot(engine)
    assert after == before, changed_tables(before, after)
    assert world.slack.calls() == [], [call.method for call in world.slack.calls()]
    assert "Traceback" not in caplog.text
    assert not [record for record in caplog.records if record.levelno >= logging.WARNING or record.exc_info]
