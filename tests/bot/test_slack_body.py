"""bot/slack_body.py and bot/slack_envelopes.py on their own: what Slack sends parses, nothing else does."""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest

from bot.errors import RequestRejected
from bot.slack_body import parse_slack_body, slack_kind
from bot.slack_envelopes import SlackKind, validate_envelope
from demo.fakes import slack_bodies
from demo.fakes.slack_api import FakeSlack
from tests.malformed import MALFORMED, TEMPLATES, Malformed


@pytest.fixture(scope="module")
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.mark.parametrize("kind", list(TEMPLATES))
def test_what_slack_sends_parses_as_its_kind(slack: FakeSlack, kind: str) -> None:
    data = TEMPLATES[kind](slack)
    body, content_type = slack_bodies.encode(kind, data)
    parsed = parse_slack_body(body, content_type)
    assert parsed.fields == data
    assert parsed.kind == (SlackKind.COMMAND if kind == "command" else SlackKind(kind))
    assert slack_kind(parsed.fields) == parsed.kind


def test_form_content_type_parameters_and_case_do_not_matter(slack: FakeSlack) -> None:
    body, _ = slack_bodies.encode("command", TEMPLATES["command"](slack))
    assert parse_slack_body(body, "Application/X-WWW-Form-Urlencoded; charset=UTF-8").kind == SlackKind.COMMAND


def test_a_command_mentioning_payload_is_still_a_command(slack: FakeSlack) -> None:
    """Bolt's own parser reads any form containing "payload" as interactivity; the gate does not."""
    fields = slack_bodies.command(slack, "search eng payload")
    fields["channel_name"] = "payload-team"
    parsed = parse_slack_body(urlencode(fields).encode(), slack_bodies.FORM)
    assert parsed.kind == SlackKind.COMMAND and parsed.fields["text"] == "search eng payload"


def test_ssl_check_and_app_rate_limited_are_known(slack: FakeSlack) -> None:
    assert parse_slack_body(b"ssl_check=1&token=x", slack_bodies.FORM).kind == SlackKind.SSL_CHECK
    limited = {"token": "x", "type": "app_rate_limited", "team_id": "T0TEST", "minute_rate_limited": 1}
    assert parse_slack_body(json.dumps(limited).encode(), slack_bodies.JSON).kind == SlackKind.APP_RATE_LIMITED


def test_optional_enterprise_ids_may_be_empty_or_absent(slack: FakeSlack) -> None:
    fields = slack_bodies.command(slack) | {"enterprise_id": "", "enterprise_name": ""}
    assert parse_slack_body(urlencode(fields).encode(), slack_bodies.FORM).kind == SlackKind.COMMAND
    payload = slack_bodies.block_actions(slack, "x") | {"enterprise": {"id": "E0ORG", "name": "Org"}}
    validate_envelope(SlackKind.BLOCK_ACTIONS, payload)


def test_org_wide_payloads_name_the_team_on_the_user(slack: FakeSlack) -> None:
    payload = slack_bodies.view_submission(slack, "x") | {"team": None}
    validate_envelope(SlackKind.VIEW_SUBMISSION, payload)


@pytest.mark.parametrize("case", MALFORMED, ids=[case.label for case in MALFORMED])
def test_a_body_slack_never_sends_is_refused_with_400(slack: FakeSlack, case: Malformed) -> None:
    body, content_type = case.build(slack)
    with pytest.raises(RequestRejected) as refused:
        parse_slack_body(body, content_type)
    assert refused.value.status == 400
    assert len(refused.value.reason) < 200
    assert "\x00" not in refused.value.reason and "DROP" not in refused.value.reason


def test_the_malformed_corpus_covers_every_family() -> None:
    labels = [case.label for case in MALFORMED]
    assert len(labels) == len(set(labels)) and len(labels) >= 300
    for family in ("not-utf8", "content-type", "json-", "payload-", "form-", "-without-", "-nul", "10000-chars"):
        assert any(family in label for label in labels), family
