"""What Slack always sends, per kind of request: a signed body of any other shape is refused with a 400.

Each kind's model lists only the fields Slack always includes (and the types it always gives them); anything
else may be there too (``extra="allow"``). Beyond the models, every Slack id anywhere in the body (``team_id``,
``user``, ``channel``, ``enterprise`` … the keys Bolt and the listeners read ids from) must look like one:
upper-case letters and digits, at most 32, so no NUL, control character or 10 KB string reaches SQL or a
Web API call. The bot keeps using the original dict; the models only judge it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

from bot.errors import RequestRejected

__all__ = ["SLACK_ID", "SlackKind", "is_slack_id", "validate_envelope"]


class SlackKind(StrEnum):
    """The kinds of request Slack sends this app (the manifest's command, interactivity and events)."""

    COMMAND = "slash_command"
    SSL_CHECK = "ssl_check"
    BLOCK_ACTIONS = "block_actions"
    BLOCK_SUGGESTION = "block_suggestion"
    VIEW_SUBMISSION = "view_submission"
    VIEW_CLOSED = "view_closed"
    EVENT = "event_callback"
    URL_VERIFICATION = "url_verification"
    APP_RATE_LIMITED = "app_rate_limited"


#: A Slack id (team, enterprise, user, channel, view, app): what every id Slack issues looks like.
SLACK_ID = r"^[A-Z0-9]{1,32}$"
SlackId = Annotated[str, StringConstraints(pattern=SLACK_ID)]
_ID = re.compile(SLACK_ID)
Short = Annotated[str, StringConstraints(min_length=1, max_length=255)]
Name = Annotated[str, StringConstraints(max_length=255)]
Metadata = Annotated[str, StringConstraints(max_length=3000)]
Value = Annotated[str, StringConstraints(max_length=3000)]
#: trigger_id: printable ASCII, no spaces (Slack's look like ``123.456.0a1b…``).
Token = Annotated[str, StringConstraints(pattern=r"^[!-~]{1,255}$")]
Url = Annotated[str, StringConstraints(pattern=r"^https?://[!-~]{1,2000}$")]
Command = Annotated[str, StringConstraints(pattern=r"^/[^\s\x00-\x1f\x7f]{1,32}$")]


class _Shape(BaseModel):
    model_config = ConfigDict(strict=True, extra="allow")


class _Ref(_Shape):
    id: SlackId


class _User(_Shape):
    id: SlackId
    team_id: SlackId | None = None


class _Option(_Shape):
    value: Value


class _ElementState(_Shape):
    type: Short
    value: Value | None = None
    selected_option: _Option | None = None
    selected_options: list[_Option] | None = None


class _State(_Shape):
    values: dict[Name, dict[Name, _ElementState]]


class _SubmittedView(_Shape):
    id: SlackId
    callback_id: Name
    private_metadata: Metadata
    state: _State
    hash: Name | None = None


class _ClosedView(_Shape):
    id: SlackId
    callback_id: Name
    private_metadata: Metadata
    state: _State | None = None


class _SourceView(_Shape):
    """The view an action or an options request came from: a modal or App Home."""

    id: SlackId
    callback_id: Name | None = None
    private_metadata: Metadata | None = None
    state: _State | None = None
    hash: Name | None = None


class _Interactive(_Shape):
    user: _User
    team: _Ref | None = None
    enterprise: _Ref | None = None
    api_app_id: SlackId | None = None
    is_enterprise_install: bool | None = None

    @model_validator(mode="after")
    def _has_team(self) -> _Interactive:
        if self.team is None and self.user.team_id is None:
            raise ValueError("neither team.id nor user.team_id")
        return self


class _Action(_Shape):
    action_id: Short
    type: Short
    block_id: Name | None = None
    value: Value | None = None
    selected_option: _Option | None = None
    selected_options: list[_Option] | None = None


class _BlockActions(_Interactive):
    type: Literal["block_actions"]
    actions: list[_Action] = Field(min_length=1)
    trigger_id: Token
    view: _SourceView | None = None
    channel: _Ref | None = None
    response_url: Url | None = None


class _BlockSuggestion(_Interactive):
    type: Literal["block_suggestion"]
    action_id: Short
    block_id: Name
    value: Value
    view: _SourceView | None = None


class _ResponseUrl(_Shape):
    response_url: Url


class _ViewSubmission(_Interactive):
    type: Literal["view_submission"]
    view: _SubmittedView
    response_urls: list[_ResponseUrl] | None = None


class _ViewClosed(_Interactive):
    type: Literal["view_closed"]
    view: _ClosedView
    is_cleared: bool


class _SlashCommand(_Shape):
    """Form fields: every value is text."""

    command: Command
    team_id: SlackId
    user_id: SlackId
    channel_id: SlackId
    trigger_id: Token
    response_url: Url
    text: str = ""
    enterprise_id: Literal[""] | SlackId | None = None
    is_enterprise_install: Literal["true", "false"] | None = None


class _SslCheck(_Shape):
    ssl_check: Literal["1"]


class _Event(_Shape):
    type: Short


class _AppHomeOpened(_Event):
    user: SlackId
    tab: Short | None = None
    view: dict[str, Any] | None = None


class _Authorization(_Shape):
    team_id: SlackId | None = None
    enterprise_id: SlackId | None = None
    is_enterprise_install: bool | None = None


class _EventCallback(_Shape):
    type: Literal["event_callback"]
    team_id: SlackId
    event: _Event
    api_app_id: SlackId | None = None
    authorizations: list[_Authorization] | None = None


class _UrlVerification(_Shape):
    type: Literal["url_verification"]
    challenge: Annotated[str, StringConstraints(min_length=1, max_length=1000)]


class _AppRateLimited(_Shape):
    type: Literal["app_rate_limited"]
    team_id: SlackId


_MODELS: dict[SlackKind, type[_Shape]] = {
    SlackKind.COMMAND: _SlashCommand,
    SlackKind.SSL_CHECK: _SslCheck,
    SlackKind.BLOCK_ACTIONS: _BlockActions,
    SlackKind.BLOCK_SUGGESTION: _BlockSuggestion,
    SlackKind.VIEW_SUBMISSION: _ViewSubmission,
    SlackKind.VIEW_CLOSED: _ViewClosed,
    SlackKind.EVENT: _EventCallback,
    SlackKind.URL_VERIFICATION: _UrlVerification,
    SlackKind.APP_RATE_LIMITED: _AppRateLimited,
}
#: Events whose listener reads more than ``type``: validated further.
_EVENT_MODELS: dict[str, type[_Shape]] = {"app_home_opened": _AppHomeOpened}

#: Field names that may appear in a refusal's log line; any other part of a location (a key chosen by the
#: sender, say a block id) is logged as "*".


def _shapes(model: type[_Shape]) -> list[type[_Shape]]:
    return [model, *(sub for child in model.__subclasses__() for sub in _shapes(child))]


_LOGGABLE = frozenset(name for model in _shapes(_Shape) for name in model.model_fields)

#: Keys whose value is a Slack id wherever they appear (Bolt reads team, user, channel and enterprise ids
#: from the top level, ``event``, ``message``, ``item``, ``view`` and ``authorizations``).
_ID_KEYS = frozenset(
    {
        "team_id",
        "user_id",
        "channel_id",
        "enterprise_id",
        "view_id",
        "app_installed_team_id",
        "context_team_id",
        "context_enterprise_id",
        "user_team",
    }
)
#: Keys holding an id or an object with an ``id``.
_REF_KEYS = frozenset({"team", "user", "channel", "enterprise"})
MAX_DEPTH = 64


def is_slack_id(value: object) -> bool:
    """Whether ``value`` is text shaped like a Slack id."""
    return isinstance(value, str) and _ID.fullmatch(value) is not None


def _is_id(value: object) -> bool:
    return value is None or value == "" or is_slack_id(value)


def _check_ids(node: object, kind: SlackKind, depth: int = 0) -> None:
    if depth > MAX_DEPTH:
        raise RequestRejected(400, f"{kind}: nested deeper than {MAX_DEPTH} levels")
    if isinstance(node, list):
        for item in node:
            _check_ids(item, kind, depth + 1)
        return
    if not isinstance(node, Mapping):
        return
    for key, value in node.items():
        if key in _ID_KEYS and not _is_id(value):
            raise RequestRejected(400, f"{kind}: {key} is not a Slack id")
        if key in _REF_KEYS:
            if isinstance(value, Mapping):
                if not _is_id(value.get("id")):
                    raise RequestRejected(400, f"{kind}: {key}.id is not a Slack id")
            elif not _is_id(value):
                raise RequestRejected(400, f"{kind}: {key} is not a Slack id")
        _check_ids(value, kind, depth + 1)


def _refusal(kind: SlackKind, error: ValidationError) -> RequestRejected:
    first = error.errors(include_url=False, include_input=False)[0]
    location = ".".join(str(part) if isinstance(part, int) or part in _LOGGABLE else "*" for part in first["loc"])
    return RequestRejected(400, f"{kind}: {location or 'body'} {first['type']}")


def validate_envelope(kind: SlackKind, body: Mapping[str, Any]) -> None:
    """RequestRejected 400 unless ``body`` has the shape Slack always gives a request of this kind."""
    _check_ids(body, kind)
    try:
        _MODELS[kind].model_validate(body)
        if kind is SlackKind.EVENT:
            event_model = _EVENT_MODELS.get(str(body["event"]["type"]))
            if event_model is not None:
                event_model.model_validate(body["event"])
    except ValidationError as exc:
        raise _refusal(kind, exc) from None
