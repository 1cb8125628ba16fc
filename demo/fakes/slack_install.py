"""The fake's side of "Add to Slack" (OAuth v2): authorization codes and ``oauth.v2.access``.

Slack's consent page is played by :meth:`SlackInstalls.issue_code`; the bot then exchanges the code with
client credentials (HTTP Basic, as slack_sdk sends them, or form fields) and receives a new bot token that
the fake accepts from then on.
"""

from __future__ import annotations

import base64
import secrets
import threading
from dataclasses import dataclass

from demo.fakes.slack_http import HttpRequest

JsonDict = dict[str, object]


@dataclass
class _Code:
    user_id: str
    redirect_uri: str | None
    used: bool = False


class SlackInstalls:
    def __init__(self, team_id: str, team_name: str, bot_user_id: str, app_id: str, accept_token: object) -> None:
        self.team_id, self.team_name, self.bot_user_id, self.app_id = team_id, team_name, bot_user_id, app_id
        self._accept_token = accept_token
        self._apps: dict[str, str] = {}
        self._codes: dict[str, _Code] = {}
        self._lock = threading.Lock()
        self.installed_tokens: list[str] = []

    def register_app(self, client_id: str, client_secret: str) -> None:
        self._apps[client_id] = client_secret

    def issue_code(self, user_id: str, redirect_uri: str | None = None) -> str:
        """The user clicked "Allow" on Slack's install page: a single-use code for the redirect."""
        code = secrets.token_hex(12)
        with self._lock:
            self._codes[code] = _Code(user_id, redirect_uri)
        return code

    def _client(self, request: HttpRequest, args: JsonDict) -> tuple[str, str]:
        header = request.headers.get("authorization", "")
        if header.lower().startswith("basic "):
            client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
            return client_id, secret
        return str(args.get("client_id", "")), str(args.get("client_secret", ""))

    def access(self, request: HttpRequest, args: JsonDict) -> JsonDict:
        client_id, secret = self._client(request, args)
        if client_id not in self._apps:
            return {"ok": False, "error": "invalid_client_id"}
        if not secrets.compare_digest(secret, self._apps[client_id]):
            return {"ok": False, "error": "bad_client_secret"}
        with self._lock:
            code = self._codes.get(str(args.get("code", "")))
            if code is None or code.used:
                return {"ok": False, "error": "invalid_code"}
            if code.redirect_uri is not None and args.get("redirect_uri") != code.redirect_uri:
                return {"ok": False, "error": "bad_redirect_uri"}
            code.used = True
            token = f"xoxb-installed-{secrets.token_hex(8)}"
            self.installed_tokens.append(token)
        self._accept_token(token)  # type: ignore[operator]
        return {
            "ok": True,
            "app_id": self.app_id,
            "authed_user": {"id": code.user_id},
            "scope": "commands,chat:write,chat:write.public,reactions:write,users:read,im:write,"
            "channels:history,groups:history,im:history",
            "token_type": "bot",
            "access_token": token,
            "bot_user_id": self.bot_user_id,
            "team": {"id": self.team_id, "name": self.team_name},
            "enterprise": None,
            "is_enterprise_install": False,
        }
