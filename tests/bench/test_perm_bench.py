"""The permission benchmark at a tiny size, so it cannot rot. Asserts numbers and shares, never timings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.perm_bench import main


def test_perm_bench_smoke_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "perm.json"
    assert main(["--pages", "400", "--rounds", "1", "--latency-ms", "1", "--json", str(out)]) == 0
    (result,) = json.loads(out.read_text(encoding="utf-8"))
    assert result["backend"] == "sqlite" and result["pages"] == 400 and result["acls"] > 20
    assert result["all"]["visible_fraction"] == 1.0
    assert 0.6 < result["typical"]["visible_fraction"] < 0.8
    assert 0 < result["narrow"]["visible_fraction"] < 0.15
    for persona in ("everyone", "all", "typical", "narrow"):
        assert result[persona]["p95_ms"] > 0
    assert result["narrow"]["hits_per_round"] < result["all"]["hits_per_round"] <= result["everyone"]["hits_per_round"]
    for persona in ("all", "typical", "narrow"):  # as served: fresh ACLs ask nothing, stale ones are checked
        served, checked = result[persona]["person"]["served"], result[persona]["person"]["checked"]
        assert served["answers_with_checks"] == 0 and served["cache_hits"] > 0
        assert checked["answers_with_checks"] > 0 and 2 <= checked["points_per_answer"] <= 3 * 10
        assert 1 <= checked["requests_per_answer"] <= 3
    printed = capsys.readouterr().out
    assert "| sqlite | narrow |" in printed and "Per-person search as served" in printed
