"""The conversion pool: a worker process that dies breaks the batch it met, and the pool is started again."""

from __future__ import annotations

import multiprocessing
import os
import signal
from concurrent.futures.process import BrokenProcessPool

import pytest

from bot.sync.convert import JOB_SIZE, Converter, convert_batch
from tests.harness import wait_until

ITEMS = [(f"p{i}", f"Page {i}", f"<p>Body of page {i}</p>") for i in range(JOB_SIZE * 3)]


def test_a_killed_conversion_process_fails_one_batch_and_the_pool_is_started_again() -> None:
    converter = Converter(processes=1)
    try:
        assert converter.convert(ITEMS) == convert_batch(ITEMS)
        children = multiprocessing.active_children()
        assert children, "the pool has no worker process"
        for child in children:
            os.kill(child.pid or 0, signal.SIGKILL)
        wait_until(lambda: all(not child.is_alive() for child in children), timeout=10)
        with pytest.raises(BrokenProcessPool):
            converter.convert(ITEMS)
        assert converter.convert(ITEMS) == convert_batch(ITEMS)  # a new pool
        assert converter.convert(ITEMS[:JOB_SIZE]) == convert_batch(ITEMS[:JOB_SIZE])  # small: inline
    finally:
        converter.close()
