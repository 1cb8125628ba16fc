"""The sync thread's progress reply while a one-pass listing indexes as it lists: Confluence's estimate is said to
be one ("about N"), the bar never claims 100% on it, and without an estimate the reply counts without a bar."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bot.progress.snapshot import ProgressSnapshot
from demo.fakes.slack_blockkit import validate_blocks
from handlers.views.progress import progress_message

WHEN = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
HOSTILE = "<!channel> *wiki* `x` <https://evil.test|click> &amp;"


def _listing(**changes: Any) -> ProgressSnapshot:
    base: dict[str, Any] = dict.fromkeys(
        ("channel_id", "parent_ts", "progress_ts", "reason", "pause_kind", "paused_until", "finished_at", "outcome")
    )
    base.update(
        datastore_id=3, name=HOSTILE, site="acme.atlassian.net", team_id="T1", creator_id="U1", documents=1_200,
        run_id=12, trigger="manual", state="running", phase="processing", spaces_total=4, spaces_done=1,
        found=1_200, to_process=10_000, processed=1_200, unchanged=0, failed=0, deleted=0,
        started_at=WHEN - timedelta(minutes=2), processing_started_at=WHEN - timedelta(seconds=60), now=WHEN,
        failures=(), total_estimated=True,
    )  # fmt: skip
    base.update(changes)
    return ProgressSnapshot(**base)


def _line(message: dict[str, Any]) -> str:
    return str(message["blocks"][0]["text"]["text"])


def _detail(message: dict[str, Any]) -> str:
    return str(message["blocks"][1]["elements"][0]["text"])


def test_the_total_is_said_to_be_confluences_estimate_while_the_listing_goes() -> None:
    message = progress_message(_listing())
    assert validate_blocks(message["blocks"], "message") == []
    assert _line(message) == (
        "*Processing* `▰▱▱▱▱▱▱▱▱▱ 12%` 1,200 of about 10,000 · 0 failed · 20 pages/s · about 7m 20s left"
    )
    assert "1 of 4 spaces listed" in _detail(message)
    assert "the total is Confluence's estimate until every space is listed" in _detail(message)


def test_the_hostile_datastore_name_is_escaped_in_the_notification_text() -> None:
    text = progress_message(_listing())["text"]
    assert "<!channel>" not in text and "<https://evil.test" not in text
    assert text.startswith("&lt;!channel&gt; *wiki* `x` &lt;https://evil.test|click&gt; &amp;amp;: *Processing*")


def test_an_estimate_the_listing_outgrew_is_never_shown_as_done() -> None:
    outgrown = _listing(processed=10_400, found=10_400, documents=10_400)
    line = _line(progress_message(outgrown))
    assert "10,400 of about 10,400" in line and "left" not in line
    assert "▰▰▰▰▰▰▰▰▰▰ 99%" in line  # never 100% on an estimate: it may be short


def test_without_an_estimate_the_reply_counts_without_a_bar() -> None:
    line = _line(progress_message(_listing(to_process=0)))
    assert line == "*Processing* 1,200 pages so far · 0 failed · 20 pages/s"
    assert "about" not in line and "▰" not in line


def test_once_every_space_is_listed_the_total_is_exact() -> None:
    exact = _listing(total_estimated=False, to_process=9_800, spaces_done=4)
    message = progress_message(exact)
    assert "1,200 of 9,800" in _line(message) and "about 9,800" not in _line(message)
    assert "estimate" not in _detail(message)
