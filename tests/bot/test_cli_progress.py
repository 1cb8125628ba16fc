"""The progress display of `datastore-bot sync`: a rich bar that ends at 100% when the run ends Synced, plain
lines when the output is not a terminal, and log lines written above the bar instead of over it."""

from __future__ import annotations

import io
import logging
import threading
from collections.abc import Iterator

import pytest

from bot import cli_progress
from bot.cli_progress import Counts, SyncProgress, plain_line

METADATA = Counts("syncing_metadata", "running", None, 1, 4, 120, 0, 0, 0, 0)
HALF = Counts("processing", "running", None, 4, 4, 400, 200, 400, 198, 2)
SYNCED = Counts("synced", "finished", "synced", 4, 4, 400, 398, 400, 396, 2)  # 2 unchanged: still 100%


class Script:
    """Answers the looks with ``counts`` in turn (the last one from then on); ``step`` lets the next look go."""

    def __init__(self, *counts: Counts) -> None:
        self.counts, self.looks = list(counts), 0
        self.seen = threading.Event()

    def __call__(self) -> Counts:
        self.looks += 1
        if self.looks > 3:
            self.seen.set()
        return self.counts.pop(0) if len(self.counts) > 1 else self.counts[0]


@pytest.fixture(autouse=True)
def quick(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(cli_progress, "LOOK_EVERY", 0.01)
    monkeypatch.setattr(cli_progress, "PLAIN_EVERY", 0.0)
    yield


def test_plain_lines_when_not_a_terminal_and_a_final_one_at_100_percent() -> None:
    out = io.StringIO()
    script = Script(METADATA, METADATA, HALF, HALF, SYNCED)
    with SyncProgress("eng-wiki", script, out=out, terminal=False).shown():
        assert script.seen.wait(10)
    lines = out.getvalue().splitlines()
    assert "eng-wiki: syncing metadata · 1/4 spaces · 120 pages found" in lines
    assert any(line.startswith("eng-wiki: processing 200/400 (50%) · 2 failed · ") for line in lines)
    assert lines[-1].startswith("eng-wiki: synced 400/400 (100%) · 2 failed · ")
    assert "\r" not in out.getvalue() and "\x1b" not in out.getvalue()


def test_the_bar_reaches_100_percent_when_the_run_ends_synced() -> None:
    out = io.StringIO()
    script = Script(METADATA, HALF, SYNCED)
    with SyncProgress("eng-wiki", script, out=out, terminal=True).shown():
        assert script.seen.wait(10)
    final = out.getvalue().splitlines()[-1]
    assert "eng-wiki: synced" in final and "400/400" in final and "100%" in final and "2 failed" in final


def test_a_run_stopped_halfway_shows_where_it_stopped() -> None:
    out = io.StringIO()
    script = Script(HALF)
    with SyncProgress("eng-wiki", script, out=out, terminal=False).shown():
        assert script.seen.wait(10)
    assert out.getvalue().splitlines()[-1].startswith("eng-wiki: processing 200/400 (50%)")


def test_rate_and_eta_count_only_pages_processed_since_the_command_started() -> None:
    progress = SyncProgress("eng-wiki", lambda: HALF, out=io.StringIO(), terminal=False)
    progress._begin()
    started = progress._started
    later = Counts("processing", "running", None, 4, 4, 400, 300, 400, 298, 2)
    assert progress.rate(later, started + 10) == pytest.approx(10.0)  # 100 pages in 10 s, not 298
    assert plain_line("eng-wiki", later, 10.0).endswith("· 10 pages/s · ETA 0:00:10")
    assert progress.rate(METADATA, started + 10) == 0.0


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_log_lines_go_above_the_bar_through_its_console() -> None:
    """A log handler writing to the terminal writes through rich's console while the bar is live (the bar is
    drawn again below it), and gets its own stream back afterwards."""
    terminal = Terminal()
    handler = logging.StreamHandler(terminal)
    root = logging.getLogger()
    root.addHandler(handler)
    out = io.StringIO()
    script = Script(HALF, SYNCED)
    try:
        with SyncProgress("eng-wiki", script, out=out, terminal=True).shown():
            logging.getLogger("datastore_bot.test").warning("a line while the bar is live")
            assert script.seen.wait(10)
        logging.getLogger("datastore_bot.test").warning("a line afterwards")
    finally:
        root.removeHandler(handler)
    assert "a line while the bar is live" in out.getvalue()
    assert "a line while the bar is live" not in terminal.getvalue()
    assert terminal.getvalue() == "a line afterwards\n"
    assert handler.stream is terminal


def listing(done: int, estimate: int) -> Counts:
    """A one-pass listing ``done`` pages in, against Confluence's estimate (0: none)."""
    return Counts("processing", "running", None, 1, 4, done, done, estimate, done, 0, estimated=True)


def test_while_the_listing_goes_the_total_is_said_to_be_an_estimate() -> None:
    assert plain_line("eng-wiki", listing(1_200, 10_000), 100.0).startswith(
        "eng-wiki: processing 1,200/about 10,000 (12%) · 0 failed · 100 pages/s · ETA 0:01:28"
    )


def test_an_estimate_the_listing_outgrows_follows_the_count_instead_of_capping_it() -> None:
    line = plain_line("eng-wiki", listing(10_500, 10_000), 100.0)
    assert line.startswith("eng-wiki: processing 10,500/about 10,500 (100%)") and "ETA" not in line


def test_without_an_estimate_the_listing_shows_a_running_count() -> None:
    line = plain_line("eng-wiki", listing(1_200, 0), 50.0)
    assert line == "eng-wiki: processing 1,200 so far · 0 failed · 50 pages/s"


@pytest.mark.parametrize(("counts", "shown"), [(listing(300, 1_000), "300/1000"), (listing(300, 0), "300")])
def test_the_bar_counts_against_the_estimate_or_runs_without_a_total(counts: Counts, shown: str) -> None:
    out = io.StringIO()
    script = Script(counts)
    with SyncProgress("eng-wiki", script, out=out, terminal=True).shown():
        assert script.seen.wait(10)
    final = out.getvalue().splitlines()[-1]
    assert "eng-wiki: processing" in final and shown in final
    assert ("%" in final) == (counts.total > 0)
