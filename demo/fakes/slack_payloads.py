"""Builds the parts of interaction payloads that depend on Block Kit elements, exactly as Slack does.

* :func:`element_value` — the per-element value object used in ``view.state.values`` and in
  ``block_actions`` ``actions[]`` (``plain_text_input`` → ``{"type", "value"}``, selects / radio buttons →
  ``selected_option``, checkboxes / multi-selects → ``selected_options``, pickers → ``selected_date``…).
* :func:`state_values` — ``state.values`` for a view submission: given values, else what the user typed
  before (kept across updates), else the element's initial value, else empty — and the client-side checks
  Slack performs before it lets the user submit (required inputs, ``min_length`` / ``max_length``).
* :func:`find_element` / :func:`check_options_response` — lookups and ``block_suggestion`` answer checks.

Problems a real Slack client would never let through raise ``AssertionError`` with an explanation.
"""

from __future__ import annotations

import json
from typing import Any

from demo.fakes.slack_blockkit import iter_elements, slack_length
from demo.fakes.slack_state import JsonDict, View

StateValues = dict[str, dict[str, JsonDict]]
TEXT_VALUE_TYPES = ("plain_text_input", "number_input", "email_text_input", "url_text_input")
SINGLE_OPTION_TYPES = ("static_select", "external_select", "radio_buttons", "overflow")
MULTI_OPTION_TYPES = ("multi_static_select", "multi_external_select", "checkboxes")
PICKED_FIELDS = {
    "users_select": "selected_user",
    "multi_users_select": "selected_users",
    "conversations_select": "selected_conversation",
    "multi_conversations_select": "selected_conversations",
    "channels_select": "selected_channel",
    "multi_channels_select": "selected_channels",
    "datepicker": "selected_date",
    "timepicker": "selected_time",
    "datetimepicker": "selected_date_time",
}
INITIAL_FIELDS = {
    "users_select": "initial_user",
    "multi_users_select": "initial_users",
    "conversations_select": "initial_conversation",
    "multi_conversations_select": "initial_conversations",
    "channels_select": "initial_channel",
    "multi_channels_select": "initial_channels",
    "datepicker": "initial_date",
    "timepicker": "initial_time",
    "datetimepicker": "initial_date_time",
}


def find_element(blocks: list[JsonDict], action_id: str, block_id: str | None = None) -> tuple[JsonDict, JsonDict]:
    """``(block, element)`` with that action_id (and block_id); AssertionError when absent."""
    for block, element in iter_elements(blocks):
        if element.get("action_id") == action_id and block_id in (None, block.get("block_id")):
            return block, element
    where = f" in block {block_id}" if block_id else ""
    raise AssertionError(f"no element with action_id={action_id!r}{where}: the user cannot interact with it")


def _all_options(element: JsonDict) -> list[JsonDict]:
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options.extend(group.get("options") or [])
    return options


def _option(element: JsonDict, choice: Any) -> JsonDict:
    """An option object from a value string or an option dict (external selects accept any dict)."""
    if isinstance(choice, dict):
        return dict(choice)
    if element["type"].endswith("external_select"):
        return {"text": {"type": "plain_text", "text": str(choice)}, "value": str(choice)}
    for option in _all_options(element):
        if option.get("value") == choice:
            return dict(option)
    values = [o.get("value") for o in _all_options(element)]
    raise AssertionError(f"{choice!r} is not an option of {element.get('action_id')!r}; options: {values}")


def element_value(element: JsonDict, value: Any) -> JsonDict:
    """Value object for ``element`` holding ``value`` (None = nothing entered / selected)."""
    kind = str(element["type"])
    data: JsonDict = {"type": kind}
    if kind in TEXT_VALUE_TYPES or kind == "rich_text_input":
        data["rich_text_value" if kind == "rich_text_input" else "value"] = value
    elif kind in SINGLE_OPTION_TYPES:
        data["selected_option"] = None if value is None else _option(element, value)
    elif kind in MULTI_OPTION_TYPES:
        choices = [] if value is None else value if isinstance(value, list) else [value]
        data["selected_options"] = [_option(element, choice) for choice in choices]
    elif kind in PICKED_FIELDS:
        is_multi = kind.startswith("multi_")
        data[PICKED_FIELDS[kind]] = (value or []) if is_multi else value
    elif kind == "button":
        data["text"] = element.get("text")
        data.update({key: element[key] for key in ("value", "url", "style") if key in element})
    else:
        raise AssertionError(f"the fake cannot produce a value for {kind} elements")
    return data


def _initial(element: JsonDict) -> Any:
    kind = element["type"]
    if kind in TEXT_VALUE_TYPES:
        return element.get("initial_value")
    if kind in SINGLE_OPTION_TYPES:
        return element.get("initial_option")
    if kind in MULTI_OPTION_TYPES:
        return element.get("initial_options")
    return element.get(INITIAL_FIELDS.get(kind, ""))


def _is_empty(value: JsonDict) -> bool:
    return all(v in (None, [], "") for k, v in value.items() if k != "type")


def _check_client_side(block: JsonDict, element: JsonDict, value: JsonDict) -> None:
    label = block.get("block_id")
    if not block.get("optional", False) and _is_empty(value):
        raise AssertionError(f"required input {label!r} is empty: Slack would not let the user submit")
    text = value.get("value")
    if isinstance(text, str):
        length = slack_length(text)
        if length > int(element.get("max_length", 3000)) or length < int(element.get("min_length", 0)):
            raise AssertionError(f"input {label!r}: {length} chars is outside min_length/max_length")


def state_values(view: View, values: dict[str, dict[str, Any]] | None) -> StateValues:
    """``view.state.values`` after the user filled in ``values`` ({block_id: {action_id: value}})."""
    given = dict(values or {})
    state: StateValues = {}
    for block, element in iter_elements(view.blocks):
        if block.get("type") != "input":
            continue
        block_id, action_id = str(block["block_id"]), str(element["action_id"])
        provided = given.get(block_id, {})
        if action_id in provided:
            entry = element_value(element, provided[action_id])
        elif action_id in view.state_values.get(block_id, {}):
            entry = view.state_values[block_id][action_id]
        else:
            entry = element_value(element, _initial(element))
        _check_client_side(block, element, entry)
        state.setdefault(block_id, {})[action_id] = entry
    unknown = {f"{b}.{a}" for b, actions in given.items() for a in actions} - {
        f"{b}.{a}" for b, actions in state.items() for a in actions
    }
    if unknown:
        raise AssertionError(f"values for inputs that are not in view {view.id}: {sorted(unknown)}")
    return state


def check_options_response(data: Any) -> list[JsonDict]:
    """Validate a ``block_suggestion`` answer like Slack; returns all options (groups flattened)."""
    if not isinstance(data, dict) or ("options" in data) == ("option_groups" in data):
        raise AssertionError(f"options answer must have exactly one of options / option_groups: {data!r}")
    if "options" in data:
        return _check_option_list(data["options"], "options")
    groups = data["option_groups"]
    if not isinstance(groups, list) or len(groups) > 100:
        raise AssertionError("option_groups must be a list of at most 100 groups")
    options: list[JsonDict] = []
    for index, group in enumerate(groups):
        label = group.get("label", {}).get("text", "") if isinstance(group, dict) else ""
        if not label or slack_length(label) > 75:
            raise AssertionError(f"option_groups[{index}].label must be 1-75 chars: {label!r}")
        options.extend(_check_option_list(group.get("options"), f"option_groups[{index}].options"))
    return options


def _check_option_list(options: Any, where: str) -> list[JsonDict]:
    if not isinstance(options, list) or len(options) > 100:
        raise AssertionError(f"{where} must be a list of at most 100 options")
    for index, option in enumerate(options):
        text = option.get("text", {}) if isinstance(option, dict) else {}
        value = option.get("value") if isinstance(option, dict) else None
        if text.get("type") != "plain_text" or not 0 < slack_length(str(text.get("text", ""))) <= 75:
            raise AssertionError(f"{where}[{index}].text must be plain_text of 1-75 chars: {option!r}")
        if not isinstance(value, str) or not 0 < slack_length(value) <= 150:
            raise AssertionError(f"{where}[{index}].value must be a string of 1-150 chars: {option!r}")
    return list(options)


def slack_escaped(text: str) -> str:
    """What Slack sends as a slash command's ``text``: what was typed, with ``& < >`` as ``&amp; &lt; &gt;``."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def ack_message(body: str) -> JsonDict:
    """A slash-command ack body as a message: JSON (``{"text", "blocks", "response_type"}``) or plain text."""
    try:
        data = json.loads(body)
    except ValueError:
        return {"text": body}
    return data if isinstance(data, dict) else {"text": body}
