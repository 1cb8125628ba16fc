"""Signed bodies Slack would never send, generated per family (class 2 of issue #11): each must get a 400.

Families: bytes that are not UTF-8; content types that do not match the body; JSON that is broken, not an
object, or not strict; forms without exactly one of payload / command / ssl_check, or with a field twice;
each required field of each kind removed or given every wrong JSON type; and Slack ids (team, user,
channel, enterprise, view …) holding control characters, NUL, 10,000 characters or anything else that is
not an id. Every case is ``(label, build)``, ``build(slack)`` giving the body bytes and the content type,
so pytest ids exist before a fake Slack does. Deterministic: no randomness at all.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any
from urllib.parse import quote, urlencode

from demo.fakes import slack_bodies
from demo.fakes.slack_api import FakeSlack
from demo.fakes.slack_state import JsonDict
from handlers.ids import ActionId, CallbackId

__all__ = ["MALFORMED", "OVER_HTTP", "TEMPLATES", "Malformed"]

Build = Callable[[FakeSlack], tuple[bytes, str | None]]
Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Malformed:
    label: str
    build: Build


#: One realistic body per kind, for a listener that would act on it (so a case that slipped through shows).
TEMPLATES: dict[str, Callable[[FakeSlack], JsonDict]] = {
    "command": lambda slack: slack_bodies.command(slack, "list"),
    "block_actions": lambda slack: slack_bodies.block_actions(slack, ActionId.RETRY_SYNC, "1"),
    "view_submission": lambda slack: slack_bodies.view_submission(
        slack, CallbackId.DELETE_CONFIRM, json.dumps({"d": 1}), {"b": {"a": {"type": "plain_text_input", "value": "x"}}}
    ),
    "view_closed": lambda slack: slack_bodies.view_closed(slack, CallbackId.WIZARD_NAME, '{"w":"w1"}'),
    "block_suggestion": lambda slack: slack_bodies.block_suggestion(slack, ActionId.SPACES, "eng", '{"w":"w1"}'),
    "event_callback": lambda slack: slack_bodies.event_callback(slack),
    "url_verification": lambda _slack: slack_bodies.url_verification(),
}


def _set(data: JsonDict, path: Path, value: Any) -> JsonDict:
    changed = copy.deepcopy(data)
    node: Any = changed
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return changed


def _drop(data: JsonDict, path: Path) -> JsonDict:
    changed = copy.deepcopy(data)
    node: Any = changed
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    return changed


def _mutated(kind: str, change: Callable[[JsonDict], JsonDict]) -> Build:
    return lambda slack: slack_bodies.encode(kind, change(TEMPLATES[kind](slack)))


def _raw(body: bytes, content_type: str | None) -> Build:
    return lambda _slack: (body, content_type)


def _form_payload(payload_text: str) -> Build:
    return _raw(urlencode({"payload": payload_text}).encode(), slack_bodies.FORM)


# ---- bytes, content types, JSON and form framing ------------------------------------------------------------
def _framing() -> Iterator[Malformed]:
    form, js = slack_bodies.FORM, slack_bodies.JSON
    for label, junk in (
        ("ff", b"\xff"),
        ("overlong", b"\xc0\xaf"),
        ("surrogate", b"\xed\xa0\x80"),
        ("cut", b"\xe2\x82"),
    ):
        yield Malformed(f"not-utf8-{label}-in-form", _raw(b"command=%2Fdatastore&text=" + junk, form))
        yield Malformed(
            f"not-utf8-{label}-in-json", _raw(b'{"type":"url_verification","challenge":"' + junk + b'"}', js)
        )
    yield Malformed("not-utf8-percent-escape", _raw(b"payload=%FF%FE", form))
    yield Malformed("latin1-body", _raw("text=café".encode("latin-1"), form))
    yield Malformed("utf16-json", _raw('{"type":"url_verification","challenge":"x"}'.encode("utf-16"), js))
    for label, content_type in (
        ("missing", None),
        ("text-plain", "text/plain"),
        ("multipart", "multipart/form-data; boundary=x"),
        ("json-patch", "application/json-patch+json"),
        ("xml", "application/xml"),
    ):
        yield Malformed(f"content-type-{label}", _ct(content_type))
    yield Malformed("json-body-labelled-form", _raw(json.dumps(slack_bodies.url_verification()).encode(), form))
    yield Malformed("json-event-labelled-form", _labelled("event_callback", form))
    yield Malformed("form-command-labelled-json", _labelled("command", js))
    yield Malformed("form-payload-labelled-json", _labelled("block_actions", js))
    for label, text in (
        ("truncated", '{"type":"url_verification","challenge":"x"'),
        ("trailing-comma", '{"type":"url_verification","challenge":"x",}'),
        ("single-quotes", "{'type':'url_verification','challenge':'x'}"),
        ("trailing-garbage", '{"type":"url_verification","challenge":"x"} x'),
        ("nan", '{"type":"url_verification","challenge":"x","n":NaN}'),
        ("infinity", '{"type":"url_verification","challenge":"x","n":-Infinity}'),
        ("duplicate-key", '{"type":"url_verification","challenge":"x","challenge":"y"}'),
        ("bom", '\ufeff{"type":"url_verification","challenge":"x"}'),
        ("empty", ""),
        ("deep-nesting", '{"type":"url_verification","challenge":"x","n":' + "[" * 100_000 + "]" * 100_000 + "}"),
        ("huge-int", '{"type":"url_verification","challenge":"x","n":' + "9" * 5000 + "}"),
    ):
        yield Malformed(f"json-{label}", _raw(text.encode(), js))
    for label, text in (("list", "[]"), ("string", '"x"'), ("number", "7"), ("true", "true"), ("null", "null")):
        yield Malformed(f"json-top-level-{label}", _raw(text.encode(), js))
        yield Malformed(f"payload-json-{label}", _form_payload(text))
    for label, text in (
        ("empty", ""),
        ("not-json", "abc"),
        ("broken-json", '{"type":"block_actions"'),
        ("type-missing", "{}"),
        ("type-unknown", '{"type":"shortcut"}'),
        ("type-number", '{"type":7}'),
        ("type-event", '{"type":"event_callback"}'),
        ("duplicate-key", '{"type":"view_closed","type":"block_actions"}'),
    ):
        yield Malformed(f"payload-{label}", _form_payload(text))
    yield Malformed("json-type-unknown", _raw(b'{"type":"something_else"}', js))
    yield Malformed("json-type-block-actions", _raw(b'{"type":"block_actions"}', js))
    yield Malformed("form-empty", _raw(b"", form))
    yield Malformed("form-no-known-field", _raw(b"foo=bar&text=help", form))
    yield Malformed("form-payload-twice", _raw(b"payload=%7B%7D&payload=%7B%7D", form))
    yield Malformed("form-command-twice", _command_plus("command=%2Fdatastore"))
    yield Malformed("form-text-twice", _command_plus("text=delete"))
    yield Malformed("form-team-twice", _command_plus("team_id=T0OTHER"))
    yield Malformed("form-payload-and-command", _command_plus("payload=%7B%7D"))
    yield Malformed("form-too-many-fields", _command_plus("&".join(f"x{i}=1" for i in range(80))))
    yield Malformed("form-starting-with-brace", _raw(b'{"a":"b=c"}', form))
    yield Malformed("form-bom", _prefixed("\ufeff"))
    for char in ("\x00", "\u200b", "\u202e"):
        yield Malformed(f"form-field-name-U+{ord(char):04X}", _command_plus(f"te{quote(char)}xt=list"))
    yield Malformed("ssl-check-wrong-value", _raw(b"ssl_check=yes&token=x", form))


def _ct(content_type: str | None) -> Build:
    return lambda slack: (slack_bodies.encode("command", TEMPLATES["command"](slack))[0], content_type)


def _labelled(kind: str, content_type: str) -> Build:
    return lambda slack: (slack_bodies.encode(kind, TEMPLATES[kind](slack))[0], content_type)


def _prefixed(prefix: str) -> Build:
    def build(slack: FakeSlack) -> tuple[bytes, str | None]:
        body, content_type = slack_bodies.encode("command", TEMPLATES["command"](slack))
        return prefix.encode() + body, content_type

    return build


def _command_plus(extra: str) -> Build:
    def build(slack: FakeSlack) -> tuple[bytes, str | None]:
        body, content_type = slack_bodies.encode("command", TEMPLATES["command"](slack))
        return body + b"&" + extra.encode(), content_type

    return build


# ---- required fields: removed, or of every wrong type -----------------------------------------------------------
#: (path, JSON type) of what Slack always sends, per kind.
REQUIRED: dict[str, list[tuple[Path, str]]] = {
    "command": [
        ((name,), "text") for name in ("command", "team_id", "user_id", "channel_id", "trigger_id", "response_url")
    ],
    "block_actions": [
        (("type",), "str"),
        (("user",), "object"),
        (("user", "id"), "str"),
        (("actions",), "list"),
        (("actions", 0), "object"),
        (("actions", 0, "action_id"), "str"),
        (("actions", 0, "type"), "str"),
        (("trigger_id",), "str"),
    ],
    "view_submission": [
        (("user",), "object"),
        (("user", "id"), "str"),
        (("view",), "object"),
        (("view", "id"), "str"),
        (("view", "callback_id"), "str"),
        (("view", "private_metadata"), "str"),
        (("view", "state"), "object"),
        (("view", "state", "values"), "object"),
    ],
    "view_closed": [
        (("view",), "object"),
        (("view", "id"), "str"),
        (("view", "callback_id"), "str"),
        (("is_cleared",), "bool"),
        (("user",), "object"),
    ],
    "block_suggestion": [(("action_id",), "str"), (("block_id",), "str"), (("value",), "str"), (("user", "id"), "str")],
    "event_callback": [
        (("team_id",), "str"),
        (("event",), "object"),
        (("event", "type"), "str"),
        (("event", "user"), "str"),
    ],
    "url_verification": [(("challenge",), "str")],
}
WRONG: dict[str, list[tuple[str, Any]]] = {
    "str": [("int", 7), ("list", []), ("null", None), ("object", {}), ("bool", True)],
    "object": [("string", "x"), ("int", 7), ("list", []), ("null", None), ("bool", False)],
    "list": [("object", {}), ("string", "x"), ("null", None), ("empty", []), ("of-int", [7])],
    "bool": [("string", "false"), ("int", 0), ("null", None)],
    "text": [("empty", "")],
}


def _dotted(path: Path) -> str:
    return ".".join(str(part) for part in path)


def _fields() -> Iterator[Malformed]:
    for kind, required in REQUIRED.items():
        for path, json_type in required:
            if json_type != "text":
                yield Malformed(f"{kind}-without-{_dotted(path)}", _mutated(kind, partial(_drop, path=path)))
            else:
                yield Malformed(f"{kind}-without-{path[0]}", _mutated(kind, partial(_drop, path=path)))
            for label, value in WRONG[json_type]:
                change = partial(_set, path=path, value=value)
                yield Malformed(f"{kind}-{_dotted(path)}-{label}", _mutated(kind, change))
    for kind in ("block_actions", "view_submission"):
        no_team = lambda d: _drop(_set(d, ("team",), None), ("user", "team_id"))  # noqa: E731
        yield Malformed(f"{kind}-without-any-team", _mutated(kind, no_team))
    yield Malformed(
        "block_actions-value-object", _mutated("block_actions", lambda d: _set(d, ("actions", 0, "value"), {}))
    )
    yield Malformed(
        "block_actions-selected-option-string",
        _mutated("block_actions", lambda d: _set(d, ("actions", 0, "selected_option"), "sync:1")),
    )
    yield Malformed(
        "view_submission-state-value-number",
        _mutated("view_submission", lambda d: _set(d, ("view", "state", "values", "b", "a", "value"), 7)),
    )
    yield Malformed(
        "view_submission-state-element-string",
        _mutated("view_submission", lambda d: _set(d, ("view", "state", "values", "b"), "x")),
    )
    yield Malformed(
        "view_submission-selected-options-of-strings",
        _mutated(
            "view_submission", lambda d: _set(d, ("view", "state", "values", "b", "a", "selected_options"), ["1"])
        ),
    )
    yield Malformed(
        "view_submission-private-metadata-over-3000",
        _mutated("view_submission", lambda d: _set(d, ("view", "private_metadata"), "x" * 3001)),
    )
    yield Malformed(
        "view_submission-callback-id-over-255",
        _mutated("view_submission", lambda d: _set(d, ("view", "callback_id"), "c" * 256)),
    )
    yield Malformed("command-name-with-space", _mutated("command", lambda d: _set(d, ("command",), "/data store")))
    yield Malformed("command-name-without-slash", _mutated("command", lambda d: _set(d, ("command",), "datastore")))
    yield Malformed(
        "command-response-url-not-http", _mutated("command", lambda d: _set(d, ("response_url",), "file:///x"))
    )
    yield Malformed("command-trigger-id-with-nul", _mutated("command", lambda d: _set(d, ("trigger_id",), "1.2\x00")))


# ---- Slack ids that are not ids ---------------------------------------------------------------------------------
ID_ATTACKS: list[tuple[str, str]] = [
    ("nul", "U0TES\x00TER"),
    ("newline", "U0TESTER\n"),
    ("control", "U0\x1bTESTER"),
    ("10000-chars", "U" * 10_000),
    ("33-chars", "U" * 33),
    ("lowercase", "u0tester"),
    ("space", "U0 TESTER"),
    ("non-ascii", "Ü0TESTER"),
    ("sql", "U0'; DROP TABLE wizards; --"),
    ("mention", "<@U0TESTER>"),
]
ID_PATHS: dict[str, list[Path]] = {
    "command": [("team_id",), ("user_id",), ("channel_id",), ("enterprise_id",)],
    "block_actions": [
        ("user", "id"),
        ("team", "id"),
        ("user", "team_id"),
        ("channel", "id"),
        ("container", "channel_id"),
        ("message", "user"),
        ("enterprise",),
    ],
    "view_submission": [("view", "id"), ("view", "team_id"), ("view", "app_installed_team_id"), ("api_app_id",)],
    "event_callback": [("team_id",), ("event", "user"), ("event", "channel"), ("authorizations", 0, "team_id")],
}


def _ids() -> Iterator[Malformed]:
    for kind, paths in ID_PATHS.items():
        for path in paths:
            for label, text in ID_ATTACKS:
                change = lambda d, p=path, v=text: _set(d, p, v)  # noqa: E731
                yield Malformed(f"{kind}-{_dotted(path)}-{label}", _mutated(kind, change))
    enterprise = lambda d: _set(d, ("enterprise",), {"id": "E\x00", "name": "Org"})  # noqa: E731
    yield Malformed("block_actions-enterprise-object-nul", _mutated("block_actions", enterprise))
    yield Malformed("block_actions-team-number", _mutated("block_actions", lambda d: _set(d, ("team",), 7)))
    yield Malformed("block_actions-channel-list", _mutated("block_actions", lambda d: _set(d, ("channel",), ["C1"])))


MALFORMED: list[Malformed] = [*_framing(), *_fields(), *_ids()]
#: What goes through real HTTP (the unit tests parse every case): all framing cases, every third field case and
#: every seventh id case (7 and the 10 attacks are coprime, so each attack and each path gets its turn).
OVER_HTTP: list[Malformed] = [
    *_framing(),
    *(case for index, case in enumerate(_fields()) if index % 3 == 0),
    *(case for index, case in enumerate(_ids()) if index % 7 == 0),
]
