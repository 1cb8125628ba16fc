"""What the wizard accepts from people, with a human message for everything it refuses.

Pure functions: they never touch the database or the network, so a view_submission can validate inside
Slack's 3-second window.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import urlsplit

from bot.errors import UserFacingError
from bot.text_policy import refusal

__all__ = [
    "MAX_NAME_LENGTH",
    "InvalidInput",
    "TopOffSettings",
    "name_key",
    "normalize_name",
    "normalize_site_url",
    "parse_top_off",
    "require_visible",
]

MAX_NAME_LENGTH = 64
SITE_SUFFIX = ".atlassian.net"
_NAME_PUNCTUATION = frozenset(" -_.")
_SITE_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_NUMBER = re.compile(r"^\d{1,3}(?:[,_ ]?\d{3})*$|^\d+$")
MAX_CREDITS = 1_000_000_000


class InvalidInput(UserFacingError):
    """One field of a wizard step was refused; ``field`` says which (the view maps it to a block id)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def require_visible(field: str, label: str, raw: str | None) -> str:
    """``raw`` as typed, or InvalidInput naming its first hidden character (control, bidi, zero-width …; see
    :mod:`bot.text_policy`): refused, never silently dropped or turned into a space."""
    text = raw or ""
    message = refusal(text, label)
    if message is not None:
        raise InvalidInput(field, message)
    return text


def normalize_name(raw: str) -> str:
    """The datastore name as it will be stored: refused if it holds a hidden character, otherwise composed
    (NFC: "é" typed as e + accent is stored as one letter), trimmed, and runs of spaces (also no-break or
    ideographic ones) folded to one space."""
    visible = require_visible("name", "name", raw)
    name = " ".join(unicodedata.normalize("NFC", visible).split())
    if not name:
        raise InvalidInput("name", "Give the datastore a name, like eng-wiki.")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidInput("name", f"Keep the name to {MAX_NAME_LENGTH} characters (this one has {len(name)}).")
    bad = sorted({char for char in name if not (char.isalnum() or char in _NAME_PUNCTUATION)})
    if bad:
        shown = " ".join(repr(char) if not char.isprintable() else char for char in bad)
        raise InvalidInput("name", f"Use only letters, digits, spaces, - _ and . in the name (not {shown}).")
    return name


def name_key(name: str) -> str:
    """The case-insensitive identity of a name: two datastores of one workspace never share it."""
    return unicodedata.normalize("NFKC", name).casefold()


def _site_error(message: str) -> InvalidInput:
    return InvalidInput("site_url", message)


def normalize_site_url(raw: str) -> str:
    """``acme``, ``acme.atlassian.net`` or ``https://acme.atlassian.net/wiki/…`` → ``https://acme.atlassian.net``."""
    text = require_visible("site_url", "site URL", raw).strip()
    if not text:
        raise _site_error("Enter your Confluence site, like acme.atlassian.net.")
    if "://" not in text:
        text = "https://" + text
    parts = urlsplit(text)
    if parts.scheme.lower() != "https":
        raise _site_error("Use the https:// address of your site: Confluence Cloud is only served over HTTPS.")
    if "@" in parts.netloc:
        raise _site_error("Leave out any user name or password: enter just the site, like acme.atlassian.net.")
    host = (parts.hostname or "").rstrip(".")
    if _is_ip_literal(host):
        raise _site_error("Enter your site's name, like acme.atlassian.net, not an IP address.")
    try:
        port = parts.port
    except ValueError:
        port = -1
    if port is not None or parts.netloc.rstrip("/").endswith(":"):
        raise _site_error("Leave out the port: Confluence Cloud sites live at https://<name>.atlassian.net.")
    if "." not in host:
        host += SITE_SUFFIX
    site = host.removesuffix(SITE_SUFFIX)
    if not host.endswith(SITE_SUFFIX) or not _SITE_LABEL.match(site):
        raise _site_error(
            f"{host or text} is not a Confluence Cloud site. Enter an address ending in .atlassian.net "
            "(Confluence Data Center is not supported yet)."
        )
    return f"https://{host}"


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return bool(re.fullmatch(r"[\d.]+", host)) and host.count(".") == 3
    return True


@dataclass(frozen=True)
class TopOffSettings:
    """Auto top-off: when the balance drops below ``threshold``, add ``amount``, at most ``monthly_cap``/month."""

    threshold: int
    amount: int
    monthly_cap: int | None


def _positive(field: str, label: str, raw: str | None, *, required: bool) -> int | None:
    text = require_visible(field, label, raw).strip()
    if not text:
        if required:
            raise InvalidInput(field, f"Enter the {label} as a whole number of credits.")
        return None
    if not _NUMBER.match(text):
        raise InvalidInput(field, f"The {label} must be a whole number of credits, like 10000.")
    value = int(re.sub(r"[,_ ]", "", text))
    if value <= 0:
        raise InvalidInput(field, f"The {label} must be more than 0.")
    if value > MAX_CREDITS:
        raise InvalidInput(field, f"The {label} can be at most {MAX_CREDITS:,} credits.")
    return value


def parse_top_off(threshold: str | None, amount: str | None, monthly_cap: str | None) -> TopOffSettings:
    """Validate the auto top-off form; the first refused field raises InvalidInput."""
    low = _positive("threshold", "threshold", threshold, required=True)
    add = _positive("amount", "top-off amount", amount, required=True)
    cap = _positive("monthly_cap", "monthly cap", monthly_cap, required=False)
    assert low is not None and add is not None
    if cap is not None and cap < add:
        raise InvalidInput("monthly_cap", f"The monthly cap must be at least the top-off amount ({add:,}).")
    return TopOffSettings(threshold=low, amount=add, monthly_cap=cap)
