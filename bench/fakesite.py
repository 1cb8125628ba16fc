"""The fake Atlassian in its own process, driven over a JSON-lines pipe.

The benchmark never hosts the fake in the measured process: rendering 6 KB bodies and serving HTTP would
compete for the GIL with the sync (and the Slack handlers) and make the bot look slower than it is. Peers
and the bot therefore read from the same out-of-process server.

``python -m bench.fakesite '{"spaces": 20, ...}'`` prints one JSON line (urls, cloud id, credentials),
then answers one JSON line per command read from stdin (see :func:`_command`).
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO, Any, cast

CLIENT_ID = "bench-client"
CLIENT_SECRET = "bench-secret"
BASIC_EMAIL = "bench@acme.example"
API_TOKEN = "bench-api-token"


@dataclass(frozen=True)
class FakeInfo:
    auth_url: str
    api_url: str
    cloud_id: str
    token: dict[str, Any]
    basic_email: str = BASIC_EMAIL
    api_token: str = API_TOKEN

    @property
    def wiki_url(self) -> str:
        """Site-style base for v1 clients (``{url}/rest/api/...``)."""
        return f"{self.api_url}/wiki"


class FakeSite:
    """Parent-side handle of the fake server process."""

    def __init__(self, spaces: int, pages_per_space: int, blogposts_per_space: int, body_bytes: int = 6000) -> None:
        spec = {
            "spaces": spaces,
            "pages_per_space": pages_per_space,
            "blogposts_per_space": blogposts_per_space,
            "body_bytes": body_bytes,
        }
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "bench.fakesite", json.dumps(spec)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=_repo_root(),
        )
        ready = self._read()
        self.info = FakeInfo(ready["auth_url"], ready["api_url"], ready["cloud_id"], ready["token"])
        self.total: int = ready["total"]
        self.spaces = spaces

    def _read(self) -> dict[str, Any]:
        line = cast(IO[str], self._proc.stdout).readline()
        if not line:
            raise RuntimeError("the fake Atlassian process exited")
        answer = json.loads(line)
        if "error" in answer:
            raise RuntimeError(f"fake Atlassian: {answer['error']}")
        return cast(dict[str, Any], answer)

    def call(self, op: str, **args: Any) -> Any:
        stdin = cast(IO[str], self._proc.stdin)
        stdin.write(json.dumps({"op": op, **args}) + "\n")
        stdin.flush()
        return self._read()["result"]

    def set_latency(self, seconds: float) -> None:
        self.call("latency", seconds=seconds)

    def clear_log(self) -> None:
        self.call("clear")

    def stats(self) -> dict[str, int]:
        """``requests``, Atlassian ``points`` (1 per request + 1 per object + 2 per identity object, as metered by
        the fake), ``body_fetches`` (bodies served) and ``distinct_bodies`` since the last clear."""
        return cast(dict[str, int], self.call("stats"))

    def update_every(self, step: int) -> list[int]:
        """A new version of every ``step``-th page and blog post (1% for step 100); returns their ids."""
        return cast(list[int], self.call("update", step=step))

    def hints(self, count: int) -> list[dict[str, str]]:
        return cast(list[dict[str, str]], self.call("hints", count=count))

    def fresh_token(self) -> dict[str, Any]:
        return cast(dict[str, Any], self.call("token"))

    def close(self) -> None:
        if self._proc.poll() is None:
            try:
                self.call("stop")
            except (OSError, RuntimeError, ValueError):
                pass
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        for pipe in (self._proc.stdin, self._proc.stdout):
            if pipe is not None:
                pipe.close()

    def __enter__(self) -> FakeSite:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _repo_root() -> str:
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# --- the child ------------------------------------------------------------------------------------------
def _command(fake: Any, command: dict[str, Any]) -> Any:
    site = fake.site
    op = command["op"]
    if op == "latency":
        fake.set_latency(float(command["seconds"]))
        return None
    if op == "clear":
        fake.log.clear()
        return None
    if op == "stats":
        fetches = fake.log.body_fetches()
        return {
            "requests": len(fake.log),
            "points": fake.log.points(),
            "body_fetches": sum(fetches.values()),
            "distinct_bodies": len(fetches),
        }
    if op == "update":
        chosen = sorted(site.content)[:: int(command["step"])]
        for content_id in chosen:
            site.update_page(content_id)
        return chosen
    if op == "hints":
        ids = sorted(site.ids("page"))
        step = max(1, len(ids) // max(1, int(command["count"])))
        return [dataclasses.asdict(site.page_text_hints(i)) for i in ids[::step][: int(command["count"])]]
    if op == "token":
        return fake.issue_token()
    raise ValueError(f"unknown command {op!r}")


def _serve(argv: Sequence[str]) -> int:
    from demo.fakes.atlassian import FakeAtlassian, OAuthApp, SiteSpec

    spec = SiteSpec(**json.loads(argv[0]))
    app = OAuthApp(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, redirect_uris=("http://127.0.0.1:1/callback",))
    with FakeAtlassian(spec, apps=[app], basic_email=BASIC_EMAIL, api_token=API_TOKEN, access_ttl=86_400) as fake:
        ready = {
            "auth_url": fake.auth_url,
            "api_url": fake.api_url,
            "cloud_id": fake.cloud_id,
            "token": fake.issue_token(),
            "total": len(fake.site.content),
        }
        print(json.dumps(ready), flush=True)
        for line in sys.stdin:
            command = json.loads(line)
            if command["op"] == "stop":
                print(json.dumps({"result": None}), flush=True)
                break
            try:
                answer = {"result": _command(fake, command)}
            except Exception as exc:  # noqa: BLE001 - reported to the parent
                answer = {"error": repr(exc)}
            print(json.dumps(answer), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(_serve(sys.argv[1:]))
