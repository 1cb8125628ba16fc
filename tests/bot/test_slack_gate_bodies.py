"""Class 2 of issue #11, the part the gate answers: a signed body Slack would never send gets a 400.

A deterministic part of tests/malformed.py (all framing cases: bytes, content types, JSON and form framing;
a third of the required fields removed or mistyped; every id attack on rotating paths — tests/bot/
test_slack_body.py parses all of them), signed with the real secret so it passes class 1, through real HTTP.
Each: 400 with a fixed JSON body, no table changed, no call to the fake Slack, one log line naming the
status without a traceback or anything from the body.
"""

from __future__ import annotations

import pytest

from demo.fakes import slack_bodies
from tests.corpus import Corpus, log_lines
from tests.harness import SIGNING_SECRET
from tests.malformed import OVER_HTTP, Malformed

#: Every case on SQLite; every fourth also on PostgreSQL (the gate and these listeners answer before any
#: query, so the backend changes nothing they decide; tests/backends.py).
pytestmark = pytest.mark.postgresql_sample(every=4)


@pytest.mark.parametrize("case", OVER_HTTP, ids=[case.label for case in OVER_HTTP])
def test_a_signed_body_slack_never_sends_gets_400(
    corpus: Corpus, caplog: pytest.LogCaptureFixture, case: Malformed
) -> None:
    body, content_type = case.build(corpus.bot.slack)
    headers: dict[str, str | bytes] = dict(slack_bodies.signed_headers(SIGNING_SECRET, body))
    if content_type is not None:
        headers["Content-Type"] = content_type
    response = corpus.run(caplog, body, headers, status=400)
    assert response.json() == {"ok": False, "error": "bad_request"}
    lines = log_lines(caplog, "bot.slack_gate")
    assert len(lines) == 1 and ": 400, " in lines[0], lines
    assert "\x00" not in lines[0] and "DROP" not in lines[0] and "UUUUUUUUUU" not in lines[0]
