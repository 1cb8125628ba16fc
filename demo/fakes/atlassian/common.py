"""Pieces shared by the v1 and v2 Confluence handlers: hosting context, cursors, links, errors."""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import Any
from urllib.parse import urlencode

from .permissions import Viewer
from .site import Content, Site, Space
from .storage_xhtml import tag_word
from .transport import Request, Response, json_response


@dataclass
class HostedSite:
    """A site as exposed by the fake: cloud id, public URL and its generated content."""

    cloud_id: str
    name: str
    site: Site
    cql_tz_offset_minutes: int = 0

    @property
    def url(self) -> str:
        return f"https://{self.name}.atlassian.net"

    @property
    def wiki_base(self) -> str:
        return f"{self.url}/wiki"


@dataclass
class Meter:
    """Objects one answer returned, for Atlassian's points: 1 per request + 1 per core object (page, blog post,
    space) + 2 per identity object (user, group, permission)."""

    core: int = 0
    identity: int = 0

    @property
    def points(self) -> int:
        return 1 + self.core + 2 * self.identity


@dataclass(frozen=True)
class ApiContext:
    """One authenticated API request, routed to a site.

    ``wiki_path`` is the request path relative to the site (always starting with ``/wiki``), so
    endpoint keys and v2 ``next`` links look the same through the gateway and the site prefix.
    """

    hosted: HostedSite
    request: Request
    params: dict[str, str]
    wiki_path: str
    account_id: str
    paging: str = "both"  # where v2 lists name their next page: body (_links.next), header (Link) or both
    meter: Meter = field(default_factory=Meter)

    @property
    def site(self) -> Site:
        return self.hosted.site

    @cached_property
    def viewer(self) -> Viewer:
        """What the caller may see (one per request: it memoises ancestor walks)."""
        return self.site.viewer(self.account_id)


class ApiError(Exception):
    """Raised by handlers; rendered in the v1 or v2 error style."""

    def __init__(self, status: int, title: str) -> None:
        super().__init__(title)
        self.status, self.title = status, title


def v2_error(status: int, title: str) -> Response:
    codes = {400: "INVALID_REQUEST_PARAMETER", 401: "UNAUTHORIZED", 404: "NOT_FOUND"}
    body = {"errors": [{"status": status, "code": codes.get(status, "ERROR"), "title": title, "detail": None}]}
    return json_response(status, body)


def v1_error(status: int, message: str) -> Response:
    reasons = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found"}
    body = {
        "statusCode": status,
        "data": {"authorized": status != 401, "valid": True, "errors": [], "successful": False},
        "message": message,
        "reason": reasons.get(status, "Error"),
    }
    return json_response(status, body)


def encode_cursor(payload: dict[str, Any]) -> str:
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(b"fk1:" + raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> dict[str, Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        if not raw.startswith(b"fk1:"):
            raise ValueError("bad prefix")
        payload = json.loads(raw[4:])
    except (ValueError, binascii.Error) as exc:
        raise ApiError(400, "Invalid cursor") from exc
    if not isinstance(payload, dict):
        raise ApiError(400, "Invalid cursor")
    return payload


def parse_int(value: str | None, name: str, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ApiError(400, f"Provided value {{{value}}} for '{name}' is not the correct type.") from exc


def parse_id(value: str) -> int:
    if not value.isdigit():
        raise ApiError(400, f"Provided value {{{value}}} for 'id' is not the correct type. Expected integer")
    return int(value)


def slug(title: str) -> str:
    return re.sub(r"[^\w]+", "+", title, flags=re.UNICODE).strip("+") or "page"


def tiny_link(content_id: int) -> str:
    raw = content_id.to_bytes(6, "little").rstrip(b"\0")
    return "/x/" + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def webui(item: Content, space: Space) -> str:
    if item.kind == "blogpost":
        day = datetime.fromtimestamp(item.created_at, tz=UTC).strftime("%Y/%m/%d")
        return f"/spaces/{space.key}/blog/{day}/{item.id}/{slug(item.title)}"
    return f"/spaces/{space.key}/pages/{item.id}/{slug(item.title)}"


def query_with(request: Request, overrides: dict[str, str | None]) -> str:
    """The request's query string with some parameters replaced (``None`` removes them)."""
    merged: dict[str, list[str]] = {k: list(v) for k, v in request.query.items()}
    for name, value in overrides.items():
        merged.pop(name, None)
        if value is not None:
            merged[name] = [value]
    return urlencode([(k, v) for k, values in merged.items() for v in values])


def atlas_doc(item: Content, site: Site) -> str:
    """A tiny but valid ADF document (the fake's bodies are authored in storage format)."""
    text = f"{item.title} {tag_word(item.id, site.spec.seed)}"
    doc = {"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [{"type": "text", "text": text}]}]}
    return json.dumps(doc, ensure_ascii=False)
