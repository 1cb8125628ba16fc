"""Storage XHTML → chunks, off the thread that serves Slack: a process pool on multi-core machines.

Conversion is the CPU-heavy part of a sync (≈0.5 ms per 6 KB page). Run in the serve process's threads it
would hold the GIL and slow Slack's handlers, so a pool of processes does it; the sync thread only
waits for results and writes them to the database.
"""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

from bot.confluence.storage_format import to_text
from bot.sync.chunking import chunk

__all__ = ["ConvertedDocument", "Converter", "convert_batch"]

logger = logging.getLogger(__name__)

#: One job per this many documents: large enough to amortise the inter-process hop.
JOB_SIZE = 64
#: How often a pool worker checks that the process that started it is still alive.
PARENT_CHECK_SECONDS = 1.0


@dataclass(frozen=True)
class ConvertedDocument:
    source_id: str
    content_hash: str
    chunks: tuple[tuple[str, str], ...]  # (heading path, text)


def convert_batch(items: Sequence[tuple[str, str, str]]) -> list[ConvertedDocument]:
    """(source id, title, storage XHTML) → converted documents, in order. Never raises for bad markup."""
    converted = []
    for source_id, title, storage in items:
        text = to_text(storage).text
        pieces = tuple((piece.heading, piece.text) for piece in chunk(title, text))
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        converted.append(ConvertedDocument(source_id=source_id, content_hash=digest, chunks=pieces))
    return converted


def _exit_with_parent() -> None:
    """Pool initializer: a worker exits once the process that started it is gone. A SIGKILLed `serve` or `sync`
    (kill -9, the OOM killer) cannot shut its pool down, and forked workers never see their job pipe close (each
    holds a copy of its write end), so without this they would wait for jobs forever as orphans. A worker ignores
    Ctrl-C (SIGINT reaches the whole foreground process group): its parent stops the pool, without a traceback
    from every worker."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the worker's hand-back handler, inherited by the fork
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_SECONDS)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


class Converter:
    """Converts batches inline (``processes=0``) or on a process pool shared by every sync in the process.

    A pool whose process died (killed, out of memory) is broken for good: the batch that met it raises
    BrokenProcessPool (the run is retried) and the pool is replaced, so the next batch converts again."""

    def __init__(self, processes: int | None = None) -> None:
        self._count = (os.cpu_count() or 1) if processes is None else processes
        self._lock = threading.Lock()
        self._pool: Executor | None = self._new_pool() if self._count > 0 else None

    def _new_pool(self) -> Executor:
        # fork: workers share the parent's already-imported pages copy-on-write (measured lower PSS than a
        # forkserver, whose workers each import lxml and the converter afresh).
        context = multiprocessing.get_context("fork")
        return ProcessPoolExecutor(max_workers=self._count, mp_context=context, initializer=_exit_with_parent)

    def convert(self, items: Sequence[tuple[str, str, str]]) -> list[ConvertedDocument]:
        pool = self._pool
        if pool is None or len(items) <= JOB_SIZE:
            return convert_batch(items)
        try:
            jobs = [pool.submit(convert_batch, items[i : i + JOB_SIZE]) for i in range(0, len(items), JOB_SIZE)]
            return [document for job in jobs for document in job.result()]
        except BrokenProcessPool:
            self._replace(pool)
            raise

    def _replace(self, broken: Executor) -> None:
        with self._lock:
            if self._pool is not broken:
                return  # another batch that met the same broken pool replaced it already
            broken.shutdown(wait=False, cancel_futures=True)
            self._pool = self._new_pool()
        logger.warning("a conversion process died; the conversion pool was started again")

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)
