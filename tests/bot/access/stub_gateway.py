"""A stand-in for a person's Gateway in unit tests: answers v2 ``/pages?id=`` and ``/blogposts?id=`` with the
ids it is told the person may view, or raises what it is told to."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

from bot.confluence.budget import PointsBudget, RequestBudget
from bot.confluence.gateway import Answer

BASE = "https://acme.atlassian.net/wiki"


def tiny(source_id: str) -> str:
    return f"/x/T{source_id}"


@dataclass
class StubGateway:
    visible: set[str] = field(default_factory=set)
    fail: Exception | None = None
    budget: PointsBudget = field(default_factory=lambda: RequestBudget(1_000_000))
    calls: list[str] = field(default_factory=list)
    closed: bool = False

    def get(self, url: str) -> Answer:
        self.calls.append(url)
        self.budget.take(1)
        if self.fail is not None:
            raise self.fail
        asked = parse_qs(urlsplit(url).query)["id"][0].split(",")
        results = [{"id": sid, "_links": {"tinyui": tiny(sid)}} for sid in asked if sid in self.visible]
        return Answer({"results": results, "_links": {"base": BASE}})

    def close(self) -> None:
        self.closed = True
