"""Class 2's wizard part of issue #11: signed bodies whose wizard parts are broken — private_metadata that is
not JSON, a list, the wrong types, a 3,000-character or control-character id, an unknown id, a tampered step-1
seal; a view without id or hash; button values the bot never put there — sent by the wizard's own owner to
every submission, action, the space picker and view_closed. Generated (fixed seeds). Each: 200 with an ended
view (submissions), an empty option list (picker) or a bare ack (actions, view_closed); no table changed, no
call to the fake Slack, no traceback. The owner's wizard then finishes normally."""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Iterator
from functools import partial
from itertools import islice
from typing import Any

import pytest

from bot.wizard.service import NOT_FOUND
from demo.fakes.slack_state import View
from handlers.ids import ActionId, BlockId, CallbackId, ShareValue, TopOffValue
from tests.backends import sampled
from tests.handlers.conftest import World
from tests.handlers.identity_cases import (
    Refusals,
    closed,
    recorded_wizard_id,
    sees_ended,
    sees_no_options,
    sees_nothing,
    submission,
    suggestion,
    view_action,
)
from tests.handlers.wizard_driver import WizardDriver
from tests.harness import wait_until
from tests.hostile import control_strings, oversized_strings

SEED = 4242
ABSENT = object()
SUBMITTED = [
    CallbackId.WIZARD_NAME,
    CallbackId.WIZARD_CONNECTION_SETUP,
    CallbackId.WIZARD_REVIEW_ACCESS,
    CallbackId.WIZARD_SITE_URL,
    CallbackId.WIZARD_GRANT_ACCESS,
    CallbackId.WIZARD_SUMMARY,
]
#: (action id, selected option or None, button value or None): each acts on the modal's wizard.
MODAL_ACTIONS: list[tuple[str, str | None, str | None]] = [
    (ActionId.TOPOFF_CHOICE, TopOffValue.SKIP, None),
    (ActionId.SHARE_CHOICE, ShareValue.ALL, None),
    (ActionId.TRY_AGAIN, None, "x"),
    (ActionId.CHANGE_SITE, None, "x"),
    (f"{ActionId.USE_SITE}-0", None, "https://other.atlassian.net"),
]


def _unknown_id(rng: random.Random) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(24))


def metadata_cases(wizard_id: str, seed: int = SEED) -> list[tuple[str, object]]:
    """(label, private_metadata) that name no wizard of the owner; ABSENT: the key is left out."""
    rng = random.Random(seed)
    cases: list[tuple[str, object]] = [
        ("absent", ABSENT),
        ("empty", ""),
        ("not-json", "not json {"),
        ("json-list", json.dumps([wizard_id])),
        ("json-string", json.dumps(wizard_id)),
        ("json-number", "5"),
        ("json-null", "null"),
        ("empty-object", "{}"),
        ("id-number", json.dumps({"w": 5})),
        ("id-null", json.dumps({"w": None})),
        ("id-list", json.dumps({"w": [wizard_id]})),
        ("id-object", json.dumps({"w": {"w": wizard_id}})),
        ("id-3000", json.dumps({"w": "a" * 2990})),
        ("id-upper-case", json.dumps({"w": wizard_id.upper()})),
        ("id-unknown", json.dumps({"w": _unknown_id(rng)})),
        ("id-traversal", json.dumps({"w": "../" + wizard_id})),
        ("deep-nesting", "[" * 2990),
        ("metadata-number", 12345),
        ("metadata-object", {"w": wizard_id}),
    ]
    for label, text in islice(control_strings(seed), 0, None, 11):
        cases.append((f"id-{label}", json.dumps({"w": wizard_id[:12] + text})))
    return cases


def _with_metadata(view: View, callback_id: str | None, metadata: object) -> dict[str, Any]:
    data = view.to_json()
    if callback_id is not None:
        data["callback_id"] = callback_id
    if metadata is ABSENT:
        data.pop("private_metadata")
    else:
        data["private_metadata"] = metadata
    return data


def _view_shapes(view: View) -> list[tuple[str, object]]:
    data = view.to_json()
    return [
        ("view-without-id", {k: v for k, v in data.items() if k != "id"}),
        ("view-without-id-and-hash", {k: v for k, v in data.items() if k not in ("id", "hash")}),
        ("view-id-number", {**data, "id": 7}),
        ("view-list", [data]),
        ("no-view", None),
    ]


def wizard_id_values(wizard_id: str, seed: int = SEED) -> list[tuple[str, object]]:
    """Button values where the bot puts a wizard id (Resume, Start over, Continue setup)."""
    rng = random.Random(seed + 1)
    values: list[tuple[str, object]] = [
        ("absent", None),
        ("empty", ""),
        ("number", 5),
        ("list", [wizard_id]),
        ("3000", "b" * 3000),
        ("unknown", _unknown_id(rng)),
        ("upper-case", wizard_id.upper()),
        ("the-modals-own", wizard_id),
    ]
    values += [(f"ctrl-{label}", wizard_id + text) for label, text in islice(control_strings(seed), 3, None, 23)]
    return values


def site_values(seed: int = SEED) -> list[tuple[str, object]]:
    values: list[tuple[str, object]] = [
        ("absent", None),
        ("empty", ""),
        ("number", 5),
        ("javascript", "javascript:alert(1)"),
        ("not-offered", "https://acme.atlassian.net"),
        ("elsewhere", "https://evil.example/login"),
    ]
    values += [(f"long-{label}", text) for label, text in islice(oversized_strings(seed), 3)]
    values += [
        (f"ctrl-{label}", "https://other.atlassian.net" + text)
        for label, text in islice(control_strings(seed), 0, 40, 13)
    ]
    return values


def choice_values() -> list[tuple[str, object]]:
    return [("empty", ""), ("number", 5), ("nul", "skipped\x00"), ("3000", "s" * 3000), ("other", "everything")]


@pytest.fixture
def waiting(world: World) -> Iterator[tuple[WizardDriver, str]]:
    """The default user's wizard at step 4 (consent given), modal open."""
    driver = WizardDriver(world)
    driver.connect("odd-bodies", "acme")
    assert driver.callback_id() == CallbackId.WIZARD_GRANT_ACCESS
    metadata = json.loads(driver.view.private_metadata)
    yield driver, str(metadata["w"])


def _owner_finishes(driver: WizardDriver) -> None:
    driver.grant(None)
    assert driver.callback_id() == CallbackId.WIZARD_SUMMARY
    assert driver.submit().json == {"response_action": "clear"}


def test_submissions_with_broken_metadata_end_the_modal_and_change_nothing(
    world: World, waiting: tuple[WizardDriver, str], caplog: pytest.LogCaptureFixture
) -> None:
    driver, wizard_id = waiting
    refusals, user = Refusals(world, caplog), driver.user_id
    generated = metadata_cases(wizard_id)
    assert len(SUBMITTED) * len(generated) >= 120
    cases = sampled(generated, world.bot.services.engine, every=3)  # all of them on SQLite
    for callback_id in SUBMITTED:
        for label, metadata in cases:
            body = _with_metadata(driver.view, callback_id, metadata)
            send = partial(submission, driver.sender, body, user)
            refusals.check(f"{callback_id}/{label}", send, sees_ended(NOT_FOUND), logged=False)
    assert refusals.count == len(SUBMITTED) * len(cases)
    _owner_finishes(driver)


def test_a_tampered_step_one_seal_records_no_wizard(world: World, caplog: pytest.LogCaptureFixture) -> None:
    driver = WizardDriver(world)
    driver.start("create sealed")
    recorded_wizard_id(world, driver)  # the command's own writes are done before the first snapshot
    sealed = json.loads(driver.view.private_metadata)
    assert {"w", "t", "u", "m"} <= set(sealed) and sealed["u"] == driver.user_id
    unknown = _unknown_id(random.Random(SEED))
    tampered = [
        ("id-swapped", {**sealed, "w": unknown}),
        ("id-and-user-swapped", {**sealed, "w": unknown, "u": "U0SOMEONE"}),
        ("id-swapped-no-mac", {k: v for k, v in {**sealed, "w": unknown}.items() if k != "m"}),
        ("id-swapped-short-mac", {**sealed, "w": unknown, "m": sealed["m"][:8]}),
        ("id-swapped-team-number", {**sealed, "w": unknown, "t": 5}),
    ]
    refusals = Refusals(world, caplog)
    name: dict[str, Any] = {BlockId.NAME: {ActionId.NAME_INPUT: "sealed"}}
    for label, metadata in tampered:
        body = _with_metadata(driver.view, None, json.dumps(metadata))
        body["state"] = {"values": {BlockId.NAME: {ActionId.NAME_INPUT: {"type": "plain_text_input", "value": "x"}}}}
        send = partial(submission, driver.sender, body, driver.user_id)
        refusals.check(f"seal/{label}", send, sees_ended(NOT_FOUND), logged=False)
    assert refusals.count == len(tampered)
    assert driver.submit(name).errors is None


def test_actions_on_a_broken_modal_only_ack(
    world: World, waiting: tuple[WizardDriver, str], caplog: pytest.LogCaptureFixture
) -> None:
    driver, wizard_id = waiting
    refusals, user = Refusals(world, caplog), driver.user_id
    cases = metadata_cases(wizard_id)
    for index, (action_id, selected, value) in enumerate(MODAL_ACTIONS):
        broken = [(label, _with_metadata(driver.view, None, m)) for label, m in cases[index :: len(MODAL_ACTIONS)]]
        for label, view in [*broken, *_view_shapes(driver.view)]:
            send = partial(view_action, driver.sender, view, user, action_id, value=value, selected=selected)
            refusals.check(f"{action_id}/{label}", send, sees_nothing)
    assert refusals.count == len(cases) + len(MODAL_ACTIONS) * len(_view_shapes(driver.view))
    _owner_finishes(driver)


@pytest.mark.postgresql_sample(every=3)
@pytest.mark.parametrize(
    ("action_id", "values"),
    [
        (ActionId.RESUME, wizard_id_values),
        (ActionId.START_OVER, wizard_id_values),
        (ActionId.CONTINUE_SETUP, wizard_id_values),
        (f"{ActionId.USE_SITE}-0", lambda _w: site_values()),
        (ActionId.TOPOFF_CHOICE, lambda _w: choice_values()),
        (ActionId.SHARE_CHOICE, lambda _w: choice_values()),
        (ActionId.RECONNECT, lambda _w: [*choice_values(), ("minus", "-1"), ("huge", "9" * 40), ("wide", "１２")]),
    ],
    ids=["resume", "start-over", "continue-setup", "use-site", "top-off", "share", "reconnect"],
)
def test_button_values_the_bot_never_set_only_ack(
    world: World, waiting: tuple[WizardDriver, str], caplog: pytest.LogCaptureFixture, action_id: str, values: Any
) -> None:
    driver, wizard_id = waiting
    refusals, user = Refusals(world, caplog), driver.user_id
    cases = values(wizard_id)
    if action_id == ActionId.CONTINUE_SETUP:  # the modal's own id is what the DM's button carries: not odd
        cases = [(label, value) for label, value in cases if value != wizard_id]
    chosen = action_id in (ActionId.TOPOFF_CHOICE, ActionId.SHARE_CHOICE)
    for label, value in cases:
        where = {"selected": value} if chosen else {"value": value}
        send = partial(view_action, driver.sender, driver.view, user, action_id, **where)
        refusals.check(f"{action_id}/{label}", send, sees_nothing)
    if action_id == ActionId.CONTINUE_SETUP:
        send = partial(view_action, driver.sender, driver.view, user, action_id, value=wizard_id, trigger=False)
        refusals.check("continue-setup/no-trigger", send, sees_nothing)
    assert refusals.count >= len(cases) >= 5
    _owner_finishes(driver)


def test_the_space_picker_and_view_closed_with_broken_bodies(
    world: World, waiting: tuple[WizardDriver, str], caplog: pytest.LogCaptureFixture
) -> None:
    driver, wizard_id = waiting
    refusals, user = Refusals(world, caplog), driver.user_id
    cases = sampled(metadata_cases(wizard_id), world.bot.services.engine, every=3)  # all of them on SQLite
    for label, metadata in cases:
        view = _with_metadata(driver.view, None, metadata)
        pick = partial(suggestion, driver.sender, view, user, ActionId.SPACES, BlockId.SPACES, "Space")
        refusals.check(f"spaces/{label}", pick, sees_no_options)
        refusals.check(f"view_closed/{label}", partial(closed, driver.sender, view, user), sees_nothing)
    queries: list[tuple[str, object]] = [("number", 5), ("list", ["x"]), ("absent", None)]
    queries += list(islice(control_strings(SEED), 0, None, 7)) + list(islice(oversized_strings(SEED), 4))
    for label, query in queries:
        pick = partial(suggestion, driver.sender, driver.view, user, ActionId.SPACES, BlockId.SPACES, query)
        refusals.check(f"spaces-query/{label}", pick, _some_options, logged=False)
    assert refusals.count == 2 * len(cases) + len(queries)
    _owner_finishes(driver)


def _some_options(response: Any) -> None:
    answer = response.json
    assert isinstance(answer, dict) and isinstance(answer.get("options"), list), response.body


@pytest.mark.parametrize("error", ["not_found", "hash_conflict"])
def test_a_redraw_of_a_modal_closed_or_redrawn_meanwhile_is_left_alone(
    world: World, caplog: pytest.LogCaptureFixture, error: str
) -> None:
    """The person closed the modal (or another click redrew it) while a click was on its way: views.update
    answers not_found / hash_conflict. Nothing is retried, nobody is told "something went wrong"."""
    caplog.set_level(logging.INFO)
    driver = WizardDriver(world)
    driver.connect("closed-modal", "acme")
    world.slack.fail("views.update", error)
    calls = len(world.slack.calls())
    driver.click(ActionId.SHARE_CHOICE, selected_option=ShareValue.ALL)
    wait_until(lambda: any("the modal was closed or changed meanwhile" in r.getMessage() for r in caplog.records))
    made = [call.method for call in world.slack.calls()[calls:]]
    assert made == ["views.update"] and world.slack.pending_faults("views.update") == 0
    assert not [r for r in caplog.records if r.exc_info is not None or r.levelno >= logging.ERROR]
    assert world.slack.dms(driver.user_id) == []
    _owner_finishes(driver)
