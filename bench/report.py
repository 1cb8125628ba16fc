"""The Markdown table (with the targets) from the benchmark's JSON results."""

from __future__ import annotations

from typing import Any


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _verdict(ok: bool | None) -> str:
    return "—" if ok is None else ("✅ met" if ok else "❌ missed")


def _sync_rows(sync: dict[str, Any]) -> list[tuple[str, str, str, bool | None]]:
    name = sync["backend"]
    fraction = sync["incremental_fraction"]
    return [
        (
            f"Full sync to searchable ({name}): wall time",
            f"{_fmt(sync['full_seconds'], 2)} s for {_fmt(sync['pages'])} pages",
            "",
            None,
        ),
        (f"Full sync ({name}): pages/s", _fmt(sync["pages_per_second"]), "≥ 1,000", sync["pages_per_second"] >= 1000),
        (f"Full sync ({name}): requests per page", _fmt(sync["requests_per_page"], 4), "", None),
        (
            f"Full sync ({name}): Atlassian points per page",
            _fmt(sync["points_per_page"], 3),
            "≤ 1.1",
            sync["points_per_page"] <= 1.1,
        ),
        (
            f"Incremental, 1% changed in {sync['spaces']} spaces ({name}): Atlassian points",
            f"{_fmt(sync['incremental_points'])} ({_fmt(sync['incremental_points_per_changed_page'], 2)} per changed "
            f"page, {sync['incremental_changed']} changed)",
            "≤ 5 per changed page + 10 per space",
            sync["incremental_points"] <= 5 * sync["incremental_changed"] + 10 * sync["spaces"],
        ),
        (
            f"Incremental, 1% changed in {sync['spaces']} spaces ({name}): wall time",
            f"{_fmt(sync['incremental_seconds'], 2)} s ({fraction * 100:.1f}% of the full sync)",
            "≤ 0.5 s",
            sync["incremental_seconds"] <= 0.5,
        ),
        (
            f"Incremental ({name}): pages converted",
            f"{sync['incremental_processed']} processed for {sync['incremental_changed']} changed "
            f"({sync['incremental_body_fetches']} bodies came with the listing of changes: no points of their own)",
            "only the changed",
            sync["incremental_processed"] <= sync["incremental_changed"],
        ),
        (
            f"Search ({name}, {_fmt(sync['pages'])}-page index): p50 / p95",
            f"{_fmt(sync['search_p50_ms'], 2)} / {_fmt(sync['search_p95_ms'], 2)} ms",
            "p95 ≤ 20 ms",
            sync["search_p95_ms"] <= 20,
        ),
    ]


def _rss_rows(rss: dict[str, Any]) -> list[tuple[str, str, str, bool | None]]:
    if "error" in rss:
        return [("Peak RSS", f"not measured: {rss['error']}", "≤ 300 MB", None)]
    pages = _fmt(rss["pages"])
    rows: list[tuple[str, str, str, bool | None]] = [
        (
            f"Peak RSS, sync of {pages} pages (process + conversion pool, sampled sum)",
            f"{_fmt(rss['tree_peak_mb'])} MB",
            "≤ 300 MB",
            rss["tree_peak_mb"] <= 300,
        ),
        (
            "… same, PSS (shared copy-on-write pages counted once)",
            f"{_fmt(rss.get('tree_peak_pss_mb'))} MB",
            "",
            None,
        ),
        (
            "… ru_maxrss: sync process / largest pool child",
            f"{_fmt(rss['main_maxrss_mb'])} / {_fmt(rss['pool_child_maxrss_mb'])} MB",
            "",
            None,
        ),
        (f"… that sync's speed ({pages} pages)", f"{_fmt(rss['pages_per_second'])} pages/s", "", None),
    ]
    if "search_p95_ms" in rss:
        rows.append(
            (
                f"Search ({pages}-page index): p50 / p95",
                f"{_fmt(rss['search_p50_ms'], 2)} / {_fmt(rss['search_p95_ms'], 2)} ms",
                "p95 ≤ 20 ms",
                rss["search_p95_ms"] <= 20,
            )
        )
    return rows


def _slack_rows(slack: dict[str, Any]) -> list[tuple[str, str, str, bool | None]]:
    idle, during = slack["idle"], slack["during_sync"]
    rows: list[tuple[str, str, str, bool | None]] = [
        (
            f"Slack `/datastore help` at {slack['concurrency']} concurrent, idle: p50 / p99",
            f"{_fmt(idle['p50_ms'], 1)} / {_fmt(idle['p99_ms'], 1)} ms ({idle['requests']} requests)",
            "p99 ≤ 25 ms",
            idle["p99_ms"] <= 25,
        ),
        (
            f"… during a {_fmt(slack['sync_processed'])}-page sync that lasted "
            f"{_fmt(slack.get('sync_seconds', 0.0), 0)} s, worker in its own process (as `serve` runs it): p50 / p99",
            f"{_fmt(during['p50_ms'], 1)} / {_fmt(during['p99_ms'], 1)} ms ({during['requests']} requests, "
            f"max {_fmt(during['max_ms'], 0)} ms)",
            "p99 ≤ 50 ms",
            during["p99_ms"] <= 50,
        ),
    ]
    same = slack.get("during_sync_same_process")
    if same is not None:
        rows.append(
            (
                f"… the same sync with the worker as a thread of the web process (before), "
                f"{_fmt(slack.get('sync_seconds_same_process', 0.0), 0)} s: p50 / p99",
                f"{_fmt(same['p50_ms'], 1)} / {_fmt(same['p99_ms'], 1)} ms ({same['requests']} requests, "
                f"max {_fmt(same['max_ms'], 0)} ms)",
                "for comparison",
                None,
            )
        )
    return rows


def _peer_rows(peers: dict[str, Any]) -> list[tuple[str, str, str, bool | None]]:
    if "error" in peers:
        return [("Peers", f"not measured: {peers['error']}", "≥ 20× slower than us", None)]
    rows: list[tuple[str, str, str, bool | None]] = []
    for peer in peers["results"].values():
        if "error" in peer:
            rows.append((peer["label"], f"failed: {peer['error']}", "≥ 20×", None))
            continue
        rows.append(
            (
                f"{peer['label']}: time, documents / ratio to our full sync",
                f"{_fmt(peer['seconds'], 1)} s, {_fmt(peer['documents'])} docs, "
                f"{_fmt(peer['requests'])} requests / **{peer['ratio']:.1f}×**",
                "≥ 20×",
                peer["ratio"] >= 20,
            )
        )
    return rows


def markdown(results: dict[str, Any]) -> str:
    config, machine = results["config"], results["machine"]
    lines = [
        "# Benchmark results",
        "",
        f"Machine: {machine['cores']} cores ({machine['cpu']}), {machine['memory_mb']:,} MB RAM, "
        f"Python {machine['python']} on {machine['platform']}.",
        f"Corpus: {config['pages']:,} pages in {config['spaces']} spaces, ~{config['body_bytes']:,} bytes of storage "
        f"XHTML each; fake Atlassian latency {config['latency'] * 1000:.0f} ms per request (in its own process); "
        f"medians over {config['repeat']} run(s) (peers: {config['peer_repeat']}); RSS run: {config['rss_pages']:,} "
        f"pages. Run at {results['started_at']} in {results['elapsed_seconds']:.0f} s.",
        "",
        "| Measure | Result | Target | |",
        "|---|---|---|---|",
    ]
    rows: list[tuple[str, str, str, bool | None]] = []
    for sync in results.get("sync", []):
        rows += _sync_rows(sync)
    if "rss" in results:
        rows += _rss_rows(results["rss"])
    if "slack" in results:
        rows += _slack_rows(results["slack"])
    if "peers" in results:
        rows += _peer_rows(results["peers"])
    lines += [f"| {measure} | {value} | {target} | {_verdict(ok)} |" for measure, value, target, ok in rows]
    return "\n".join(lines) + "\n"
