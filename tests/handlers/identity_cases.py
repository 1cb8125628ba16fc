"""Foreign identities and refused-request checks for the wizard's generated cases (classes 2 and 6).

A foreign identity shares the owner's user id but not the whole identity: another workspace, the same
workspace under another (or no, or an extra) Enterprise Grid org. Its requests are built here from the fake's
current view or message — as a forged or odd body would carry them — and sent signed, without applying the
bot's answer to the owner's view in the fake. :class:`Refusals` checks each one: the answer, no database
change (every table, nothing ignored), no call to the fake Slack, and no traceback or error in the log.
"""

from __future__ import annotations

import logging
import random
import string
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from bot.errors import RequestRejected
from bot.slack_body import parse_slack_body
from demo.fakes import slack_bodies
from demo.fakes.slack_payloads import state_values
from demo.fakes.slack_requests import BotResponse, SlackRequestSender
from demo.fakes.slack_state import JsonDict, View
from storage.models import Wizard
from tests.db_snapshot import changed_tables, snapshot
from tests.handlers.conftest import World
from tests.handlers.wizard_driver import WizardDriver
from tests.harness import SIGNING_SECRET, wait_until

SEED = 20261106


@dataclass(frozen=True)
class Identity:
    team_id: str
    user_id: str
    enterprise_id: str | None = None
    label: str = "owner"


PLAIN_OWNER = Identity("T0TEST", "U0TESTER")
GRID_OWNER = Identity("T0TEST", "U0GRIDUSER", "E0GRID", label="grid owner")
OWNERS = {"plain": PLAIN_OWNER, "grid": GRID_OWNER}


def recorded_wizard_id(world: World, driver: WizardDriver) -> str:
    """The id of the wizard shown in the driver's modal, once the bot has recorded it."""

    def attached() -> bool:
        with world.bot.services.sessions() as session:
            return session.scalars(select(Wizard).where(Wizard.view_id == driver.view_id)).first() is not None

    wait_until(attached, timeout=10)
    with world.bot.services.sessions() as session:
        return str(session.scalars(select(Wizard.id).where(Wizard.view_id == driver.view_id)).one())


def _slack_id(rng: random.Random, prefix: str) -> str:
    return prefix + "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(9))


def foreign_identities(owner: Identity, seed: int = SEED) -> list[Identity]:
    """Three others with the owner's user id (fixed seed): another team; the same team under another org
    (or, for an owner outside Grid, with an org added); and a mix (another team with the owner's org, or none)."""
    rng = random.Random(f"{seed}:{owner.user_id}")
    other_team, other_org = _slack_id(rng, "T"), _slack_id(rng, "E")
    user = owner.user_id
    if owner.enterprise_id is None:
        return [
            Identity(other_team, user, None, "same user id, another workspace"),
            Identity(owner.team_id, user, other_org, "same team and user, an extra enterprise"),
            Identity(other_team, user, other_org, "same user id, another workspace in an org"),
        ]
    return [
        Identity(owner.team_id, user, other_org, "same team and user, another enterprise"),
        Identity(owner.team_id, user, None, "same team and user, enterprise missing"),
        Identity(other_team, user, owner.enterprise_id, "same user id, another workspace of the same org"),
    ]


def sender_for(world: World, who: Identity) -> SlackRequestSender:
    return SlackRequestSender(
        world.bot.sender.events_url, SIGNING_SECRET, world.slack, team_id=who.team_id, enterprise_id=who.enterprise_id
    )


@contextmanager
def senders(world: World, identities: list[Identity]) -> Iterator[list[tuple[Identity, SlackRequestSender]]]:
    opened = [(who, sender_for(world, who)) for who in identities]
    try:
        yield opened
    finally:
        for _who, sender in opened:
            sender.close()


# ---- raw requests (the answer is not applied to the fake) -------------------------------------------------
def submission(
    sender: SlackRequestSender, view: View | JsonDict, user_id: str, values: dict[str, Any] | None = None
) -> BotResponse:
    """Submit ``view`` (a fake View, with ``values`` typed into it; or the view JSON the body should carry)."""
    view_json = view.to_json() if isinstance(view, View) else view
    if values is not None and isinstance(view, View):
        view_json["state"] = {"values": state_values(view, values)}
    payload = sender.base_payload("view_submission", user_id)
    payload.update(trigger_id=sender.slack.issue_trigger_id(user_id), response_urls=[], view=view_json)
    return sender.post_payload(payload)


def _action(action_id: str, value: Any, selected: Any, block_id: str) -> JsonDict:
    action: JsonDict = {"type": "button", "action_id": action_id, "block_id": block_id, "action_ts": f"{time.time()}"}
    if value is not None:
        action["value"] = value
    if selected is not None:
        action.update(type="radio_buttons", selected_option={"text": {"type": "plain_text", "text": str(selected)}})
        action["selected_option"]["value"] = selected
    return action


def view_action(
    sender: SlackRequestSender,
    view: View | Any,
    user_id: str,
    action_id: str,
    *,
    value: Any = None,
    selected: Any = None,
    block_id: str = "b",
    trigger: bool = True,
) -> BotResponse:
    """A click in ``view`` (a fake View, or whatever JSON the body should carry; None: no view at all)."""
    view_json = view.to_json() if isinstance(view, View) else view
    payload = sender.base_payload("block_actions", user_id)
    if trigger:
        payload["trigger_id"] = sender.slack.issue_trigger_id(user_id)
    if view_json is not None:
        payload["view"] = view_json
        payload["container"] = {"type": "view", "view_id": _view_id(view_json)}
    payload["actions"] = [_action(action_id, value, selected, block_id)]
    return sender.post_payload(payload)


def message_action(
    sender: SlackRequestSender, channel_id: str, ts: str, user_id: str, action_id: str, value: str
) -> BotResponse:
    message = sender.slack.message(channel_id, ts).to_json()
    payload = sender.base_payload("block_actions", user_id)
    payload.update(trigger_id=sender.slack.issue_trigger_id(user_id), message=message, state={"values": {}})
    payload["container"] = {"type": "message", "message_ts": ts, "channel_id": channel_id, "is_ephemeral": False}
    payload["channel"] = {"id": channel_id, "name": "general"}
    payload["response_url"] = sender.slack.new_response_url(channel_id, user_id, message_ts=ts)
    payload["actions"] = [_action(action_id, value, None, "b")]
    return sender.post_payload(payload)


def suggestion(
    sender: SlackRequestSender, view: View | Any, user_id: str, action_id: str, block_id: str, value: Any
) -> BotResponse:
    view_json = view.to_json() if isinstance(view, View) else view
    payload = sender.base_payload("block_suggestion", user_id)
    payload.update(container={"type": "view", "view_id": _view_id(view_json)}, view=view_json)
    payload.update(action_id=action_id, block_id=block_id, value=value, action_ts=f"{time.time()}")
    return sender.post_payload(payload)


def _view_id(view_json: Any) -> Any:
    return view_json.get("id") if isinstance(view_json, dict) else None


def closed(sender: SlackRequestSender, view: View | Any, user_id: str) -> BotResponse:
    view_json = view.to_json() if isinstance(view, View) else view
    payload = sender.base_payload("view_closed", user_id)
    payload.update(view=view_json, is_cleared=False)
    return sender.post_payload(payload)


# ---- what a refusal must look like ------------------------------------------------------------------------
def view_answer(response: BotResponse) -> JsonDict:
    answer = response.json
    assert answer is not None, f"expected a view answer, got {response.body!r}"
    return answer


def sees_errors(block_id: str, text: str) -> Callable[[BotResponse], None]:
    def check(response: BotResponse) -> None:
        assert view_answer(response) == {"response_action": "errors", "errors": {block_id: text}}

    return check


def sees_ended(text: str) -> Callable[[BotResponse], None]:
    def check(response: BotResponse) -> None:
        answer = view_answer(response)
        assert answer.get("response_action") == "update", answer
        assert answer["view"]["callback_id"] == "wizard-ended" and text in str(answer["view"]["blocks"]), answer

    return check


def sees_nothing(response: BotResponse) -> None:
    assert response.body.strip() == "", response.body


def sees_no_options(response: BotResponse) -> None:
    assert response.json == {"options": []}, response.body


def sees_ephemeral(text: str) -> Callable[[BotResponse], None]:
    def check(response: BotResponse) -> None:
        answer = view_answer(response)
        assert answer.get("response_type") == "ephemeral" and text in str(answer.get("text")), answer

    return check


#: Every refusal ends with one log line saying so ("wizard action refused: …", "view_closed … ignored: …",
#: "Reconnect: ignored a button value …").
REFUSAL_WORDS = ("refused:", "ignored:", "ignored a button value")


def _sees_anything(_response: BotResponse) -> None:
    """Nothing to check: the gate answered (its answer is checked where it is recognised)."""


def _gate_refuses(response: BotResponse) -> bool:
    """Whether the gate itself refuses the interactive payload that was sent (parsed as it would parse it)."""
    body, content_type = slack_bodies.encode("interactive", response.sent)
    try:
        parse_slack_body(body, content_type)
    except RequestRejected as refused:
        return refused.status == 400
    return False


class Refusals:
    """Runs refused requests and checks that each changed nothing; counts the cases it checked."""

    def __init__(self, world: World, caplog: pytest.LogCaptureFixture) -> None:
        self.world, self.caplog, self.count = world, caplog, 0
        caplog.set_level(logging.INFO)

    def check(self, label: str, send: Callable[[], Any], sees: Callable[[Any], None], **expect: Any) -> Any:
        """Send once and check the refusal. ``status`` (200) is the HTTP answer expected; ``logged`` (True):
        the bot works after its ack, so its refusal line is waited for before the database is compared.
        ``send`` returns a BotResponse (or an httpx.Response, for the OAuth callback page)."""
        status, logged = expect.get("status", 200), expect.get("logged", True)
        engine = self.world.bot.services.engine
        before, calls, records = snapshot(engine), len(self.world.slack.calls()), len(self.caplog.records)
        response = send()
        got = response.status if isinstance(response, BotResponse) else response.status_code
        if got == 400 and status == 200 and isinstance(response, BotResponse) and _gate_refuses(response):
            # A body Slack never sends (a number for a button value, a view without an id …) stops at the
            # gate (bot/slack_gate.py) with its 400, before any wizard code: no answer to see, no log line to wait.
            assert response.json == {"ok": False, "error": "bad_request"}, (label, response.body)
            sees, logged = _sees_anything, False
        assert got == status or sees is _sees_anything, (
            label,
            got,
            response.text if not isinstance(response, BotResponse) else response.body,
        )
        try:
            sees(response)
        except AssertionError as exc:
            raise AssertionError(f"{label}: {exc}") from None
        if logged:
            wait_until(lambda: any(self._refusal(r) for r in self.caplog.records[records:]), timeout=5)
        after = snapshot(engine)
        assert after == before, f"{label}: changed {changed_tables(before, after)}"
        assert self.world.slack.calls()[calls:] == [], f"{label}: called Slack"
        for record in self.caplog.records[records:]:
            assert record.exc_info is None and record.levelno < logging.ERROR, (label, record.getMessage())
            assert "Traceback" not in record.getMessage(), label
        self.count += 1
        return response

    @staticmethod
    def _refusal(record: logging.LogRecord) -> bool:
        return record.name.startswith(("handlers", "bot")) and any(w in record.getMessage() for w in REFUSAL_WORDS)
