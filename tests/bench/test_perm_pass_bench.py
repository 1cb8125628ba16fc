"""The permission pass benchmark at a tiny size, so it cannot rot. Asserts counts and shares, never timings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.perm_pass_bench import main


def test_perm_pass_bench_smoke_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "pass.json"
    assert main(["--pages", "400", "--spaces", "2", "--json", str(out)]) == 0
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["outcome"] == "complete" and result["documents"] == result["pages"] == 400
    assert 25 <= result["restricted_percent"] <= 35
    assert result["points"] == result["points_charged"]  # the lane is charged what Atlassian counts
    assert 1.0 < result["points_per_page"] < 3.0
    assert result["requests"] == 2 * (1 + 1)  # per space: its permissions and one 200-page listing
    assert result["cadence_hours"] == 1.0  # 400 pages are far from filling a 13,000-point lane
    assert "/page; lane charged" in capsys.readouterr().out
