"""Per-person search as the bot serves it (issue #12 step 5), for ``bench.perm_bench``: through
:class:`bot.datastores.person_search.PersonSearch` — the visible-ACL-id cache, the SQL-filtered search, the
candidates' freshness — once with every ACL fresh (served from synced ACLs) and once with every ACL older than
the freshness bound, so each answer asks Confluence: a stand-in gateway that sleeps ``latency`` per request and
answers what the persona's ACLs allow, less one page in ten (restrictions added since the pass, which the
search must page past). Points per check are counted as Atlassian does (1 per request, 1 per object)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

from bench.stats import percentile
from bot.access.model import Acl
from bot.access.people import LinkedPerson
from bot.atlassian.tokens import AccessToken, TokenSource
from bot.confluence.budget import RequestBudget
from bot.confluence.gateway import Answer, Gateway
from bot.crypto import generate_key
from bot.datastores.person_search import PersonSearch, Searcher
from bot.services import build_services
from bot.settings import Settings
from storage.models import utcnow

__all__ = ["measure_person_search"]

BASE = "https://acme.atlassian.net/wiki"


@dataclass
class _Gateway:
    acls: Mapping[str, Acl]
    principals: frozenset[str]
    latency: float
    budget: RequestBudget = field(default_factory=lambda: RequestBudget(10_000_000))

    def get(self, url: str) -> Answer:
        time.sleep(self.latency)
        asked = parse_qs(urlsplit(url).query)["id"][0].split(",")
        seen = [s for s in asked if int(s) % 10 != 7 and self.acls[s].allows(self.principals)]
        return Answer({"results": [{"id": s, "_links": {"tinyui": f"/x/{s}"}} for s in seen], "_links": {"base": BASE}})

    def close(self) -> None:
        pass


class _Tokens:
    def current(self, owner_id: int) -> AccessToken:
        raise AssertionError("the bench gateway needs no token")

    def force_refresh(self, owner_id: int, seen_version: int) -> AccessToken:
        raise AssertionError("the bench gateway needs no token")

    def lost_access(self, owner_id: int, reason: str) -> None:
        pass


@dataclass
class _People:
    principals: frozenset[str]
    tokens: TokenSource = field(default_factory=_Tokens)

    def linked(self, *, team_id: str, slack_user_id: str, cloud_id: str) -> LinkedPerson | None:
        # Groups just read (as the link-groups job keeps them): only the documents' ACL ages decide the checks.
        return LinkedPerson(1, team_id, slack_user_id, cloud_id, "bench", None, self.principals, utcnow())

    def link_url(self, *, team_id: str, enterprise_id: str | None, slack_user_id: str, datastore_id: int) -> str:
        return "https://link.example/"


def _fixed(now: datetime) -> datetime:
    return now


def _same_gateway(gateway: _Gateway, _person: LinkedPerson, _cloud_id: str) -> Gateway:
    return cast(Gateway, gateway)  # a stand-in with the Gateway methods PersonSearch calls


def measure_person_search(
    url: str,
    datastore_id: int,
    acls: Mapping[str, Acl],
    principals: frozenset[str],
    wanted: list[str],
    *,
    checked_at: datetime,
    rounds: int,
    latency: float,
) -> dict[str, Any]:
    """p50/p95 of PersonSearch answers, fresh and with a live check each, and points per check."""
    services = build_services(Settings(_env_file=None, database_url=url, encryption_key=generate_key()))
    out: dict[str, Any] = {}
    try:
        for label, now in (("served", checked_at + timedelta(minutes=1)), ("checked", checked_at + timedelta(hours=2))):
            gateway = _Gateway(acls, principals, latency)
            search = PersonSearch(
                services,
                _People(principals),
                gateway.budget,
                clock=partial(_fixed, now),
                gateway_factory=partial(_same_gateway, gateway),
            )
            samples: list[float] = []
            points: list[int] = []
            requests: list[int] = []
            for round_no in range(rounds + 1):  # the first round warms the caches and is dropped
                for query in wanted:
                    started = time.perf_counter()
                    result = search.search(
                        datastore_id=datastore_id, cloud_id="bench", query=query, searcher=Searcher("T1", "U1")
                    )
                    elapsed = (time.perf_counter() - started) * 1000
                    if round_no:
                        samples.append(elapsed)
                        if result.requests:
                            points.append(result.points)
                            requests.append(result.requests)
            out[label] = {
                "p50_ms": percentile(samples, 50),
                "p95_ms": percentile(samples, 95),
                "answers_with_checks": len(points),
                "points_per_answer": sum(points) / len(points) if points else 0.0,
                "max_points": max(points, default=0),
                "requests_per_answer": sum(requests) / len(requests) if requests else 0.0,
                "cache_hits": search.cache.hits,
            }
    finally:
        services.engine.dispose()
    return out
