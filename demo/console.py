"""The demo's terminal output: steps as lines, the progress message as a live display on a terminal.

On a terminal the progress message is redrawn in place (rich's Live display) as the bot updates it in the fake
Slack; elsewhere (a pipe, a file, CI) every new text of it is printed once, as plain lines. Text is printed
as text: no rich markup or emoji codes are read in it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

from rich.console import Console
from rich.live import Live
from rich.text import Text

__all__ = ["Output", "indented"]

INDENT = "    "


def indented(text: str, prefix: str = INDENT) -> str:
    return "\n".join(prefix + line for line in text.split("\n"))


class Output:
    def __init__(self, file: TextIO | None = None, *, terminal: bool | None = None) -> None:
        stream = file or sys.stdout
        is_tty = stream.isatty() if terminal is None else terminal
        self.console = Console(file=stream, force_terminal=is_tty, soft_wrap=True, highlight=False, emoji=False)
        self.terminal = is_tty

    def heading(self, text: str) -> None:
        self.console.print(Text("▸ " + text, style="bold"))

    def line(self, text: str, style: str | None = None) -> None:
        self.console.print(Text(text, style=style or ""))

    def step(self, text: str) -> None:
        self.console.print(Text(f"  ✓ {text}", style="green" if self.terminal else ""))

    @contextmanager
    def live(self) -> Iterator[Callable[[str], None]]:
        """A function showing the newest text of one message: redrawn in place on a terminal, else printed
        whenever it changed."""
        if not self.terminal:
            shown: list[str] = []

            def show_plain(text: str) -> None:
                if not shown or shown[-1] != text:
                    shown.append(text)
                    self.line(indented(text))

            yield show_plain
            return
        with Live(Text(""), console=self.console, refresh_per_second=10, transient=False) as live:

            def show_live(text: str) -> None:
                live.update(Text(indented(text), style="cyan"))

            yield show_live
