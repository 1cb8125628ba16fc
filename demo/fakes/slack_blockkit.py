"""Pure Block Kit limit validator shared by the fake Slack server and the bot's own view tests.

``validate_blocks(blocks, surface)`` and ``validate_view(view)`` return a list of human-readable problems
(empty list = valid), each ending in a Slack-style ``[json-pointer:/blocks/0/text/text]`` locator, e.g.::

    assert validate_view(build_step_one_view()) == []

The limits are the documented ones (docs.slack.dev Block Kit reference, mirrored by ``slack_sdk.models``
validators); see ``/work/shared/reference/slack-platform.md`` section 2.  Lengths are counted as Slack counts
them, in UTF-16 code units (:func:`slack_length`: an emoji outside the BMP is 2), not in Python code points.
Unknown block and element types are rejected, as Slack does.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, Literal

Surface = Literal["message", "modal", "home"]

MAX_BLOCKS: dict[str, int] = {"message": 50, "modal": 100, "home": 100}
MAX_VIEW_BYTES = 250_000
MAX_MESSAGE_TEXT = 40_000

BLOCK_TYPES = frozenset(
    {"section", "divider", "image", "actions", "context", "input", "header", "rich_text", "video", "file"}
    | {"markdown"}
)
SELECTS = frozenset({"static_select", "external_select", "users_select", "conversations_select"} | {"channels_select"})
MULTI_SELECTS = frozenset("multi_" + name for name in SELECTS)
TEXT_INPUTS = frozenset({"plain_text_input", "number_input", "email_text_input", "url_text_input", "rich_text_input"})
PICKERS = frozenset({"datepicker", "timepicker", "datetimepicker"})
CHOICES = frozenset({"checkboxes", "radio_buttons"})
INPUT_ELEMENTS = SELECTS | MULTI_SELECTS | TEXT_INPUTS | PICKERS | CHOICES | {"file_input"}
ACTION_ELEMENTS = (
    (SELECTS | MULTI_SELECTS | PICKERS | CHOICES | TEXT_INPUTS) | {"button", "overflow"} | {"workflow_button"}
)
ACCESSORY_ELEMENTS = SELECTS | MULTI_SELECTS | PICKERS | CHOICES | {"button", "overflow", "image"} | {"workflow_button"}

JsonDict = dict[str, Any]


def slack_length(text: str) -> int:
    """A string's length as Slack (JavaScript) counts it: UTF-16 code units."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _loc(path: str) -> str:
    return f" [json-pointer:{path}]"


class _Checker:
    """Accumulates problems while walking one surface."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.block_ids: set[str] = set()

    def add(self, message: str, path: str) -> None:
        self.errors.append(message + _loc(path))

    def length(self, value: Any, limit: int, path: str, *, minimum: int = 0) -> None:
        if not isinstance(value, str):
            self.add("must be a string", path)
        elif slack_length(value) > limit:
            self.add(f"must be less than {limit + 1} characters", path)
        elif slack_length(value) < minimum:
            self.add(f"must be more than {minimum - 1} characters", path)

    def text(self, obj: Any, limit: int, path: str, *, plain_only: bool = False) -> None:
        if not isinstance(obj, dict):
            self.add("must provide an object", path)
            return
        allowed = ("plain_text",) if plain_only else ("plain_text", "mrkdwn")
        if obj.get("type") not in allowed:
            self.add(f"must be one of {', '.join(allowed)} text objects", f"{path}/type")
        self.length(obj.get("text"), limit, f"{path}/text", minimum=1)

    def optional_text(self, parent: JsonDict, key: str, limit: int, path: str, *, plain: bool = True) -> None:
        if key in parent:
            self.text(parent[key], limit, f"{path}/{key}", plain_only=plain)

    def id_field(self, parent: JsonDict, key: str, path: str) -> None:
        if key in parent:
            self.length(parent[key], 255, f"{path}/{key}", minimum=1)


def validate_blocks(blocks: Any, surface: Surface) -> list[str]:
    """Check a list of blocks against Slack's limits for ``surface`` (message, modal or home)."""
    checker = _Checker()
    _check_blocks(checker, blocks, surface, "/blocks")
    return checker.errors


def validate_view(view: Any) -> list[str]:
    """Check a modal or home-tab view object (top-level fields and blocks)."""
    checker = _Checker()
    if not isinstance(view, dict):
        return ["must provide an object" + _loc("/view")]
    view_type = view.get("type")
    if view_type not in ("modal", "home"):
        checker.add("must be either modal or home", "/view/type")
        return checker.errors
    if view_type == "modal":
        if "title" not in view:
            checker.add("missing required field: title", "/view")
        for key in ("title", "submit", "close"):
            checker.optional_text(view, key, 24, "/view")
        if "submit" not in view and any(
            isinstance(b, dict) and b.get("type") == "input" for b in view.get("blocks") or []
        ):
            checker.add("must provide a submit property when an input block is present", "/view")
    if "private_metadata" in view:
        checker.length(view["private_metadata"], 3000, "/view/private_metadata")
    checker.id_field(view, "callback_id", "/view")
    checker.id_field(view, "external_id", "/view")
    size = len(json.dumps(view, separators=(",", ":")).encode("utf-8"))
    if size > MAX_VIEW_BYTES:
        checker.add(f"view is {size} bytes; must be at most {MAX_VIEW_BYTES}", "/view")
    _check_blocks(checker, view.get("blocks"), view_type, "/view/blocks")
    return checker.errors


def _check_blocks(checker: _Checker, blocks: Any, surface: str, path: str) -> None:
    if not isinstance(blocks, list):
        checker.add("must provide an array", path)
        return
    limit = MAX_BLOCKS[surface]
    if len(blocks) > limit:
        checker.add(f"no more than {limit} items allowed", path)
    for index, block in enumerate(blocks):
        _check_block(checker, block, f"{path}/{index}")


def _check_block(checker: _Checker, block: Any, path: str) -> None:
    if not isinstance(block, dict) or not isinstance(block.get("type"), str):
        checker.add("must provide an object with a type", path)
        return
    block_type = block["type"]
    if block_type not in BLOCK_TYPES:
        checker.add(f"unsupported type: {block_type}", f"{path}/type")
        return
    if "block_id" in block:
        checker.id_field(block, "block_id", path)
        if block["block_id"] in checker.block_ids:
            checker.add(f"duplicate block_id: {block['block_id']}", f"{path}/block_id")
        checker.block_ids.add(str(block["block_id"]))
    handler = _BLOCK_CHECKS.get(block_type)
    if handler is not None:
        handler(checker, block, path)


def _check_section(checker: _Checker, block: JsonDict, path: str) -> None:
    if "text" not in block and "fields" not in block:
        checker.add("must provide text or fields", path)
    checker.optional_text(block, "text", 3000, path, plain=False)
    fields = block.get("fields")
    if fields is not None:
        if not isinstance(fields, list) or len(fields) > 10:
            checker.add("no more than 10 items allowed", f"{path}/fields")
        else:
            for index, field in enumerate(fields):
                checker.text(field, 2000, f"{path}/fields/{index}")
    if "accessory" in block:
        _check_element(checker, block["accessory"], ACCESSORY_ELEMENTS, f"{path}/accessory", set())


def _check_header(checker: _Checker, block: JsonDict, path: str) -> None:
    checker.text(block.get("text"), 150, f"{path}/text", plain_only=True)


def _check_actions(checker: _Checker, block: JsonDict, path: str) -> None:
    elements = block.get("elements")
    if not isinstance(elements, list) or not elements:
        checker.add("must provide a non-empty array", f"{path}/elements")
        return
    if len(elements) > 25:
        checker.add("no more than 25 items allowed", f"{path}/elements")
    seen: set[str] = set()
    for index, element in enumerate(elements):
        _check_element(checker, element, ACTION_ELEMENTS, f"{path}/elements/{index}", seen)


def _check_context(checker: _Checker, block: JsonDict, path: str) -> None:
    elements = block.get("elements")
    if not isinstance(elements, list) or not elements:
        checker.add("must provide a non-empty array", f"{path}/elements")
        return
    if len(elements) > 10:
        checker.add("no more than 10 items allowed", f"{path}/elements")
    for index, element in enumerate(elements):
        element_path = f"{path}/elements/{index}"
        if isinstance(element, dict) and element.get("type") == "image":
            _check_image(checker, element, element_path)
        else:
            checker.text(element, 3000, element_path)


def _check_input(checker: _Checker, block: JsonDict, path: str) -> None:
    checker.text(block.get("label"), 2000, f"{path}/label", plain_only=True)
    checker.optional_text(block, "hint", 2000, path)
    if "element" not in block:
        checker.add("missing required field: element", path)
        return
    _check_element(checker, block["element"], INPUT_ELEMENTS, f"{path}/element", set())


def _check_image(checker: _Checker, block: JsonDict, path: str) -> None:
    if "image_url" in block:
        checker.length(block["image_url"], 3000, f"{path}/image_url", minimum=1)
    elif "slack_file" not in block:
        checker.add("must provide image_url or slack_file", path)
    checker.length(block.get("alt_text"), 2000, f"{path}/alt_text", minimum=1)
    checker.optional_text(block, "title", 2000, path)


def _check_element(checker: _Checker, element: Any, allowed: frozenset[str], path: str, seen: set[str]) -> None:
    if not isinstance(element, dict) or not isinstance(element.get("type"), str):
        checker.add("must provide an object with a type", path)
        return
    kind = element["type"]
    if kind not in allowed:
        checker.add(f"unsupported type: {kind}", f"{path}/type")
        return
    if kind == "image":
        _check_image(checker, element, path)
        return
    checker.id_field(element, "action_id", path)
    action_id = element.get("action_id")
    if isinstance(action_id, str):
        if action_id in seen:
            checker.add(f"duplicate action_id: {action_id}", f"{path}/action_id")
        seen.add(action_id)
    checker.optional_text(element, "placeholder", 150, path)
    if isinstance(element.get("confirm"), dict):
        _check_confirm(checker, element["confirm"], f"{path}/confirm")
    if kind == "button":
        _check_button(checker, element, path)
    elif kind in ("static_select", "multi_static_select"):
        _check_static_select(checker, element, path)
    elif kind in CHOICES or kind == "overflow":
        limit = 5 if kind == "overflow" else 10
        _check_options(checker, element.get("options"), limit, f"{path}/options", plain=kind == "overflow")
    elif kind == "plain_text_input":
        _check_text_input(checker, element, path)


def _check_button(checker: _Checker, element: JsonDict, path: str) -> None:
    checker.text(element.get("text"), 75, f"{path}/text", plain_only=True)
    if "value" in element:
        checker.length(element["value"], 2000, f"{path}/value")
    if "url" in element:
        checker.length(element["url"], 3000, f"{path}/url")
    if "style" in element and element["style"] not in ("primary", "danger"):
        checker.add("must be one of primary, danger", f"{path}/style")


def _check_static_select(checker: _Checker, element: JsonDict, path: str) -> None:
    has_options, has_groups = "options" in element, "option_groups" in element
    if has_options == has_groups:
        checker.add("must provide exactly one of options or option_groups", path)
        return
    values: list[str] = []
    if has_options:
        values = _check_options(checker, element["options"], 100, f"{path}/options", plain=True)
    else:
        groups = element["option_groups"]
        if not isinstance(groups, list) or not 1 <= len(groups) <= 100:
            checker.add("must provide 1 to 100 items", f"{path}/option_groups")
            return
        for index, group in enumerate(groups):
            group_path = f"{path}/option_groups/{index}"
            if not isinstance(group, dict):
                checker.add("must provide an object", group_path)
                continue
            checker.text(group.get("label"), 75, f"{group_path}/label", plain_only=True)
            values += _check_options(checker, group.get("options"), 100, f"{group_path}/options", plain=True)
    initial = [element["initial_option"]] if "initial_option" in element else element.get("initial_options", [])
    for option in initial if isinstance(initial, list) else []:
        if not isinstance(option, dict) or option.get("value") not in values:
            checker.add("initial option must match one of the options", f"{path}/initial_option")


def _check_options(checker: _Checker, options: Any, limit: int, path: str, *, plain: bool) -> list[str]:
    if not isinstance(options, list) or not 1 <= len(options) <= limit:
        checker.add(f"must provide 1 to {limit} items", path)
        return []
    values: list[str] = []
    for index, option in enumerate(options):
        option_path = f"{path}/{index}"
        if not isinstance(option, dict):
            checker.add("must provide an object", option_path)
            continue
        checker.text(option.get("text"), 75, f"{option_path}/text", plain_only=plain)
        checker.length(option.get("value"), 150, f"{option_path}/value", minimum=1)
        checker.optional_text(option, "description", 75, option_path, plain=plain)
        values.append(str(option.get("value")))
    return values


def _check_text_input(checker: _Checker, element: JsonDict, path: str) -> None:
    for key, low in (("max_length", 1), ("min_length", 0)):
        value = element.get(key)
        if value is not None and (not isinstance(value, int) or not low <= value <= 3000):
            checker.add(f"must be between {low} and 3000", f"{path}/{key}")
    if "initial_value" in element:
        longest = element.get("max_length")
        limit = longest if isinstance(longest, int) and 1 <= longest <= 3000 else 3000
        checker.length(element["initial_value"], limit, f"{path}/initial_value")


def _check_confirm(checker: _Checker, confirm: JsonDict, path: str) -> None:
    for key, limit in (("title", 100), ("text", 300), ("confirm", 30), ("deny", 30)):
        checker.text(confirm.get(key), limit, f"{path}/{key}", plain_only=key != "text")


_BLOCK_CHECKS = {
    "section": _check_section,
    "header": _check_header,
    "actions": _check_actions,
    "context": _check_context,
    "input": _check_input,
    "image": _check_image,
}


def iter_elements(blocks: list[JsonDict]) -> Iterator[tuple[JsonDict, JsonDict]]:
    """Yield ``(block, element)`` for every interactive element (input, actions, section accessory)."""
    for block in blocks:
        if not isinstance(block, dict):
            continue
        if block.get("type") == "input" and isinstance(block.get("element"), dict):
            yield block, block["element"]
        elif block.get("type") == "actions":
            yield from ((block, element) for element in block.get("elements") or [] if isinstance(element, dict))
        elif block.get("type") == "section" and isinstance(block.get("accessory"), dict):
            yield block, block["accessory"]
