"""Installs the peers into a venv of their own (never the project's) and runs their drivers against the fake."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.fakesite import FakeInfo

REQUIREMENTS = (
    "langchain-community==0.4.2",
    "llama-index-readers-confluence==0.8.0",
    "atlassian-python-api==4.0.7",
)
VERSIONS = {"langchain-community": "0.4.2", "llama-index-readers-confluence": "0.8.0", "atlassian-python-api": "4.0.7"}
DRIVERS = {"langchain": "langchain_driver.py", "llamaindex": "llamaindex_driver.py"}
LABELS = {"langchain": "LangChain ConfluenceLoader", "llamaindex": "LlamaIndex ConfluenceReader"}


def default_venv() -> Path:
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "datastore-bot-bench" / "peers-venv"


def _python(venv: Path) -> Path:
    return venv / "bin" / "python"


def _installed(venv: Path) -> bool:
    if not _python(venv).exists():
        return False
    names = list(VERSIONS)
    check = f"import importlib.metadata as m, json; print(json.dumps({{n: m.version(n) for n in {names!r}}}))"
    result = subprocess.run([str(_python(venv)), "-c", check], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        return False
    return bool(json.loads(result.stdout) == VERSIONS)


def ensure_venv(venv: Path | None = None) -> tuple[Path | None, str | None]:
    """The peers' python, installing them first if needed; (None, why) when that failed."""
    venv = venv or default_venv()
    if _installed(venv):
        return _python(venv), None
    venv.parent.mkdir(parents=True, exist_ok=True)
    base = getattr(sys, "_base_executable", sys.executable)
    steps = [
        [base, "-m", "venv", "--clear", str(venv)],
        [str(_python(venv)), "-m", "pip", "install", "--quiet", *REQUIREMENTS],
    ]
    for step in steps:
        result = subprocess.run(step, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            tail = (result.stderr or result.stdout).strip().splitlines()[-5:]
            return None, f"`{' '.join(step[:4])} …` failed: " + " | ".join(tail)
    if not _installed(venv):
        return None, "the peers' packages did not import after installing them"
    return _python(venv), None


def run_peer(python: Path, name: str, fake: FakeInfo, *, timeout: float = 3600) -> dict[str, Any]:
    """One load of the whole corpus by a peer; its own timing plus the wall time of the subprocess."""
    driver = Path(__file__).with_name(DRIVERS[name])
    config = {"url": fake.wiki_url, "email": fake.basic_email, "token": fake.api_token}
    started = time.perf_counter()
    try:
        result = subprocess.run(
            [str(python), str(driver), json.dumps(config)],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {"peer": name, "error": f"did not finish within {timeout:.0f} s"}
    wall = time.perf_counter() - started
    if result.returncode != 0:
        tail = result.stderr.strip().splitlines()[-3:]
        return {"peer": name, "error": f"exit {result.returncode}: " + " | ".join(tail), "wall_seconds": wall}
    answer: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    answer.update(peer=name, wall_seconds=wall)
    return answer
