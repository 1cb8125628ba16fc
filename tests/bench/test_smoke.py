"""The benchmark script at tiny sizes, so it cannot rot. Asserts only that numbers came out: never timings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.__main__ import main


@pytest.mark.timeout(900)  # every measurement once, each its own bot and fakes: 25 s idle, past 120 s on a busy CI
def test_smoke_run_produces_every_number(tmp_path: Path) -> None:
    out, table = tmp_path / "results.json", tmp_path / "results.md"
    assert main(["--smoke", "--pages", "120", "--rss-pages", "120", "--json", str(out), "--markdown", str(table)]) == 0
    results = json.loads(out.read_text(encoding="utf-8"))
    assert results["machine"]["cores"] and results["machine"]["python"]
    (sync,) = results["sync"]
    assert sync["full_outcome"] == "synced" and sync["pages"] == 120 and sync["full_seconds"] > 0
    assert sync["pages_per_second"] > 0 and sync["requests_per_page"] > 0 and sync["points_per_page"] >= 1
    assert sync["incremental_points"] > 0 and sync["spaces"] > 0
    assert sync["incremental_changed"] > 0 and sync["incremental_seconds"] > 0
    assert sync["search_queries"] > 0 and sync["search_p95_ms"] > 0
    rss = results["rss"]
    assert rss["outcome"] == "synced" and rss["tree_peak_mb"] > 0 and rss["main_maxrss_mb"] > 0
    slack = results["slack"]
    assert slack["idle"]["requests"] > 0 and slack["during_sync"]["requests"] > 0
    assert slack["during_sync"]["p99_ms"] > 0
    assert slack["during_sync_same_process"]["requests"] > 0 and slack["sync_outcome"] == "synced"
    assert "peers" not in results
    assert "| Measure |" in table.read_text(encoding="utf-8")
