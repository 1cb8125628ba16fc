"""A CQL subset for the v1 search endpoints.

Supported: ``field op value`` clauses joined with ``and`` / ``or`` / ``not`` and parentheses,
then an optional ``order by field [asc|desc]``.  Fields: ``type``, ``space`` (``space.key``),
``title``, ``text``, ``id``/``content``, ``lastmodified``, ``created``, ``label``, ``ancestor``,
``parent``, ``creator``.  Operators: ``= != ~ !~ > >= < <= in / not in``.  Dates are
``"yyyy-MM-dd[ HH:mm]"`` interpreted in the *site* time zone with minute precision, like Cloud.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from .site import Content, Site

TOKEN = re.compile(
    r'\s*(?:(?P<str>"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\')|(?P<op>!=|!~|>=|<=|[=~<>(),])'
    r"|(?P<word>[\w.:~\-+]+))"
)
Predicate = Callable[[Content], bool]


class CqlError(ValueError):
    """Invalid or unsupported CQL (rendered as HTTP 400)."""


@dataclass(frozen=True)
class Query:
    predicate: Predicate
    order_field: str
    descending: bool


def tokenize(cql: str) -> list[str]:
    tokens, pos = [], 0
    while pos < len(cql):
        if cql[pos:].strip() == "":
            break
        match = TOKEN.match(cql, pos)
        if match is None:
            raise CqlError(f"Could not parse cql near: {cql[pos : pos + 20]!r}")
        tokens.append(match.group(match.lastgroup or "word"))
        pos = match.end()
    return tokens


def _unquote(token: str) -> str:
    if token[:1] in "\"'" and token[-1:] == token[:1]:
        return re.sub(r"\\(.)", r"\1", token[1:-1])
    return token


class _Parser:
    def __init__(self, tokens: list[str], site: Site, tz_minutes: int) -> None:
        self.tokens, self.pos, self.site = tokens, 0, site
        self.tz = timezone(timedelta(minutes=tz_minutes))

    def peek(self) -> str | None:
        return self.tokens[self.pos].lower() if self.pos < len(self.tokens) else None

    def take(self) -> str:
        if self.pos >= len(self.tokens):
            raise CqlError("Unexpected end of CQL")
        self.pos += 1
        return self.tokens[self.pos - 1]

    def parse(self) -> Query:
        predicate: Predicate = (lambda _c: True) if self.peek() in (None, "order") else self.expr()
        field, desc = "id", False
        if self.peek() == "order":
            self.take()
            if self.take().lower() != "by":
                raise CqlError("Expected 'by' after 'order'")
            field = self.take().lower()
            if self.peek() in ("asc", "desc"):
                desc = self.take().lower() == "desc"
        if self.peek() is not None:
            raise CqlError(f"Unexpected token {self.tokens[self.pos]!r}")
        if field not in ORDER_KEYS:
            raise CqlError(f"Unsupported order by field {field!r}")
        return Query(predicate, field, desc)

    def expr(self) -> Predicate:
        left = self.term()
        while self.peek() == "or":
            self.take()
            left = _either(left, self.term())
        return left

    def term(self) -> Predicate:
        left = self.factor()
        while self.peek() == "and":
            self.take()
            left = _both(left, self.factor())
        return left

    def factor(self) -> Predicate:
        if self.peek() == "not":
            self.take()
            inner = self.factor()
            return lambda c: not inner(c)
        if self.peek() == "(":
            self.take()
            inner = self.expr()
            if self.take() != ")":
                raise CqlError("Expected ')'")
            return inner
        return self.clause()

    def clause(self) -> Predicate:
        field = self.take().lower()
        op = self.take().lower()
        if op == "not" and self.peek() == "in":
            self.take()
            op = "not in"
        if op in ("in", "not in"):
            values = self.value_list()
        else:
            values = [_unquote(self.take())]
        return self.build(field, op, values)

    def value_list(self) -> list[str]:
        if self.take() != "(":
            raise CqlError("Expected '(' after in")
        values = [_unquote(self.take())]
        while self.peek() == ",":
            self.take()
            values.append(_unquote(self.take()))
        if self.take() != ")":
            raise CqlError("Expected ')'")
        return values

    def build(self, field: str, op: str, values: list[str]) -> Predicate:
        getter = FIELDS.get(field)
        if getter is None:
            raise CqlError(f"Unsupported CQL field {field!r}")
        if field in ("lastmodified", "created"):
            return self.date_clause(field, op, values[0])
        if op in ("~", "!~"):
            return self.contains_clause(field, op, values[0])
        wanted = {v.lower() for v in values}
        site = self.site

        def hit(c: Content) -> bool:
            got = getter(c, site)
            return bool({str(g).lower() for g in got} & wanted) if isinstance(got, list) else str(got).lower() in wanted

        if op in ("=", "in"):
            return hit
        if op in ("!=", "not in"):
            return lambda c: not hit(c)
        raise CqlError(f"Operator {op!r} not supported for {field}")

    def contains_clause(self, field: str, op: str, needle: str) -> Predicate:
        if field not in ("title", "text"):
            raise CqlError(f"Operator {op!r} not supported for {field}")
        words = [w.lower() for w in needle.replace("*", "").split()]
        site = self.site

        def hit(c: Content) -> bool:
            hay = c.title.lower() if field == "title" else f"{c.title} {site.body(c)}".lower()
            return all(w in hay for w in words)

        return hit if op == "~" else (lambda c: not hit(c))

    def date_clause(self, field: str, op: str, raw: str) -> Predicate:
        bound = self.parse_date(raw)
        compare: dict[str, Callable[[float, float], bool]] = {
            "=": lambda a, b: a == b,
            "!=": lambda a, b: a != b,
            ">": lambda a, b: a > b,
            ">=": lambda a, b: a >= b,
            "<": lambda a, b: a < b,
            "<=": lambda a, b: a <= b,
        }
        if op not in compare:
            raise CqlError(f"Operator {op!r} not supported for dates")
        cmp = compare[op]
        attr = "updated_at" if field == "lastmodified" else "created_at"
        return lambda c: cmp(getattr(c, attr) // 60 * 60, bound)

    def parse_date(self, raw: str) -> float:
        for fmt in ("%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M", "%Y-%m-%d", "%Y/%m/%d"):
            try:
                return datetime.strptime(raw, fmt).replace(tzinfo=self.tz).timestamp()
            except ValueError:
                continue
        raise CqlError(f"Invalid date {raw!r}; expected yyyy-MM-dd HH:mm")


def _either(first: Predicate, second: Predicate) -> Predicate:
    return lambda c: first(c) or second(c)


def _both(first: Predicate, second: Predicate) -> Predicate:
    return lambda c: first(c) and second(c)


def _ancestors(c: Content, site: Site) -> list[int]:
    out: list[int] = []
    parent = c.parent_id
    while parent is not None and len(out) < 100:
        out.append(parent)
        node = site.content.get(parent)
        parent = node.parent_id if node else None
    return out


def labels_of(c: Content) -> list[str]:
    return ["kb", f"team-{c.space_id % 5}"] + (["archived-info"] if c.id % 10 == 0 else [])


FIELDS: dict[str, Callable[[Content, Site], Any]] = {
    "type": lambda c, s: c.kind,
    "space": lambda c, s: s.spaces[c.space_id].key,
    "space.key": lambda c, s: s.spaces[c.space_id].key,
    "title": lambda c, s: c.title,
    "text": lambda c, s: c.title,
    "id": lambda c, s: c.id,
    "content": lambda c, s: c.id,
    "label": lambda c, s: labels_of(c),
    "ancestor": _ancestors,
    "parent": lambda c, s: c.parent_id,
    "creator": lambda c, s: c.author_id,
    "lastmodified": lambda c, s: c.updated_at,
    "created": lambda c, s: c.created_at,
}
ORDER_KEYS: dict[str, Callable[[Content], Any]] = {
    "id": lambda c: c.id,
    "lastmodified": lambda c: c.updated_at,
    "created": lambda c: c.created_at,
    "title": lambda c: c.title,
}


def parse(cql: str, site: Site, tz_minutes: int = 0) -> Query:
    """Compile CQL into a predicate over site content plus its ordering."""
    return _Parser(tokenize(cql), site, tz_minutes).parse()
