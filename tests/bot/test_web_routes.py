"""Each route's own rule (bot/web.py) and the body cap (bot/http_body.py), through real HTTP.

/slack/events takes POST only and bodies up to 1 MiB (413 above, with or without a Content-Length); the
browser routes take GET only, a query of at most 8 KiB (414), each field once and without control
characters (400, a human page); an unknown path is 404. Nothing is written and nothing sent to Slack.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlencode

import pytest

from bot.http_body import MAX_BODY_BYTES, MAX_QUERY_BYTES, SERVER_BODY_LIMIT
from demo.fakes import slack_bodies
from demo.fakes.slack_api import FakeSlack
from tests.corpus import Corpus, log_lines, raw_request
from tests.harness import SIGNING_SECRET, free_port, running_bot

TOO_LARGE = {"ok": False, "error": "body_too_large"}


def _signed(body: bytes, content_type: str = slack_bodies.FORM) -> dict[str, str | bytes]:
    return {"Content-Type": content_type, **slack_bodies.signed_headers(SIGNING_SECRET, body)}


def _help_command_of_size(slack: FakeSlack, size: int) -> bytes:
    """`/datastore help` whose channel_name (a field the bot does not read) pads it to exactly ``size`` bytes."""
    fields = slack_bodies.command(slack, "help")
    base = len(urlencode(fields).encode())
    fields["channel_name"] += "x" * (size - base)
    body = urlencode(fields).encode()
    assert len(body) == size
    return body


def test_a_body_exactly_at_the_cap_is_read_and_answered(corpus: Corpus, caplog: pytest.LogCaptureFixture) -> None:
    body = _help_command_of_size(corpus.bot.slack, MAX_BODY_BYTES)
    response = corpus.run(caplog, body, _signed(body), status=200)
    assert "/datastore create" in response.json()["text"]
    assert response.json()["response_type"] == "ephemeral"


@pytest.mark.parametrize(
    ("label", "size", "chunked"),
    [
        ("one-byte-over", MAX_BODY_BYTES + 1, False),
        ("one-byte-over-chunked", MAX_BODY_BYTES + 1, True),
        ("32k-over", MAX_BODY_BYTES + 32 * 1024, False),
        ("32k-over-chunked", MAX_BODY_BYTES + 32 * 1024, True),
    ],
)
def test_a_body_over_the_cap_gets_413_from_the_gate(
    corpus: Corpus, caplog: pytest.LogCaptureFixture, label: str, size: int, chunked: bool
) -> None:
    body = _help_command_of_size(corpus.bot.slack, size)
    response = corpus.run(caplog, body, _signed(body), status=413, chunked=chunked)
    assert response.json() == TOO_LARGE
    lines = log_lines(caplog, "bot.slack_gate")
    assert len(lines) == 1 and "413" in lines[0]


@pytest.mark.parametrize("declared", [SERVER_BODY_LIMIT, SERVER_BODY_LIMIT + 1, 10**12])
def test_a_declared_length_over_the_cap_is_refused_without_reading(
    corpus: Corpus, caplog: pytest.LogCaptureFixture, declared: int
) -> None:
    """Only the headers are sent: waitress refuses on the length alone, before the app or any read."""
    headers = {**_signed(b""), "Content-Length": str(declared)}
    corpus.run(caplog, b"", headers, status=413)


@pytest.mark.parametrize("method", ["GET", "HEAD", "PUT", "DELETE", "PATCH", "OPTIONS"])
def test_slack_events_takes_only_post(corpus: Corpus, caplog: pytest.LogCaptureFixture, method: str) -> None:
    body = b"" if method in ("GET", "HEAD") else b"command=%2Fdatastore"
    response = corpus.run(caplog, body, {}, status=405, method=method)
    assert response.headers["allow"] == "POST"


@pytest.mark.parametrize(("path", "method"), [("/slack/install", "POST"), ("/slack/oauth_redirect", "PUT")])
def test_the_slack_oauth_routes_take_only_get(
    corpus: Corpus, caplog: pytest.LogCaptureFixture, path: str, method: str
) -> None:
    response = corpus.run(caplog, b"", {}, status=405, method=method, target=path)
    assert response.headers["allow"] == "GET"


def _bad_queries() -> Iterator[tuple[str, str, int]]:
    yield "too-long", "state=" + "a" * MAX_QUERY_BYTES, 414
    yield "nul", "state=abc%00def&code=x", 400
    yield "newline", "state=abc%0Adef", 400
    yield "escape", "state=%1B%5B31m", 400
    yield "del", "code=%7F", 400
    yield "c1", "state=%C2%85", 400
    yield "bidi-override", "state=%E2%80%AEtxt", 400
    yield "zero-width", "state=a%E2%80%8Bb", 400
    yield "not-utf8", "state=%FF%FE", 400
    yield "overlong-utf8", "state=%C0%AF", 400
    yield "lone-surrogate", "state=%ED%A0%80", 400
    yield "repeated-state", "state=a&state=b", 400
    yield "too-many-fields", "&".join(f"f{i}=1" for i in range(100)), 400


@pytest.mark.parametrize("path", ["/oauth/confluence/callback", "/slack/install", "/slack/oauth_redirect"])
@pytest.mark.parametrize(("label", "query", "status"), list(_bad_queries()), ids=[c[0] for c in _bad_queries()])
def test_a_broken_query_on_a_browser_route_gets_a_page_and_changes_nothing(
    corpus: Corpus, caplog: pytest.LogCaptureFixture, path: str, label: str, query: str, status: int
) -> None:
    response = corpus.run(caplog, b"", {}, status=status, method="GET", target=f"{path}?{query}")
    assert response.headers["content-type"].startswith("text/html")
    assert "Start again from Slack" in response.text
    assert query[:30] not in response.text


@pytest.mark.parametrize(
    "query",
    ["", "state=unknown&code=abc", "code=abc", "error=access_denied&state=x" * 3, "state=" + "b" * 4000],
)
def test_the_confluence_callback_needs_a_state_it_issued(
    corpus: Corpus, caplog: pytest.LogCaptureFixture, query: str
) -> None:
    response = corpus.run(caplog, b"", {}, status=400, method="GET", target=f"/oauth/confluence/callback?{query}")
    assert response.headers["content-type"].startswith("text/html")


@pytest.mark.parametrize("path", ["/", "/slack", "/slack/events/", "/slack/../healthz", "/%00", "/x" * 500])
def test_other_paths_are_404(corpus: Corpus, caplog: pytest.LogCaptureFixture, path: str) -> None:
    response = corpus.run(caplog, b"", {}, status=404, method="GET", target=path)
    assert response.json() == {"error": "not_found"}


def test_oauth_redirect_with_a_state_it_never_issued_changes_nothing(
    fake_slack: FakeSlack, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Multi-workspace mode: Bolt's "Add to Slack" callback without its state (and cookie) installs nothing."""
    from tests.db_snapshot import snapshot

    fake_slack.installs.register_app("111.222", "slack-client-secret")
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    with running_bot(
        fake_slack,
        database_url,
        port=port,
        public_url=public,
        slack_bot_token=None,
        slack_client_id="111.222",
        slack_client_secret="slack-client-secret",
    ) as bot:
        fake_slack.reset_calls()
        before = snapshot(bot.services.engine)
        for query in ("code=abc&state=never-issued", "code=abc", "state=" + "s" * 7000, "state=%00"):
            answer = raw_request(f"{public}/slack/oauth_redirect?{query}", "GET", headers={"Cookie": "x=1"})
            assert 400 <= answer.status_code < 500, (query, answer.status_code)
        assert snapshot(bot.services.engine) == before
        assert fake_slack.calls() == []
        bot.sender.close()
