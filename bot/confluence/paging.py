"""Confluence paging, distrusted: which page of a listing to ask for next, or why the listing cannot be finished.

A v2 list answer names its next page twice: ``_links.next`` in the body and ``Link: <…>; rel="next"`` in the
headers (the spec documents the header; real answers carry both). Either one is followed; when both are there
their cursors must agree. A next link is only ever used for its cursor:

* it must be a relative path of the very listing being read — the same path, byte for byte (so no other host,
  ``//host``, ``/wiki/../``, percent-encoded dot segments or slashes, and no other endpoint), printable ASCII,
  no fragment, a query that parses, exactly one non-empty ``cursor``, and no parameter of ours with another
  value;
* the request for the next page is then rebuilt from the listing's own URL plus that cursor, so a server can
  neither point the client elsewhere nor change what is listed;
* a cursor seen before in the same listing is a loop, and a listing longer than MAX_PAGES never ends.

Whatever breaks these rules raises IncompleteListing: the listing stops there and nothing is pruned. A stored
cursor (a resumed run) is checked with the same rules as a fresh one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote, unquote_plus, urlencode, urlsplit

from bot.errors import IncompleteListing

__all__ = ["MAX_PAGES", "CursorTrail", "ListingUrl", "link_header_next", "next_page"]

#: 250 items × 10,000 pages = 2.5 million per listing: far beyond a real space, and a bound on an endless ``next``.
MAX_PAGES = 10_000
MAX_LINK_CHARS = 8192
MAX_CURSOR_CHARS = 4096
MAX_LINK_HEADER_CHARS = 16_384
MAX_FIELDS = 100
_PRINTABLE = re.compile(r"[\x21-\x7e]+")
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_WHITESPACE = " \t"


def _refuse(why: str) -> IncompleteListing:
    return IncompleteListing(f"Confluence sent {why}, so this listing stops here and nothing is deleted.")


def _parts(pairs: Sequence[tuple[str, str]], name: str) -> set[str]:
    """Every value of ``name``, comma-separated lists split (``id=1,2`` and ``id=1&id=2`` mean the same)."""
    return {part for key, value in pairs if key == name for part in value.split(",") if part}


@dataclass(frozen=True)
class ListingUrl:
    """One listing: its path and its own query parameters (never a cursor)."""

    path: str
    params: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, url: str) -> ListingUrl:
        """The listing that ``url`` (built by the client itself, so trusted) starts."""
        split = urlsplit(url)
        pairs = tuple((k, v) for k, v in parse_qsl(split.query, keep_blank_values=True) if k != "cursor")
        return cls(split.path, pairs)

    def at(self, cursor: str | None) -> str:
        """The URL of the page at ``cursor`` (as :meth:`cursor_of` returned it; the first page when None)."""
        query = "&".join(part for part in (urlencode(self.params), f"cursor={cursor}" if cursor else "") if part)
        return f"{self.path}?{query}" if query else self.path

    def cursor_of(self, link: object) -> str:
        """The cursor of a next-page link (or stored cursor) of this listing, exactly as sent (still
        percent-encoded); IncompleteListing when ``link`` is not a next page of this listing."""
        if not isinstance(link, str):
            raise _refuse("a next-page link that is not text")
        if not link or len(link) > MAX_LINK_CHARS or not _PRINTABLE.fullmatch(link) or "\\" in link:
            raise _refuse("a next-page link that is empty, oversized or has characters no URL has")
        split = urlsplit(link)
        if split.scheme or split.netloc or not link.startswith("/") or link.startswith("//"):
            raise _refuse("a next-page link that is not a relative /wiki/ path")
        if "#" in link:
            raise _refuse("a next-page link with a fragment")
        if not split.path.startswith("/wiki/"):
            raise _refuse("a next-page link that is not a relative /wiki/ path")
        if split.path != self.path:
            raise _refuse("a next-page link to another listing")
        fields = split.query.split("&") if split.query else []
        pairs = [field.partition("=") for field in fields]
        if len(fields) > MAX_FIELDS or any(not name or not equals for name, equals, _ in pairs):
            raise _refuse("a next-page link whose query cannot be read")
        cursors = [raw for name, _, raw in pairs if unquote_plus(name) == "cursor"]
        if len(cursors) != 1:
            raise _refuse("a next-page link without exactly one cursor")
        (cursor,) = cursors
        if not cursor or len(cursor) > MAX_CURSOR_CHARS or not _PRINTABLE.fullmatch(unquote(cursor)):
            raise _refuse("a next-page link whose cursor is empty, oversized or not printable")
        theirs = [(unquote_plus(name), unquote_plus(raw)) for name, _, raw in pairs]
        for name in {key for key, _ in theirs} & {key for key, _ in self.params}:
            if _parts(theirs, name) != _parts(self.params, name):
                raise _refuse("a next-page link that changes what the listing asks for")
        return cursor


def _quoted(value: str, start: int) -> tuple[str, int]:
    """A quoted-string starting at ``value[start]`` (the opening quote): its text and the index after it."""
    out, index = [], start + 1
    while index < len(value):
        char = value[index]
        if char == "\\" and index + 1 < len(value):
            out.append(value[index + 1])
            index += 2
            continue
        if char == '"':
            return "".join(out), index + 1
        out.append(char)
        index += 1
    raise ValueError("unterminated quoted-string")


def _skip(value: str, index: int) -> int:
    while index < len(value) and value[index] in _WHITESPACE:
        index += 1
    return index


def _param(value: str, index: int) -> tuple[str, str, int]:
    """One ``name[=value]`` link parameter starting at ``value[index]``."""
    name = _TOKEN.match(value, index)
    if name is None:
        raise ValueError("a link parameter without a name")
    index = _skip(value, name.end())
    if index >= len(value) or value[index] != "=":
        return name.group().lower(), "", index
    index = _skip(value, index + 1)
    if index < len(value) and value[index] == '"':
        text, index = _quoted(value, index)
        return name.group().lower(), text, index
    token = _TOKEN.match(value, index)
    if token is None:
        raise ValueError("a link parameter without a value")
    return name.group().lower(), token.group(), token.end()


def _link_values(header: str) -> list[tuple[str, dict[str, str]]]:
    """RFC 8288 ``Link`` values: each target with its parameters (the first of a repeated one wins)."""
    links: list[tuple[str, dict[str, str]]] = []
    index = 0
    while True:
        while index < len(header) and header[index] in _WHITESPACE + ",":
            index += 1
        if index >= len(header):
            return links
        if header[index] != "<":
            raise ValueError("a link value that does not start with <")
        end = header.find(">", index + 1)
        if end < 0 or "<" in header[index + 1 : end]:
            raise ValueError("a link target without its closing >")
        target, index = header[index + 1 : end], _skip(header, end + 1)
        params: dict[str, str] = {}
        while index < len(header) and header[index] == ";":
            name, text, index = _param(header, _skip(header, index + 1))
            params.setdefault(name, text)
            index = _skip(header, index)
        if index < len(header) and header[index] != ",":
            raise ValueError("text after a link value")
        links.append((target, params))


def link_header_next(values: Sequence[str]) -> str | None:
    """The ``rel="next"`` target of the ``Link`` headers, None when there is none; IncompleteListing when they
    cannot be read or name two different next pages."""
    if sum(len(value) for value in values) > MAX_LINK_HEADER_CHARS:
        raise _refuse("an oversized Link header")
    targets: set[str] = set()
    for value in values:
        try:
            links = _link_values(value)
        except ValueError:
            raise _refuse("a Link header that cannot be read") from None
        targets.update(target for target, params in links if "next" in params.get("rel", "").lower().split())
    if len(targets) > 1:
        raise _refuse("a Link header naming two different next pages")
    return targets.pop() if targets else None


def _body_next(payload: dict[str, Any]) -> object | None:
    """``_links.next`` as sent (None when absent or null); IncompleteListing when ``_links`` is not an object."""
    links = payload.get("_links")
    if links is None:
        return None
    if not isinstance(links, dict):
        raise _refuse("an answer whose _links is not an object")
    return links.get("next")


def next_page(listing: ListingUrl, payload: dict[str, Any], link_headers: Sequence[str]) -> str | None:
    """The URL of the listing's next page (rebuilt from ``listing``), None at its end; IncompleteListing when
    either next link is bad or the two disagree."""
    links = [link for link in (_body_next(payload), link_header_next(link_headers)) if link is not None]
    cursors = [listing.cursor_of(link) for link in links]
    if len({unquote(cursor) for cursor in cursors}) > 1:
        raise _refuse("two next-page links (in the body and in the Link header) that disagree")
    return listing.at(cursors[0]) if cursors else None


class CursorTrail:
    """The pages one listing has asked for: a page asked for again is a loop; more than ``max_pages`` never ends."""

    def __init__(self, start: str | None = None, *, max_pages: int = MAX_PAGES) -> None:
        self._seen: set[str] = {start} if start is not None else set()
        self._max_pages = max_pages
        self._pages = 1

    def follow(self, url: str | None) -> str | None:
        """``url`` (the next page's), once it is known to be new; None at the end of the listing."""
        if url is None:
            return None
        if url in self._seen:
            raise _refuse("a next-page link this listing had already followed (a loop)")
        if self._pages >= self._max_pages:
            raise _refuse(f"next-page links for more than {self._max_pages:,} pages")
        self._seen.add(url)
        self._pages += 1
        return url
