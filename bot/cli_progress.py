"""The progress of `datastore-bot sync`: a rich progress bar (counts, rate, ETA) on a terminal, plain lines
every few seconds and a final one otherwise (a pipe, a file, CI).

It reads the run's counters from the database, as the Slack thread does, in a thread of its own while the
engine drives the run in the foreground. While the bar is on screen, log lines go through rich's console
(above the bar) instead of drawing over it."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TextIO

from rich.console import Console
from rich.file_proxy import FileProxy
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)

from storage.models import SyncRun
from storage.states import RunOutcome, RunState

__all__ = ["PLAIN_EVERY", "Counts", "SyncProgress", "plain_line"]

#: Seconds between two plain progress lines when the output is not a terminal.
PLAIN_EVERY = 5.0
#: Seconds between two looks at the run's counters.
LOOK_EVERY = 0.5
METADATA = ("initializing", "syncing_metadata")


@dataclass(frozen=True)
class Counts:
    """What one look at the run found."""

    phase: str
    state: str
    outcome: str | None
    spaces_done: int
    spaces_total: int
    found: int
    done: int  # processed + failed
    total: int  # to process
    processed: int
    failed: int
    estimated: bool = False  # ``total`` is Confluence's estimate (0: none) while a one-pass listing goes

    @classmethod
    def of(cls, run: SyncRun) -> Counts:
        return cls(
            phase=run.phase,
            state=run.state,
            outcome=run.outcome,
            spaces_done=run.spaces_done,
            spaces_total=run.spaces_total,
            found=run.found,
            done=run.processed + run.failed,
            total=run.to_process,
            processed=run.processed,
            failed=run.failed,
            estimated=run.total_estimated,
        )

    @property
    def metadata(self) -> bool:
        return self.phase in METADATA

    @property
    def complete(self) -> bool:
        """Finished Synced (or partially): the bar shows every page as done."""
        return self.state == RunState.FINISHED and self.outcome in (RunOutcome.SYNCED, RunOutcome.PARTIALLY_SYNCED)

    def measure(self) -> tuple[int, int | None]:
        """(done, total) as the displays show them: every page done once Synced; while the total is Confluence's
        estimate, the running count against it, never short of the count (no total without an estimate)."""
        if self.complete:
            return max(self.total, 1), max(self.total, 1)
        if self.estimated:
            return self.done, max(self.total, self.done) if self.total > 0 else None
        return min(self.done, self.total), self.total


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def plain_line(name: str, counts: Counts, rate: float) -> str:
    """``eng-wiki: processing 4,200/10,000 (42%) · 3 failed · 850 pages/s · ETA 0:00:07``."""
    if counts.metadata:
        return (
            f"{name}: syncing metadata · {counts.spaces_done}/{counts.spaces_total} spaces · "
            f"{counts.found:,} pages found"
        )
    phase = counts.phase.replace("_", " ")
    done, total = counts.measure()
    if total is None:
        return f"{name}: {phase} {done:,} so far · {counts.failed:,} failed · {rate:,.0f} pages/s"
    eta = f" · ETA {_duration((total - done) / rate)}" if rate > 0 and done < total else ""
    about = "about " if counts.estimated else ""
    return (
        f"{name}: {phase} {done:,}/{about}{total:,} ({100 * done // max(total, 1)}%) · "
        f"{counts.failed:,} failed · {rate:,.0f} pages/s{eta}"
    )


class SyncProgress:
    """Shows the run ``run_id`` of datastore ``name`` until :meth:`stop`; ``look`` reads its counters."""

    def __init__(self, name: str, look: Callable[[], Counts | None], *, out: TextIO, terminal: bool) -> None:
        self.name, self.look, self.out, self.terminal = name, look, out, terminal
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._started = time.monotonic()
        self._base: tuple[float, int] | None = None  # when this command started, and the pages processed then
        self._last: Counts | None = None

    def rate(self, counts: Counts, now: float) -> float:
        """Pages a second since this command started (pages a resumed run processed before do not count)."""
        if counts.metadata:
            return 0.0
        if self._base is None:
            self._base = (self._started, counts.processed)
        since, base = self._base
        return (counts.processed - base) / (now - since) if now > since else 0.0

    def _begin(self) -> None:
        self._started = time.monotonic()
        first = self.look()
        self._base = (self._started, first.processed) if first is not None else None

    # --- the two displays -----------------------------------------------------------------------------------
    def _plain(self) -> None:
        shown_at = 0.0
        while not self._stop.wait(LOOK_EVERY):
            counts = self.look()
            now = time.monotonic()
            if counts is not None:
                self._last = counts
                rate = self.rate(counts, now)
                if now - shown_at >= PLAIN_EVERY:
                    print(plain_line(self.name, counts, rate), file=self.out, flush=True)
                    shown_at = now

    def _bar(self, progress: Progress, task: TaskID) -> None:
        while not self._stop.wait(LOOK_EVERY):
            counts = self.look()
            if counts is not None:
                self._last = counts
                self._show(progress, task, counts)

    def _show(self, progress: Progress, task: TaskID, counts: Counts) -> None:
        if counts.metadata:
            progress.update(
                task,
                description=f"{self.name}: metadata {counts.spaces_done}/{counts.spaces_total} spaces",
                total=None,
                completed=counts.found,
                failed=f"{counts.found:,} pages found",
            )
            return
        done, total = counts.measure()
        progress.update(
            task,
            description=f"{self.name}: {counts.phase.replace('_', ' ')}",
            total=total,
            completed=done,
            failed=f"{counts.failed:,} failed",
            rate=f"{self.rate(counts, time.monotonic()):,.0f} pages/s",
        )

    @contextmanager
    def shown(self) -> Iterator[None]:
        """The display, live for the body; ends with a final look (the bar at 100% when the run is Synced,
        or a last plain line)."""
        self._begin()
        if not self.terminal:
            self._thread = threading.Thread(target=self._plain, name="sync-progress", daemon=True)
            self._thread.start()
            try:
                yield
            finally:
                self._finish()
                counts = self.look() or self._last
                if counts is not None:
                    print(plain_line(self.name, counts, self.rate(counts, time.monotonic())), file=self.out)
            return
        console = Console(file=self.out)
        progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[failed]}"),
            TextColumn("{task.fields[rate]}"),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        task = progress.add_task(f"{self.name}: starting", total=None, failed="", rate="")
        with progress, _logs_through(console):
            self._thread = threading.Thread(target=self._bar, args=(progress, task), name="sync-progress", daemon=True)
            self._thread.start()
            try:
                yield
            finally:
                self._finish()
                counts = self.look() or self._last
                if counts is not None:
                    self._show(progress, task, counts)
                progress.refresh()

    def _finish(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)


@contextmanager
def _logs_through(console: Console) -> Iterator[None]:
    """While the bar is live, the root logger's terminal handlers write through ``console``, above the bar
    (a log going to a file is left alone)."""
    handlers = [
        h
        for h in logging.getLogger().handlers
        if type(h) is logging.StreamHandler and getattr(h.stream, "isatty", lambda: False)()
    ]
    streams = [h.setStream(FileProxy(console, h.stream)) for h in handlers]
    try:
        yield
    finally:
        for handler, stream in zip(handlers, streams, strict=True):
            if stream is not None:
                handler.setStream(stream)
