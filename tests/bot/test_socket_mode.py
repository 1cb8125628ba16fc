"""Socket Mode end to end: a real `serve` with SLACK_APP_TOKEN asks the fake Slack for a websocket URL
(``apps.connections.open``), connects to the fake Socket Mode endpoint, and answers slash commands sent over it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.crypto import generate_key
from demo.fakes.atlassian import FakeAtlassian, SiteConfig, SiteSpec
from demo.fakes.slack_api import FakeSlack
from demo.fakes.slack_socket import FakeSocketMode
from tests.harness import free_port
from tests.served import Served, serve, serve_environment


@pytest.fixture
def socket_bot(fake_slack: FakeSlack, tmp_path: Path) -> Iterator[tuple[FakeSocketMode, Served]]:
    port, app_token = free_port(), sorted(fake_slack.app_tokens)[0]
    spec = SiteSpec(spaces=1, pages_per_space=1, blogposts_per_space=0)
    with FakeAtlassian(sites=[SiteConfig(name="acme", spec=spec)]) as atlassian, FakeSocketMode(fake_slack) as socket:
        database_url = f"sqlite:///{tmp_path / 'socket.db'}"
        env = serve_environment(fake_slack, atlassian, database_url, port, generate_key(), SLACK_APP_TOKEN=app_token)
        with serve(env, port, tmp_path / "serve.log") as served:
            socket.wait_for_connection()
            yield socket, served


def test_serve_connects_over_socket_mode_with_the_app_token(
    socket_bot: tuple[FakeSocketMode, Served], fake_slack: FakeSlack
) -> None:
    opened = fake_slack.calls("apps.connections.open")
    assert opened and opened[0].ok and opened[0].token == sorted(fake_slack.app_tokens)[0]
    assert "Socket Mode" in socket_bot[1].output()


def test_a_slash_command_over_the_socket_is_acked_and_answered(
    socket_bot: tuple[FakeSocketMode, Served], fake_slack: FakeSlack
) -> None:
    socket, _served = socket_bot
    envelope_id = socket.slash_command("help")
    ack = socket.wait_for_ack(envelope_id)
    assert ack.envelope_id == envelope_id and not ack.late
    answers = fake_slack.ephemerals(fake_slack.default_channel_id, fake_slack.default_user_id)
    assert len(answers) == 1 and "/datastore create" in answers[0].text + str(answers[0].blocks)
    assert socket.unreadable() == []


def test_a_command_that_opens_a_modal_over_the_socket_opens_it(
    socket_bot: tuple[FakeSocketMode, Served], fake_slack: FakeSlack
) -> None:
    socket, _served = socket_bot
    ack = socket.wait_for_ack(socket.slash_command("create eng-wiki"))
    assert not ack.late
    opened = fake_slack.wait_for_call("views.open", timeout=20)
    assert opened.ok, opened.response
    assert fake_slack.open_views(fake_slack.default_user_id)
