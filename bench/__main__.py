"""``python -m bench``: the whole benchmark in one run (see bench/README.md)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import stats
from bench.fakesite import FakeSite
from bench.report import markdown


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--pages", type=int, default=10_000, help="corpus size (pages)")
    parser.add_argument("--spaces", type=int, default=20)
    parser.add_argument("--body-bytes", type=int, default=6000, help="storage XHTML per page")
    parser.add_argument("--latency", type=float, default=0.05, help="fake Atlassian latency per request (s)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of the sync measurements (medians)")
    parser.add_argument("--peer-repeat", type=int, default=1, help="runs of each peer (medians)")
    parser.add_argument("--rss-pages", type=int, default=100_000, help="pages for the peak-RSS sync (0: skip)")
    parser.add_argument("--concurrency", type=int, default=20, help="concurrent Slack commands")
    parser.add_argument("--postgres", metavar="URL", help="also measure on this PostgreSQL (a scratch schema)")
    parser.add_argument("--processes", type=int, default=None, help="conversion processes (default: one per core)")
    parser.add_argument("--skip-peers", action="store_true")
    parser.add_argument("--skip-slack", action="store_true")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: 200 pages, no latency, no peers")
    parser.add_argument("--json", type=Path, help="write the results as JSON here")
    parser.add_argument("--markdown", type=Path, help="write the Markdown table here")
    args = parser.parse_args(argv)
    if args.smoke:
        args.pages, args.spaces, args.latency, args.repeat = min(args.pages, 200), min(args.spaces, 4), 0.0, 1
        args.rss_pages, args.skip_peers = min(args.rss_pages, 200), True
    args.pages_per_space = max(1, args.pages // args.spaces)
    args.pages = args.pages_per_space * args.spaces
    return args


@contextmanager
def _databases(args: argparse.Namespace, workdir: Path, tag: str) -> Iterator[list[tuple[str, str]]]:
    """(backend, url) pairs to measure: SQLite always, PostgreSQL (a fresh schema) when asked."""
    urls = [("sqlite", f"sqlite:///{workdir / tag / 'bench.db'}")]
    (workdir / tag).mkdir(parents=True, exist_ok=True)
    if not args.postgres:
        yield urls
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    schema = f"bench_{tag}_{int(time.time())}"
    admin = create_engine(args.postgres)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(args.postgres).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield [*urls, ("postgresql", url.render_as_string(hide_password=False))]
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _median_summaries(summaries: list[dict[str, Any]], samples: list[float]) -> dict[str, Any]:
    merged: dict[str, Any] = dict(summaries[-1])
    for key, value in summaries[-1].items():
        if isinstance(value, int | float) and not isinstance(value, bool):
            middle = stats.median([s[key] for s in summaries])
            merged[key] = round(middle) if all(isinstance(s[key], int) for s in summaries) else middle
    merged["search_p50_ms"] = stats.percentile(samples, 50)
    merged["search_p95_ms"] = stats.percentile(samples, 95)
    merged["runs"] = summaries
    return merged


def measure_sync(args: argparse.Namespace, fake: FakeSite, workdir: Path) -> list[dict[str, Any]]:
    from bench.sync_bench import run_sync_pair

    by_backend: dict[str, tuple[list[dict[str, Any]], list[float]]] = {}
    for number in range(args.repeat):
        with _databases(args, workdir, f"sync{number}") as databases:
            for backend, url in databases:
                result = run_sync_pair(fake, url, backend, processes=args.processes)
                summaries, samples = by_backend.setdefault(backend, ([], []))
                summaries.append(result.summary())
                samples.extend(result.search_ms)
                _log(f"{backend} run {number + 1}: {json.dumps(result.summary())}")
    return [_median_summaries(summaries, samples) for summaries, samples in by_backend.values()]


def measure_rss(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    import subprocess

    from bench import world
    from bench.fakesite import _repo_root
    from bench.sync_bench import measure_search, queries_for

    per_space = max(1, args.rss_pages // args.spaces)
    with FakeSite(args.spaces, per_space, 0, args.body_bytes) as fake:
        fake.set_latency(args.latency)
        url = f"sqlite:///{workdir / 'rss' / 'bench.db'}"
        (workdir / "rss").mkdir(parents=True, exist_ok=True)
        info = fake.info
        config = {
            "fake": {"auth_url": info.auth_url, "api_url": info.api_url, "cloud_id": info.cloud_id, "token": {}},
            "token": fake.fresh_token(),
            "database_url": url,
            "processes": args.processes,
        }
        child = subprocess.run(
            [sys.executable, "-m", "bench.rss_child", json.dumps(config)],
            capture_output=True,
            text=True,
            cwd=_repo_root(),
            check=False,
        )
        if child.returncode != 0:
            return {"error": " | ".join(child.stderr.strip().splitlines()[-3:])}
        rss: dict[str, Any] = json.loads(child.stdout.strip().splitlines()[-1])
        rss["pages"] = fake.total
        rss["pages_per_second"] = rss["processed"] / rss["seconds"] if rss["seconds"] else 0.0
        services = world.build(url, info)
        try:
            samples, hits = measure_search(services, rss["datastore_id"], queries_for(fake))
        finally:
            services.engine.dispose()
        rss.update(
            search_p50_ms=stats.percentile(samples, 50), search_p95_ms=stats.percentile(samples, 95), search_hits=hits
        )
        return rss


def measure_peers(args: argparse.Namespace, fake: FakeSite, ours: float) -> dict[str, Any]:
    from bench.peers.run import LABELS, ensure_venv, run_peer

    python, error = ensure_venv()
    if python is None:
        return {"error": f"installing the peers failed: {error}"}
    results: dict[str, Any] = {}
    for name in ("langchain", "llamaindex"):
        runs = []
        for _ in range(args.peer_repeat):
            fake.clear_log()
            run = run_peer(python, name, fake.info)
            run["requests"] = fake.stats()["requests"]
            _log(f"peer {name}: {json.dumps(run)}")
            runs.append(run)
        good = [r for r in runs if "error" not in r]
        if not good:
            results[name] = {"label": LABELS[name], "error": runs[-1]["error"]}
            continue
        seconds = stats.median([r["seconds"] for r in good])
        results[name] = {
            "label": LABELS[name],
            "seconds": seconds,
            "documents": good[-1]["documents"],
            "requests": good[-1]["requests"],
            "ratio": seconds / ours if ours else 0.0,
            "runs": runs,
        }
    return {"our_full_sync_seconds": ours, "results": results}


def _log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> dict[str, Any]:
    started = time.perf_counter()
    results: dict[str, Any] = {
        "started_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": stats.machine(),
        "config": {
            "pages": args.pages,
            "spaces": args.spaces,
            "body_bytes": args.body_bytes,
            "latency": args.latency,
            "repeat": args.repeat,
            "peer_repeat": args.peer_repeat,
            "rss_pages": args.rss_pages,
            "smoke": args.smoke,
        },
    }
    with tempfile.TemporaryDirectory(prefix="datastore-bot-bench-") as tmp:
        workdir = Path(tmp)
        with FakeSite(args.spaces, args.pages_per_space, 0, args.body_bytes) as fake:
            fake.set_latency(args.latency)
            _log(f"corpus: {fake.total} pages; measuring full + incremental sync")
            results["sync"] = measure_sync(args, fake, workdir)
            if not args.skip_slack:
                from bench.slack_bench import run_slack_bench

                _log("Slack latency during a sync")
                (workdir / "slack").mkdir()
                results["slack"] = run_slack_bench(
                    fake, f"sqlite:///{workdir / 'slack' / 'bench.db'}", concurrency=args.concurrency
                )
            if not args.skip_peers:
                _log("peers")
                results["peers"] = measure_peers(args, fake, results["sync"][0]["full_seconds"])
        if args.rss_pages > 0:
            _log(f"peak RSS of a {args.rss_pages}-page sync")
            results["rss"] = measure_rss(args, workdir)
    results["elapsed_seconds"] = time.perf_counter() - started
    return results


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # queue depth notes under deliberate load
    results = run(args)
    table = markdown(results)
    print(table)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")
    if args.markdown:
        args.markdown.write_text(table, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
