"""The live check against a stub gateway: what Confluence returns is allowed, what it leaves out is denied,
what cannot be asked stays unchecked; never a document that was not asked about."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.access.live_check import CHECK_BATCH, Candidate, LiveChecker, canonical_link, needs_check, short_link
from bot.errors import AtlassianRequestError, AtlassianUnavailable, RateLimited, ReconnectRequired
from tests.bot.access.stub_gateway import BASE, StubGateway, tiny

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def cand(n: int, kind: str = "page", age: timedelta | None = timedelta(hours=2)) -> Candidate:
    return Candidate(n, str(100 + n), kind, None if age is None else NOW - age)


def test_returned_is_allowed_left_out_is_denied_one_request_per_kind_and_points() -> None:
    gateway = StubGateway(visible={"101", "103", "104"})
    check = LiveChecker(gateway).check([cand(1), cand(2), cand(3, "blogpost"), cand(4, "blogpost")])
    assert check.allowed == {1, 3, 4} and check.denied == {2} and not check.unchecked
    assert check.requests == 2 and check.points == 2 + 3  # 1 per request, 1 per object returned
    assert [url.split("?")[0] for url in gateway.calls] == ["/wiki/api/v2/pages", "/wiki/api/v2/blogposts"]
    assert check.short_links == {n: BASE + tiny(str(100 + n)) for n in (1, 3, 4)}


def test_at_most_a_batch_is_asked_the_rest_stays_unchecked() -> None:
    gateway = StubGateway(visible={str(100 + n) for n in range(20)})
    check = LiveChecker(gateway).check([cand(n) for n in range(CHECK_BATCH + 3)])
    assert len(check.allowed) == CHECK_BATCH and check.unchecked == {CHECK_BATCH, CHECK_BATCH + 1, CHECK_BATCH + 2}


@pytest.mark.parametrize(
    "fault",
    [
        AtlassianUnavailable("down"),
        RateLimited(NOW),
        AtlassianRequestError(400, "bad"),
    ],
)
def test_confluence_unreachable_leaves_everything_unchecked(fault: Exception) -> None:
    check = LiveChecker(StubGateway(visible={"101"}, fail=fault)).check([cand(1), cand(2, "blogpost")])
    assert not check.allowed and not check.denied and check.unchecked == {1, 2} and check.points == 0


def test_a_revoked_grant_is_not_swallowed() -> None:
    with pytest.raises(ReconnectRequired):
        LiveChecker(StubGateway(fail=ReconnectRequired("gone"))).check([cand(1)])


class _Odd(StubGateway):
    def __init__(self, payload: dict[str, object]) -> None:
        super().__init__()
        self.payload = payload

    def get(self, url: str):
        from bot.confluence.gateway import Answer

        self.calls.append(url)
        return Answer(self.payload)


def test_answers_never_widen_what_was_asked() -> None:
    extra = _Odd({"results": [{"id": "101"}, {"id": "999"}, "junk", {"id": 102}], "_links": {"base": BASE}})
    check = LiveChecker(extra).check([cand(1), cand(2)])
    assert check.allowed == {1} and check.denied == {2} and check.short_links == {}
    broken = LiveChecker(_Odd({"oops": True})).check([cand(1)])
    assert broken.unchecked == {1} and not broken.allowed


def test_freshness_and_links() -> None:
    bound = timedelta(minutes=60)
    assert needs_check(cand(1, age=None), now=NOW, bound=bound)
    assert needs_check(cand(1, age=timedelta(minutes=61)), now=NOW, bound=bound)
    assert not needs_check(cand(1, age=timedelta(minutes=59)), now=NOW, bound=bound)
    naive = Candidate(1, "1", "page", (NOW - timedelta(minutes=5)).replace(tzinfo=None))  # SQLite reads naive
    assert not needs_check(naive, now=NOW, bound=bound)
    assert short_link(BASE, "/x/AbC-_9") == BASE + "/x/AbC-_9"
    for bad_base, bad_tiny in (
        (BASE, "/spaces/X/pages/1/Secret+title"),
        (BASE, "/x/"),
        ("javascript:x", "/x/A"),
        (None, "/x/A"),
    ):
        assert short_link(bad_base, bad_tiny) is None
    assert (
        canonical_link("https://acme.atlassian.net/wiki/spaces/HR/pages/42/Layoffs+2027", "42")
        == "https://acme.atlassian.net/wiki/pages/viewpage.action?pageId=42"
    )
    assert canonical_link("https://acme.atlassian.net/spaces/x", "42") is None
    assert canonical_link("https://acme.atlassian.net/wiki/x", "4 2") is None
