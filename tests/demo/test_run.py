"""`datastore-bot demo` end to end: the real `serve` driven through the wizard, its sync and a search, against the
fakes; and how it fails (one line, exit 1 or 130, nothing left running)."""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

import demo.world
from demo.run import main

REPO = Path(__file__).resolve().parents[2]
ANSI = re.compile(r"\x1b\[")


def _environment(tmp_path: Path) -> dict[str, str]:
    """A clean environment; the demo's temporary folder goes under ``tmp_path``."""
    env = {name: value for name, value in os.environ.items() if name in ("PATH", "HOME", "LANG")}
    env.update(PYTHONPATH=str(REPO), TMPDIR=str(tmp_path))
    return env


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The in-process demo makes its temporary folder (kept when it fails) under ``tmp_path``."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


def _processes_in(folder: Path) -> list[int]:
    """Processes whose working directory is ``folder`` (the demo runs `serve` and its workers there)."""
    found = []
    for cwd in Path("/proc").glob("[0-9]*/cwd"):
        try:
            target = os.readlink(cwd)
        except OSError:
            continue
        if target.removesuffix(" (deleted)") == str(folder):
            found.append(int(cwd.parent.name))
    return found


def test_the_demo_creates_syncs_and_searches_through_serve_and_prints_it_as_plain_lines(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "demo", "--pages", "60"],
        cwd=tmp_path,
        env=_environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=150,
        check=False,
    )
    out = done.stdout
    assert done.returncode == 0, f"{done.stderr}\n{out}"
    assert not ANSI.search(out), "stdout is not a terminal: no colours, no live redraws"
    assert "Step 2 of 5 · Connection Setup — auto top-off: Skip for now" in out
    assert "Open window → Atlassian consent → /oauth/confluence/callback: 200" in out
    assert "⏳ Initializing" in out  # the progress reply as first posted, then as the bot updated it
    assert "Synced ✅ — 60 processed, 0 unchanged, 0 failed" in out
    assert "✅ demo-wiki is ready — 60 documents synced in" in out
    assert re.search(r"^ +Cobalt lantern (ENG|PROD)-\d+$", out, re.MULTILINE), out  # a search result's title
    assert re.search(r"results? for “lantern” in demo-wiki", out)
    assert re.search(r"^demo finished in \d+\.\d s$", out, re.MULTILINE), out
    assert "Traceback" not in done.stderr
    folder = Path(re.findall(r"its log: (\S+)/serve\.log", out)[0])
    assert not folder.exists(), "without --keep the data folder goes"


def test_a_refused_consent_fails_the_demo_with_one_line_and_keeps_the_log(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = io.StringIO()
    assert main(pages=4, out=out, approve_consent=False) == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("datastore-bot demo: connecting Confluence failed: ")
    assert "You chose not to give access" in line
    log = Path(line.rpartition("serve log: ")[2])
    assert log.parent.parent == in_tmp
    assert log.is_file() and "listening on 127.0.0.1" in log.read_text()
    assert "✓ Step 3 of 5 · Connect Confluence — Open window" not in out.getvalue()
    assert not _processes_in(log.parent), "serve was stopped"


def test_a_serve_that_cannot_start_fails_the_demo_with_one_line(
    in_tmp: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    environment = demo.world.demo_environment

    def broken(*args: object, **kwargs: object) -> dict[str, str]:
        return {**environment(*args, **kwargs), "PORT": "not-a-port"}  # type: ignore[arg-type]

    monkeypatch.setattr(demo.world, "demo_environment", broken)
    assert main(pages=2, out=io.StringIO()) == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("datastore-bot demo: serve exited with code 2 before it answered /healthz: ")
    assert "PORT" in line and "serve log: " in line


def test_pages_out_of_range_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(pages=0, out=io.StringIO()) == 2
    assert capsys.readouterr().err == "datastore-bot demo: --pages must be between 1 and 5,000 (got 0)\n"


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_ctrl_c_stops_serve_and_the_fakes_with_one_line(tmp_path: Path, signum: signal.Signals) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "demo", "--pages", "60"],
        cwd=tmp_path,
        env=_environment(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        for line in process.stdout:
            if "its log: " in line:
                folder = Path(line.split("its log: ")[1].strip()).parent
                break
        else:
            raise AssertionError(f"the demo ended before serve was up: {process.communicate(timeout=30)}")
        assert _processes_in(folder), "serve runs in the demo's folder"
        process.send_signal(signum)
        _out, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 130
    assert err.splitlines() == ["datastore-bot demo: interrupted — serve and the fakes are stopped"]
    assert not _processes_in(folder)
    assert not folder.exists()


def test_parallel_test_workers_pick_ports_from_their_own_slices(monkeypatch: pytest.MonkeyPatch) -> None:
    from demo.serve import PICKED_PORTS, _our_ports, free_port

    slices = []
    for worker in range(4):
        monkeypatch.setenv("PYTEST_XDIST_WORKER", f"gw{worker}")
        monkeypatch.setenv("PYTEST_XDIST_WORKER_COUNT", "4")
        slices.append(set(_our_ports()))
        assert free_port() in slices[-1]
    assert all(not a & b for i, a in enumerate(slices) for b in slices[i + 1 :])  # no port in two slices
    assert set().union(*slices) <= set(PICKED_PORTS)
    monkeypatch.delenv("PYTEST_XDIST_WORKER")
    assert _our_ports() == PICKED_PORTS  # one process alone: the whole range
