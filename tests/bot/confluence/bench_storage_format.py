"""Benchmark: ``python -m tests.bot.confluence.bench_storage_format`` (not collected by pytest).

Converts realistic ~6 KB storage bodies from the fake site generator and prints the median ms/page for
our converter (lxml XML fast path), for converting plus chunking, for BeautifulSoup ``html.parser``
parsing alone (the alternative parser: its cost before any rendering), and for the repair fallback
(bs4 + lxml) that malformed pages take.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable

import bs4

from bot.confluence.storage_format import _repair, to_text
from bot.sync.chunking import chunk
from demo.fakes.atlassian.storage_xhtml import BodyContext, BodyGenerator

PAGES = 200
ROUNDS = 5


def bodies(target: int = 6000) -> list[str]:
    gen = BodyGenerator(seed=7)
    return [
        gen.render(BodyContext(i, 1, f"Page {i}", "ENG", "Glossary", "ENG", f"acc-{i}", target))
        for i in range(1, PAGES + 1)
    ]


def median_ms(fn: Callable[[str], object], docs: list[str]) -> float:
    per_round = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for doc in docs:
            fn(doc)
        per_round.append((time.perf_counter() - start) * 1000 / len(docs))
    return statistics.median(per_round)


def main() -> None:
    docs = bodies()
    size = statistics.mean(len(d.encode()) for d in docs)
    print(f"{len(docs)} pages, mean {size / 1024:.1f} KiB, Python {sys.version.split()[0]}")
    print(f"to_text (lxml XML)           {median_ms(to_text, docs):.3f} ms/page")
    print(f"to_text + chunk (defaults)   {median_ms(lambda d: chunk('T', to_text(d).text), docs):.3f} ms/page")
    print(f"bs4 html.parser, parse only  {median_ms(lambda d: bs4.BeautifulSoup(d, 'html.parser'), docs):.3f} ms/page")
    print(f"repair fallback (bs4 + lxml) {median_ms(lambda d: to_text('<p>a < b</p>' + d), docs):.3f} ms/page")
    print(f"  of which _repair           {median_ms(_repair, docs):.3f} ms/page")


if __name__ == "__main__":
    main()
