"""The HTTP server end to end: the bot served over real sockets against the fake Slack Web API."""

from __future__ import annotations

import httpx
import pytest

from handlers.ids import CallbackId
from storage.db import make_engine
from tests.harness import RunningBot


def test_healthz_checks_the_database(bot: RunningBot) -> None:
    response = httpx.get(f"{bot.url}/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}
    assert httpx.post(f"{bot.url}/healthz").status_code == 405


def test_healthz_is_503_when_the_database_is_unreachable() -> None:
    from bot.web import Router, start_http_server

    engine = make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    server = start_http_server(Router(slack=lambda environ, start: [b""], engine=engine, signing_secret="s"))
    try:
        response = httpx.get(f"http://127.0.0.1:{server.port}/healthz")
        assert response.status_code == 503
        assert response.json()["database"] == "unreachable"
    finally:
        server.close()
        engine.dispose()


@pytest.mark.parametrize("sign", ["unsigned", "bad_signature", "stale"])
def test_requests_not_signed_by_slack_are_rejected(bot: RunningBot, sign: str) -> None:
    response = bot.sender.slash_command("help", sign=sign)  # type: ignore[arg-type]
    assert response.status == 401
    assert bot.slack.calls("views.open") == []


def test_help_is_an_ephemeral_list_of_subcommands(bot: RunningBot) -> None:
    response = bot.sender.slash_command("help")
    assert response.status == 200
    body = response.json
    assert body is not None and body["response_type"] == "ephemeral"
    assert "/datastore create" in body["text"] and "/datastore help" in body["text"]
    empty = bot.sender.slash_command("")
    assert empty.json is not None and "/datastore create" in empty.json["text"]


def test_unknown_subcommand_gets_help_with_did_you_mean(bot: RunningBot) -> None:
    body = bot.sender.slash_command("craete eng-wiki").json
    assert body is not None
    assert "I don't know `/datastore craete`" in body["text"]
    assert "Did you mean `/datastore create`?" in body["text"]
    assert "/datastore help" in body["text"]


def test_unbalanced_quotes_get_a_clear_message(bot: RunningBot) -> None:
    body = bot.sender.slash_command('create "Eng Wiki').json
    assert body is not None and "a quote is not closed" in body["text"]


def test_create_opens_the_first_wizard_step_within_the_trigger_lifetime(bot: RunningBot) -> None:
    response = bot.sender.slash_command("create eng-wiki")
    assert response.status == 200 and response.body == ""
    call = bot.slack.wait_for_call("views.open", timeout=20)
    assert call.response["ok"] is True  # the fake Slack refuses a trigger_id used after its 3 s
    view = bot.slack.view(call.response["view"]["id"])
    assert view.callback_id == CallbackId.WIZARD_NAME
    assert "eng-wiki" in str(view.blocks)


def test_app_home_is_published_when_opened(bot: RunningBot) -> None:
    response = bot.sender.app_home_opened()
    assert response.status == 200
    call = bot.slack.wait_for_call("views.publish", timeout=3)
    assert call.response["ok"] is True
    home = bot.slack.home_view(bot.slack.default_user_id)
    assert home is not None and "Create datastore" in str(home.blocks)


def test_unknown_paths_and_an_empty_oauth_callback(bot: RunningBot) -> None:
    assert httpx.get(f"{bot.url}/nope").status_code == 404
    callback = httpx.get(f"{bot.url}/oauth/confluence/callback")
    assert callback.status_code == 400
    assert "text/html" in callback.headers["content-type"]
