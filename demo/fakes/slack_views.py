"""``views.open`` / ``views.update`` / ``views.push`` / ``views.publish`` and trigger_id bookkeeping.

trigger_ids are issued by ``FakeSlack.issue_trigger_id(user_id)``; they are single use
(``exchanged_trigger_id``) and expire after ``trigger_ttl`` seconds (``expired_trigger_id``).
A modal stack holds at most 3 views (``push_limit_reached``).  Invalid views answer
``invalid_arguments`` with ``response_metadata.messages`` (``view_too_large`` above 250 kB).
"""

from __future__ import annotations

import json
from typing import Any

from demo.fakes.slack_blockkit import MAX_VIEW_BYTES, validate_view
from demo.fakes.slack_methods import ApiContext, ApiError, JsonDict, Method, invalid_arguments
from demo.fakes.slack_state import Trigger, View

MAX_MODAL_STACK = 3


def checked_view(args: JsonDict, expected_type: str) -> JsonDict:
    """The ``view`` argument, validated like Slack validates it."""
    view = args.get("view")
    if not isinstance(view, dict):
        raise invalid_arguments(["missing required field: view" if view is None else "view must be an object"])
    if len(json.dumps(view, separators=(",", ":")).encode("utf-8")) > MAX_VIEW_BYTES:
        raise ApiError("view_too_large")
    errors = validate_view(view)
    if errors:
        raise invalid_arguments(errors)
    if view["type"] != expected_type:
        raise invalid_arguments([f"view type must be {expected_type} [json-pointer:/view/type]"])
    return view


def consume_trigger(ctx: ApiContext, trigger_id: Any) -> Trigger:
    trigger = ctx.ws.triggers.get(str(trigger_id or ""))
    if trigger is None:
        raise ApiError("invalid_trigger_id")
    if trigger.used:
        raise ApiError("exchanged_trigger_id")
    if ctx.clock() - trigger.issued_at > ctx.trigger_ttl:
        raise ApiError("expired_trigger_id")
    trigger.used = True
    return trigger


def _check_external_id(ctx: ApiContext, view: JsonDict, current: str | None = None) -> None:
    if ctx.ws.external_id_taken(str(view.get("external_id") or ""), except_view=current):
        raise ApiError("duplicate_external_id")


def _check_hash(args: JsonDict, view: View) -> None:
    if "hash" in args and args["hash"] != view.hash:
        raise ApiError("hash_conflict")


def views_open(ctx: ApiContext, args: JsonDict) -> JsonDict:
    definition = checked_view(args, "modal")
    _check_external_id(ctx, definition)
    trigger = consume_trigger(ctx, args.get("trigger_id"))
    view = ctx.ws.open_modal(trigger.user_id, definition)
    return {"ok": True, "view": view.to_json()}


def views_push(ctx: ApiContext, args: JsonDict) -> JsonDict:
    definition = checked_view(args, "modal")
    _check_external_id(ctx, definition)
    trigger = consume_trigger(ctx, args.get("trigger_id"))
    stack = ctx.ws.modal_stacks.get(trigger.user_id) or []
    if not stack:
        raise ApiError("not_found")
    if len(stack) >= MAX_MODAL_STACK:
        raise ApiError("push_limit_reached")
    view = ctx.ws.push_modal(trigger.user_id, definition)
    return {"ok": True, "view": view.to_json()}


def views_update(ctx: ApiContext, args: JsonDict) -> JsonDict:
    view_id, external_id = args.get("view_id"), args.get("external_id")
    if not view_id and not external_id:
        raise invalid_arguments(["either view_id or external_id is required"])
    view = ctx.ws.find_view(view_id=view_id or None, external_id=None if view_id else external_id)
    if view is None:
        raise ApiError("not_found")
    _check_hash(args, view)
    definition = checked_view(args, view.type)
    _check_external_id(ctx, definition, current=view.id)
    ctx.ws.apply_definition(view, definition)
    return {"ok": True, "view": view.to_json()}


def views_publish(ctx: ApiContext, args: JsonDict) -> JsonDict:
    user_id = str(args.get("user_id") or "")
    if user_id not in ctx.ws.users:
        raise ApiError("user_not_found")
    definition = checked_view(args, "home")
    existing = ctx.ws.views.get(ctx.ws.home_views.get(user_id, ""))
    if existing is not None:
        _check_hash(args, existing)
        ctx.ws.apply_definition(existing, definition)
        return {"ok": True, "view": existing.to_json()}
    view = ctx.ws.create_view(user_id, definition)
    view.root_view_id = view.id
    ctx.ws.home_views[user_id] = view.id
    return {"ok": True, "view": view.to_json()}


VIEW_METHODS: dict[str, Method] = {
    "views.open": views_open,
    "views.push": views_push,
    "views.update": views_update,
    "views.publish": views_publish,
}
