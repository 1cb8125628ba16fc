"""``datastore-bot demo``: the whole bot in one command, on a local Confluence site and a local Slack stand-in.

It starts the fakes, runs the real ``datastore-bot serve`` against them (a subprocess with its own environment,
a temporary DATA_DIR with the embedded SQLite default, a random signing secret, a free port), then plays
Slack: the signed ``/datastore create demo-wiki`` slash command, every wizard step answered from the view the
bot opened, Atlassian's consent followed in a "browser", the threaded progress message shown as the bot
updates it, the ✅ reply, and a ``/datastore search``. Exit 0; 1 with one line when a step fails; 130 on Ctrl-C
(or SIGTERM).
The serve subprocess and the fakes are always stopped.
"""

from __future__ import annotations

import logging
import shutil
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import TextIO

import httpx

from demo.console import Output, indented
from demo.errors import DemoError
from demo.serve import ServeError
from demo.thread import find_thread, follow, reply_text
from demo.wizard import WizardRun
from demo.world import SITE, SPACES, DemoWorld, demo_world

__all__ = ["DEFAULT_PAGES", "MAX_PAGES", "NAME", "SEARCH_WORD", "main"]

NAME = "demo-wiki"
SEARCH_WORD = "lantern"  # in the titles and bodies of the generated site (demo.fakes.atlassian.storage_xhtml)
DEFAULT_PAGES, MAX_PAGES = 300, 5000
STEP_SECONDS = 15.0
PROG = "datastore-bot demo"


def _sync_seconds(pages: int) -> float:
    """How long the first sync may take before the demo gives up: generous, for a loaded machine."""
    return 60.0 + pages * 0.2


def _search(world: DemoWorld, output: Output) -> None:
    text = f"search {NAME} {SEARCH_WORD}"
    output.heading(f"/datastore {text}")
    before = len(world.slack.calls("response_url"))
    response = world.sender.slash_command(text)
    if response.status != 200:
        raise DemoError(f"the bot answered HTTP {response.status} to /datastore {text}")
    try:
        call = world.slack.wait_for_call("response_url", count=before + 1, timeout=STEP_SECONDS)
    except AssertionError as exc:
        raise DemoError(f"the bot never answered /datastore {text} (waited {STEP_SECONDS:.0f} s)") from exc
    answer = reply_text(world.slack, call.args.get("blocks"), call.args.get("text"))
    if not answer.strip():
        raise DemoError(f"the bot's answer to /datastore {text} was empty")
    output.line(indented(answer))


def _run(output: Output, folder: Path, pages: int, *, approve_consent: bool) -> None:
    output.heading(f"Starting a local Confluence site ({SITE}, {SPACES} spaces, {pages} pages) and a local Slack")
    with demo_world(pages, folder, approve_consent=approve_consent) as world:
        output.line(f"    datastore-bot serve is up · its log: {world.served.log}")
        output.heading(f"/datastore create {NAME} — the wizard, step by step")
        WizardRun(world.slack, world.sender, timeout=STEP_SECONDS).run(NAME, f"{SITE}.atlassian.net", output.step)
        thread, card = find_thread(world.slack, timeout=STEP_SECONDS)
        output.heading("#general")
        output.line(indented(card))
        output.heading("Thread reply, updated live by the bot while the first sync runs")
        with output.live() as show:
            done = follow(world.slack, thread, show, timeout=_sync_seconds(pages))
        output.heading("Thread reply when the sync is done")
        output.line(indented(done))
        if not done.startswith("✅"):
            raise DemoError(f"the first sync did not succeed: {done.splitlines()[0]}")
        _search(world, output)


def main(
    *, pages: int = DEFAULT_PAGES, keep: bool = False, out: TextIO | None = None, approve_consent: bool = True
) -> int:
    """Run the demo; the exit code. ``out``: where it prints (stdout); ``approve_consent=False`` plays a person
    who cancels on Atlassian's consent screen (the demo then fails at that step)."""
    if not 1 <= pages <= MAX_PAGES:
        print(f"{PROG}: --pages must be between 1 and {MAX_PAGES:,} (got {pages})", file=sys.stderr)
        return 2
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.WARNING)  # the demo's own HTTP calls are not news; serve logs to its file
    # `kill` (SIGTERM) stops the demo as Ctrl-C does, so serve and the fakes are stopped then too.
    on_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _interrupt) if on_main_thread else None
    try:
        return _main(pages, keep, Output(out), approve_consent)
    finally:
        root.setLevel(level)
        if on_main_thread:
            signal.signal(signal.SIGTERM, previous)


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def _main(pages: int, keep: bool, output: Output, approve_consent: bool) -> int:
    started = time.monotonic()
    folder = Path(tempfile.mkdtemp(prefix="datastore-bot-demo-"))
    log = folder / "serve.log"
    keep_folder = keep
    try:
        _run(output, folder, pages, approve_consent=approve_consent)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted — serve and the fakes are stopped", file=sys.stderr)
        return 130
    except (DemoError, ServeError, AssertionError, httpx.HTTPError, OSError) as exc:
        keep_folder = True  # the serve log is what explains the failure
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        print(f"{PROG}: {reason} — serve log: {log}", file=sys.stderr)
        return 1
    finally:
        if not keep_folder:
            shutil.rmtree(folder, ignore_errors=True)
    if keep:
        output.line(f"Kept the demo's data folder: {folder}")
    output.line(f"demo finished in {time.monotonic() - started:.1f} s")
    return 0
