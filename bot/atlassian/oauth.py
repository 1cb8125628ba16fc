"""Atlassian OAuth 2.0 (3LO): the authorize URL, the code exchange (authlib) and who/what was granted.

Tokens never appear in log lines or exception messages raised from here.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import authlib.deprecate  # noqa: F401 - installs authlib's own warning filter before ours below
import httpx

from bot.errors import AtlassianError, OAuthExchangeError
from bot.settings import Settings
from storage.models import utcnow

with warnings.catch_warnings():
    # authlib >= 1.7 prefers the httpx2 fork and warns when it falls back to httpx, which this project uses.
    warnings.filterwarnings("ignore", message="The httpx module is deprecated")
    from authlib.integrations.base_client.errors import OAuthError
    from authlib.integrations.httpx_client import OAuth2Client

__all__ = [
    "READ_SCOPES",
    "SCOPE_DESCRIPTIONS",
    "AccessibleSite",
    "AtlassianAccount",
    "AtlassianOAuth",
    "TokenSet",
]

#: Read-only scopes, in the order the wizard explains them. Changing them forces every user to consent again.
READ_SCOPES: tuple[str, ...] = (
    "read:space:confluence",
    "read:page:confluence",
    "read:attachment:confluence",
    "read:content.metadata:confluence",
    "read:content-details:confluence",
    "read:user:confluence",
    "read:group:confluence",
    "search:confluence",
    "read:me",
    "offline_access",
)

SCOPE_DESCRIPTIONS: dict[str, str] = {
    "read:space:confluence": "See the spaces you can see: their names, keys and descriptions",
    "read:page:confluence": "Read the pages and blog posts you can see, with their content and version history",
    "read:attachment:confluence": "Read the names and contents of attachments on those pages",
    "read:content.metadata:confluence": "See how pages are arranged (parents and children)",
    "read:content-details:confluence": "Read page details such as labels and view restrictions",
    "read:user:confluence": "See the names of people mentioned in pages",
    "read:group:confluence": "See which groups people belong to, so each person sees only what they may see",
    "search:confluence": "Search the content you can see, to find changed pages quickly",
    "read:me": "See the name of the Atlassian account you connect with, to show who connected",
    "offline_access": "Stay connected while you are away, so the datastore keeps itself up to date",
}

HTTP_TIMEOUT = httpx.Timeout(15.0, connect=5.0)


@dataclass(frozen=True)
class TokenSet:
    access_token: str
    refresh_token: str | None
    expires_at: datetime
    scope: str

    def __repr__(self) -> str:
        return f"TokenSet(expires_at={self.expires_at.isoformat()}, scope={self.scope!r})"


@dataclass(frozen=True)
class AccessibleSite:
    cloud_id: str
    url: str
    name: str
    scopes: tuple[str, ...]


@dataclass(frozen=True)
class AtlassianAccount:
    account_id: str
    name: str


#: An ``expires_in`` is believed between a minute and a day (Atlassian's is an hour).
LIFETIME_SECONDS = range(60, 86_401)


def _lifetime(value: object) -> int:
    """``expires_in`` in seconds (an hour when absent); OAuthExchangeError when it is not a sane number."""
    if value is None or value == "":
        return 3600
    text = str(value) if isinstance(value, int | str) and not isinstance(value, bool) else ""
    if not (0 < len(text) <= 6 and text.isascii() and text.isdigit()) or int(text) not in LIFETIME_SECONDS:
        raise OAuthExchangeError("Atlassian's token answer had an unusable expiry.")
    return int(text)


def token_set_from(payload: dict[str, Any], *, now: datetime | None = None) -> TokenSet:
    """A TokenSet from a token endpoint answer (authlib's OAuth2Token or plain JSON)."""
    issued = now or utcnow()
    access = payload.get("access_token")
    if not isinstance(access, str) or not access:
        raise OAuthExchangeError("Atlassian's token answer had no access token.")
    expires_in = _lifetime(payload.get("expires_in"))
    refresh = payload.get("refresh_token")
    return TokenSet(
        access_token=access,
        refresh_token=refresh if isinstance(refresh, str) and refresh else None,
        expires_at=issued + timedelta(seconds=expires_in),
        scope=str(payload.get("scope") or ""),
    )


class AtlassianOAuth:
    """Talks to ATLASSIAN_AUTH_URL (authorize, token) and ATLASSIAN_API_URL (resources, me)."""

    def __init__(self, settings: Settings, *, transport: httpx.BaseTransport | None = None) -> None:
        self._settings = settings
        self._transport = transport

    @property
    def configured(self) -> bool:
        return bool(self._settings.atlassian_client_id and self._settings.atlassian_client_secret)

    def authorize_url(self, state: str) -> str:
        query = {
            "audience": "api.atlassian.com",
            "client_id": self._settings.atlassian_client_id or "",
            "scope": " ".join(READ_SCOPES),
            "redirect_uri": self._settings.oauth_callback_url,
            "state": state,
            "response_type": "code",
            "prompt": "consent",
        }
        return f"{self._settings.atlassian_auth_url}/authorize?{urlencode(query)}"

    @contextmanager
    def _oauth_client(self) -> Iterator[OAuth2Client]:
        secret = self._settings.atlassian_client_secret
        client = OAuth2Client(
            client_id=self._settings.atlassian_client_id,
            client_secret=secret.get_secret_value() if secret else None,
            token_endpoint_auth_method="client_secret_post",
            redirect_uri=self._settings.oauth_callback_url,
            timeout=HTTP_TIMEOUT,
            transport=self._transport,
        )
        try:
            yield client
        finally:
            client.close()

    def exchange_code(self, code: str) -> TokenSet:
        """Trade the authorization code for tokens (client_secret_post)."""
        url = f"{self._settings.atlassian_auth_url}/oauth/token"
        with self._oauth_client() as client:
            try:
                token = client.fetch_token(url, grant_type="authorization_code", code=code)
            except OAuthError as exc:
                raise OAuthExchangeError(f"Atlassian refused the authorization code ({exc.error}).") from None
            except httpx.HTTPError as exc:
                raise OAuthExchangeError(
                    f"Atlassian's token endpoint could not be reached ({type(exc).__name__})."
                ) from None
            except ValueError:
                raise OAuthExchangeError(
                    "Atlassian's token endpoint answered with something that is not JSON."
                ) from None
        return token_set_from(dict(token))

    def _api_get(self, path: str, access_token: str) -> Any:
        with httpx.Client(
            base_url=self._settings.atlassian_api_url, timeout=HTTP_TIMEOUT, transport=self._transport
        ) as client:
            try:
                response = client.get(path, headers={"Authorization": f"Bearer {access_token}"})
            except httpx.HTTPError as exc:
                raise AtlassianError(f"Atlassian could not be reached ({type(exc).__name__}).") from None
        if response.status_code != 200:
            raise AtlassianError(f"Atlassian answered {response.status_code} to {path}.")
        try:
            return response.json()
        except ValueError:
            raise AtlassianError(f"Atlassian answered {path} with something that is not JSON.") from None

    def accessible_sites(self, access_token: str) -> list[AccessibleSite]:
        payload = self._api_get("/oauth/token/accessible-resources", access_token)
        if not isinstance(payload, list):
            raise AtlassianError("Atlassian's list of sites was not a list.")
        return [
            AccessibleSite(
                cloud_id=str(item["id"]),
                url=str(item["url"]).rstrip("/"),
                name=str(item.get("name") or item["url"]),
                scopes=tuple(item.get("scopes") or ()),
            )
            for item in payload
            if isinstance(item, dict) and item.get("id") and item.get("url")
        ]

    def current_account(self, access_token: str) -> AtlassianAccount:
        payload = self._api_get("/me", access_token)
        if not isinstance(payload, dict) or not payload.get("account_id"):
            raise AtlassianError("Atlassian did not say who gave consent.")
        return AtlassianAccount(account_id=str(payload["account_id"]), name=str(payload.get("name") or "someone"))
