"""The permission benchmark at a tiny size, so it cannot rot. Asserts numbers and shares, never timings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.perm_bench import main


def test_perm_bench_smoke_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "perm.json"
    assert main(["--pages", "400", "--rounds", "1", "--json", str(out)]) == 0
    (result,) = json.loads(out.read_text(encoding="utf-8"))
    assert result["backend"] == "sqlite" and result["pages"] == 400 and result["acls"] > 20
    assert result["all"]["visible_fraction"] == 1.0
    assert 0.6 < result["typical"]["visible_fraction"] < 0.8
    assert 0 < result["narrow"]["visible_fraction"] < 0.15
    for persona in ("everyone", "all", "typical", "narrow"):
        assert result[persona]["p95_ms"] > 0
    assert result["narrow"]["hits_per_round"] < result["all"]["hits_per_round"] <= result["everyone"]["hits_per_round"]
    assert "| sqlite | narrow |" in capsys.readouterr().out
