"""Slack's side of the Slack-latency benchmark, in a process of its own so the load generator does not
share the bot's GIL: ``python -m bench.slack_load JSON``.

Sends signed slash-command bodies (form fields prepared by the parent with the fake Slack) from
``concurrency`` threads, each waiting for the answer before sending the next, until a line arrives on
stdin or ``max_seconds`` pass; prints one JSON line with every latency (ms) and the status counts.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import sys
import threading
import time
from collections import Counter
from typing import Any

import httpx


def signed_headers(secret: str, body: str) -> dict[str, str]:
    timestamp = str(int(time.time()))
    digest = hmac.new(secret.encode(), f"v0:{timestamp}:{body}".encode(), hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": f"v0={digest}",
    }


def main(argv: list[str]) -> int:
    config: dict[str, Any] = json.loads(argv[0])
    url, secret, bodies = config["url"], config["secret"], config["bodies"]
    stop = threading.Event()
    lock = threading.Lock()
    latencies: list[float] = []
    statuses: Counter[str] = Counter()

    def client(worker: int) -> None:
        with httpx.Client(timeout=10.0) as http:
            sent = worker
            while not stop.is_set():
                body = bodies[sent % len(bodies)]
                sent += config["concurrency"]
                started = time.perf_counter()
                try:
                    status = str(
                        http.post(url, content=body.encode(), headers=signed_headers(secret, body)).status_code
                    )
                except httpx.HTTPError as exc:
                    status = type(exc).__name__
                elapsed = (time.perf_counter() - started) * 1000
                with lock:
                    latencies.append(elapsed)
                    statuses[status] += 1

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(config["concurrency"])]
    print(json.dumps({"ready": True}), flush=True)
    for thread in threads:
        thread.start()

    def wait_for_stop() -> None:
        sys.stdin.readline()
        stop.set()

    waiter = threading.Thread(target=wait_for_stop, daemon=True)
    waiter.start()
    stop.wait(config["max_seconds"])
    stop.set()
    for thread in threads:
        thread.join(timeout=15)
    with lock:
        print(json.dumps({"latencies_ms": latencies, "statuses": dict(statuses)}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
