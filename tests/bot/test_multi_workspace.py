"""Multi-workspace mode: "Add to Slack" stores installations with slack-sdk's SQLAlchemy stores."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import inspect

from demo.fakes.slack_api import FakeSlack
from tests.harness import free_port, running_bot

CLIENT_ID = "111.222"
CLIENT_SECRET = "slack-client-secret"


def test_add_to_slack_then_commands_use_the_installed_token(fake_slack: FakeSlack, database_url: str) -> None:
    fake_slack.installs.register_app(CLIENT_ID, CLIENT_SECRET)
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    with running_bot(
        fake_slack,
        database_url,
        port=port,
        public_url=public,
        slack_bot_token=None,
        slack_client_id=CLIENT_ID,
        slack_client_secret=CLIENT_SECRET,
    ) as bot:
        tables = set(inspect(bot.services.engine).get_table_names())
        assert {"slack_installations", "slack_bots", "slack_oauth_states"} <= tables

        with httpx.Client(base_url=public) as browser:
            page = browser.get("/slack/install")
            assert page.status_code == 200
            match = re.search(r"state=([\w-]+)", page.text)
            assert match is not None and f"client_id={CLIENT_ID}" in page.text
            code = fake_slack.installs.issue_code(
                fake_slack.default_user_id, redirect_uri=f"{public}/slack/oauth_redirect"
            )
            # Bolt's state cookie is Secure; browsers send it to http://127.0.0.1 (a secure context), httpx won't.
            cookie = page.headers["set-cookie"].split(";")[0]
            done = browser.get(
                "/slack/oauth_redirect", params={"code": code, "state": match.group(1)}, headers={"Cookie": cookie}
            )
            assert done.status_code == 200, done.text
        assert len(fake_slack.installs.installed_tokens) == 1
        installed = fake_slack.installs.installed_tokens[0]

        reply = bot.sender.slash_command("help")
        assert reply.status == 200 and reply.json is not None and "/datastore create" in reply.json["text"]
        assert any(call.token == installed for call in fake_slack.calls("auth.test"))
        bot.sender.close()


def test_serve_needs_no_bot_token_when_installs_are_configured(monkeypatch: object) -> None:
    from bot.settings import Settings

    settings = Settings(_env_file=None, slack_signing_secret="s", slack_client_id="1.2", slack_client_secret="x")
    settings.require_for_serve()
    assert settings.multi_workspace
