"""bot.confluence.paging over generated hostile next links, Link headers and loops (no network: pure functions).

Every hostile link must raise IncompleteListing — a listing that cannot be trusted stops, and nothing is pruned —
and a link that passes only ever yields the listing's own URL with a cursor.
"""

from __future__ import annotations

import random
import string
from collections.abc import Iterator
from typing import Any

import pytest

from bot.confluence.paging import MAX_PAGES, CursorTrail, ListingUrl, link_header_next, next_page
from bot.errors import IncompleteListing
from tests.hostile import CONTROL_CHARACTERS, hostile_strings

PATH = "/wiki/api/v2/spaces/98304/pages"
LISTING = ListingUrl.of(f"{PATH}?limit=250&body-format=storage")
CURSOR = "eyJpZCI6OTgzMDV9"
GOOD = f"{PATH}?limit=250&body-format=storage&cursor={CURSOR}"
BASE = "https://acme.atlassian.net/wiki"


# ----- links that are fine --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("link", "cursor"),
    [
        (GOOD, CURSOR),
        (f"{PATH}?cursor={CURSOR}", CURSOR),  # our own parameters left out: we send them anyway
        (f"{PATH}?cursor={CURSOR}&body-format=storage&limit=250", CURSOR),  # another order
        (f"{PATH}?limit=250&cursor=abc%3D%3D", "abc%3D%3D"),  # percent-encoded, kept exactly as sent
        (f"{PATH}?limit=250&cursor=a+b/c=", "a+b/c="),
        (f"{PATH}?limit=250&cursor={CURSOR}&depth=all", CURSOR),  # an extra parameter is not sent on
    ],
    ids=["as-sent", "bare", "reordered", "encoded", "base64-chars", "extra-param"],
)
def test_a_next_link_of_the_listing_yields_its_cursor_and_the_listing_own_url(link: str, cursor: str) -> None:
    assert LISTING.cursor_of(link) == cursor
    assert LISTING.at(cursor) == f"{PATH}?limit=250&body-format=storage&cursor={cursor}"
    assert LISTING.cursor_of(LISTING.at(cursor)) == cursor  # a stored cursor passes the same check


def test_comma_lists_and_repeated_parameters_mean_the_same() -> None:
    ids = ListingUrl.of("/wiki/api/v2/pages?id=1%2C2%2C3&limit=250")
    assert ids.cursor_of("/wiki/api/v2/pages?id=3&id=1&id=2&limit=250&cursor=x") == "x"
    with pytest.raises(IncompleteListing):
        ids.cursor_of("/wiki/api/v2/pages?id=1&id=2&limit=250&cursor=x")  # another set of ids


# ----- generated hostile links, per kind ------------------------------------------------------------------
HOSTS = ["evil.example", "acme.atlassian.net", "api.atlassian.com", "127.0.0.1:8080", "[::1]", "evil.example."]
SCHEMES = ["https", "http", "HTTPS", "ftp", "file", "javascript", "data", "wiki"]
TAIL = f"?limit=250&cursor={CURSOR}"


def _absolute() -> Iterator[str]:
    for scheme in SCHEMES:
        for host in HOSTS:
            yield f"{scheme}://{host}{PATH}{TAIL}"
    yield f"http:{PATH}{TAIL}"  # a scheme without a host
    yield f"https:{PATH}{TAIL}"
    yield f"javascript:alert(1)//{PATH}"


def _host_relative() -> Iterator[str]:
    for host in HOSTS:
        yield f"//{host}{PATH}{TAIL}"
        yield f"///{host}{PATH}{TAIL}"
        yield f"/\\{host}{PATH}{TAIL}"
        yield f"\\\\{host}{PATH}{TAIL}"
        yield f"/wiki@{host}{PATH}{TAIL}"


def _dot_segments() -> Iterator[str]:
    yield f"/wiki/../wiki/api/v2/spaces/98304/pages{TAIL}"
    yield f"/wiki/./api/v2/spaces/98304/pages{TAIL}"
    yield f"{PATH}/..{TAIL}"
    yield f"{PATH}/../../../spaces/1/pages{TAIL}"
    yield f"/wiki/api/v2/spaces/98304/./pages{TAIL}"
    yield f"/wiki/api/v2/spaces/98304/pages/.{TAIL}"
    yield f"/wiki/api/v2/../v2/spaces/98304/pages{TAIL}"


def _encoded() -> Iterator[str]:
    for dots in ["%2e%2e", "%2E%2E", ".%2e", "%2e.", "%252e%252e", "%c0%ae%c0%ae", "%u002e%u002e"]:
        yield f"/wiki/{dots}/wiki/api/v2/spaces/98304/pages{TAIL}"
        yield f"{PATH}/{dots}{TAIL}"
    for slash in ["%2f", "%2F", "%252f", "%5c", "%5C", "%00", "%0a", "%20"]:
        yield f"/wiki/api/v2/spaces/98304{slash}pages{TAIL}"
        yield f"/wiki{slash}api/v2/spaces/98304/pages{TAIL}"
    yield f"/wiki/api/v2/spaces/9830%34/pages{TAIL}"  # the same id, encoded: still not our path
    yield f"/%77iki/api/v2/spaces/98304/pages{TAIL}"


def _other_endpoints() -> Iterator[str]:
    for path in [
        "/wiki/api/v2/spaces/1/pages",
        "/wiki/api/v2/spaces/98305/pages",
        "/wiki/api/v2/spaces/98304/blogposts",
        "/wiki/api/v2/spaces/98304",
        "/wiki/api/v2/pages",
        "/wiki/api/v2/spaces",
        "/wiki/rest/api/content",
        "/wiki/rest/api/content/search",
        "/wiki/api/v2/spaces/98304/pages/",
        "/wiki/api/v2/spaces/98304/pages//",
        "/wiki/api/v2/spaces//98304/pages",
        "/wiki//api/v2/spaces/98304/pages",
        "/wiki/api/v2/spaces/98304/Pages",
        "/WIKI/api/v2/spaces/98304/pages",
        "/wiki/api/v2/spaces/98304/pages;x=1",
        "/wiki/",
        "/wiki",
        "/rest/api/content",
        "/ex/confluence/abc/wiki/api/v2/spaces/98304/pages",
        "/",
    ]:
        yield f"{path}{TAIL}"


def _not_relative() -> Iterator[str]:
    yield f"wiki/api/v2/spaces/98304/pages{TAIL}"
    yield f"api/v2/spaces/98304/pages{TAIL}"
    yield TAIL
    yield f"./wiki/api/v2/spaces/98304/pages{TAIL}"
    yield f"../wiki/api/v2/spaces/98304/pages{TAIL}"
    yield "string"  # what a spec-only mock server sends
    yield "next"


def _characters() -> Iterator[str]:
    for char in [" ", "\t", "\n", "\r", "\x00", "\x7f", "\\", "é", "\u202e", "\u200b", "\ufeff", "\u3000"]:
        yield f"/wiki/api/v2/spaces/98304{char}/pages{TAIL}"
        yield f"{GOOD}{char}"
    yield ""
    yield GOOD + "a" * 9000  # oversized


def _queries() -> Iterator[str]:
    yield PATH  # no cursor at all
    yield f"{PATH}?limit=250"
    yield f"{PATH}?cursor="
    yield f"{PATH}?cursor={CURSOR}&cursor=other"
    yield f"{PATH}?cursor={CURSOR}&cursor={CURSOR}"
    yield f"{PATH}?cursor=%00abc"
    yield f"{PATH}?cursor=%E2%80%AEabc"  # a bidi override, once decoded
    yield f"{PATH}?cursor=%20"
    yield f"{PATH}?cursor=" + "a" * 5000
    yield f"{PATH}?limit=250&&cursor={CURSOR}"
    yield f"{PATH}?limit&cursor={CURSOR}"
    yield f"{PATH}?=x&cursor={CURSOR}"
    yield f"{PATH}?limit=25&cursor={CURSOR}"  # our parameters changed: another listing
    yield f"{PATH}?body-format=atlas_doc_format&cursor={CURSOR}"
    yield f"{PATH}?body-format=storage&body-format=view&cursor={CURSOR}"
    yield f"{PATH}?cursor={CURSOR}#fragment"
    yield f"{PATH}?cursor={CURSOR}#"
    yield f"{PATH}?" + "&".join(f"p{i}=1" for i in range(150)) + f"&cursor={CURSOR}"


def _mutated(seed: int = 19, count: int = 80) -> Iterator[str]:
    """``GOOD`` with a random character planted in its path (never our path then), or a character no URL has
    planted anywhere."""
    rng = random.Random(seed)
    pool = string.printable + "".join(CONTROL_CHARACTERS) + "éü中🙂"
    for _ in range(count):
        char = rng.choice(pool)
        printable = char in string.printable and not char.isspace()
        spot = rng.randrange(1, len(PATH) + 1) if printable else rng.randrange(0, len(GOOD) + 1)
        yield GOOD[:spot] + char + GOOD[spot:]


KINDS: dict[str, Iterator[str]] = {
    "absolute": _absolute(),
    "host-relative": _host_relative(),
    "dot-segments": _dot_segments(),
    "percent-encoded": _encoded(),
    "other-endpoint": _other_endpoints(),
    "not-relative": _not_relative(),
    "characters": _characters(),
    "query": _queries(),
    "mutated": _mutated(),
    "hostile-text": (text for _label, text in hostile_strings(seed=29, count=40)),
}
HOSTILE = [(f"{kind}-{index}", link) for kind, links in KINDS.items() for index, link in enumerate(links)]
NOT_TEXT: list[Any] = [0, 1, 3.5, True, False, [], [GOOD], {}, {"href": GOOD}, b"/wiki/x"]


def test_the_corpus_is_large_and_every_kind_is_in_it() -> None:
    kinds = {label.rsplit("-", 1)[0] for label, _ in HOSTILE}
    assert kinds == set(KINDS) and len(HOSTILE) >= 300


@pytest.mark.parametrize(("label", "link"), HOSTILE, ids=[label for label, _ in HOSTILE])
def test_a_hostile_next_link_stops_the_listing(label: str, link: str) -> None:
    with pytest.raises(IncompleteListing, match="nothing is deleted"):
        LISTING.cursor_of(link)
    # The same link, wherever it comes from, stops the listing: the body, the Link header, or both.
    for payload, headers in (
        ({"_links": {"next": link}}, []),
        ({"results": []}, [f'<{link}>; rel="next"']),
        ({"_links": {"next": link}}, [f'<{link}>; rel="next"']),
    ):
        with pytest.raises(IncompleteListing):
            next_page(LISTING, payload, headers)


@pytest.mark.parametrize("value", NOT_TEXT, ids=[type(v).__name__ + str(i) for i, v in enumerate(NOT_TEXT)])
def test_a_next_link_that_is_not_text_stops_the_listing(value: Any) -> None:
    with pytest.raises(IncompleteListing):
        next_page(LISTING, {"_links": {"next": value}}, [])


@pytest.mark.parametrize("links", [[], "next", 5, None], ids=["list", "text", "number", "null"])
def test_links_that_are_not_an_object(links: Any) -> None:
    if links is None:
        assert next_page(LISTING, {"_links": None}, []) is None
    else:
        with pytest.raises(IncompleteListing):
            next_page(LISTING, {"_links": links}, [])


# ----- the Link header -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ([f'<{GOOD}>; rel="next", <{BASE}>; rel="base"'], GOOD),  # the spec's own format
        ([f'<{BASE}>; rel="base", <{GOOD}>; rel="next"'], GOOD),
        ([f"<{GOOD}>; rel=next"], GOOD),
        ([f'<{GOOD}>;rel="next"'], GOOD),
        ([f'<{GOOD}> ; REL = "NEXT"'], GOOD),
        ([f'<{GOOD}>; rel="last next"'], GOOD),
        ([f'<{GOOD}>; title="a, b; c>"; rel="next"'], GOOD),
        ([f'<{GOOD}>; rel="next"; rel="prev"'], GOOD),  # the first rel counts
        ([f'<{BASE}>; rel="base"', f'<{GOOD}>; rel="next"'], GOOD),  # two Link headers
        ([f'<{GOOD}>; rel="next"', f'<{GOOD}>; rel="next"'], GOOD),  # the same next twice
        ([f'<{BASE}>; rel="base"'], None),
        ([f'<{GOOD}>; rel="prev"', f"<{GOOD}>; rel=nextpage"], None),
        ([], None),
        ([""], None),
        ([" , ,"], None),
    ],
)
def test_link_headers_that_can_be_read(headers: list[str], expected: str | None) -> None:
    assert link_header_next(headers) == expected


@pytest.mark.parametrize(
    "header",
    [
        f'{GOOD}; rel="next"',  # no angle brackets
        f'<{GOOD}; rel="next"',
        f'<{GOOD}>; rel="next',  # an unterminated quote
        f'<{GOOD}>; rel="next" junk',
        f'<{GOOD}>; ="next"',
        f"<{GOOD}>; rel=",
        f'<{GOOD}>; rel="next" <{BASE}>; rel="base"',  # a missing comma
        f'<<{GOOD}>>; rel="next"',
        f'<{GOOD}>; rel="next", <https://other.example{PATH}?cursor=x>; rel="next"',  # two different next pages
        f'<{GOOD}>; rel="next", <{PATH}?cursor=other>; rel="next"',
        f'<{GOOD}>; rel="next"' + ", <x>" * 4000,  # oversized
    ],
)
def test_link_headers_that_cannot_be_trusted_stop_the_listing(header: str) -> None:
    with pytest.raises(IncompleteListing):
        link_header_next([header])
    with pytest.raises(IncompleteListing):
        next_page(LISTING, {"_links": {"next": GOOD}}, [header])


# ----- the two mechanisms together -------------------------------------------------------------------------
def test_either_mechanism_is_followed_and_both_must_agree() -> None:
    expected = LISTING.at(CURSOR)
    header = [f'<{GOOD}>; rel="next", <{BASE}>; rel="base"']
    assert next_page(LISTING, {"_links": {"next": GOOD, "base": BASE}}, header) == expected
    assert next_page(LISTING, {"_links": {"next": GOOD}}, []) == expected  # the body alone
    assert next_page(LISTING, {"_links": {"base": BASE}}, header) == expected  # the header alone
    assert next_page(LISTING, {"results": []}, header) == expected
    assert next_page(LISTING, {"_links": {"next": None}}, header) == expected
    assert next_page(LISTING, {"_links": {"base": BASE}}, []) is None  # the end
    # The same cursor, encoded differently, agrees.
    assert next_page(LISTING, {"_links": {"next": f"{PATH}?cursor=a%3D"}}, [f"<{PATH}?cursor=a=>; rel=next"])
    for other in (f"{PATH}?cursor=other", f"{PATH}?limit=250&cursor={CURSOR}x"):
        with pytest.raises(IncompleteListing, match="disagree"):
            next_page(LISTING, {"_links": {"next": GOOD}}, [f"<{other}>; rel=next"])
        with pytest.raises(IncompleteListing, match="disagree"):
            next_page(LISTING, {"_links": {"next": other}}, [f"<{GOOD}>; rel=next"])
    with pytest.raises(IncompleteListing):  # present but empty is not "no next page"
        next_page(LISTING, {"_links": {"next": ""}}, header)


# ----- loops -----------------------------------------------------------------------------------------------
def test_a_cursor_followed_before_is_a_loop() -> None:
    trail = CursorTrail()
    urls = [LISTING.at(f"c{i}") for i in range(5)]
    assert [trail.follow(url) for url in urls] == urls
    for url in urls:
        with pytest.raises(IncompleteListing, match="loop"):
            trail.follow(url)
    assert trail.follow(None) is None


def test_a_resumed_listing_counts_its_stored_cursor_as_followed() -> None:
    stored = LISTING.at("c7")
    with pytest.raises(IncompleteListing, match="loop"):
        CursorTrail(stored).follow(stored)


def test_an_endless_listing_stops_at_max_pages() -> None:
    trail = CursorTrail(max_pages=4)
    for index in range(3):
        trail.follow(LISTING.at(f"c{index}"))
    with pytest.raises(IncompleteListing, match="more than 4 pages"):
        trail.follow(LISTING.at("c3"))
    assert MAX_PAGES >= 10_000
