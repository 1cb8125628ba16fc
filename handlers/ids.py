"""Every Slack id the bot uses (callback, action and block ids), named once and used everywhere."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["SLASH_COMMAND", "ActionId", "BlockId", "CallbackId"]

SLASH_COMMAND = "/datastore"


class CallbackId(StrEnum):
    WIZARD_NAME = "wizard-name"


class BlockId(StrEnum):
    WIZARD_STEP = "wizard-step"
    NAME = "wizard-name"
    METHOD = "wizard-method"
    SOURCE = "wizard-source"
    HOME_ACTIONS = "home-actions"


class ActionId(StrEnum):
    NAME_INPUT = "wizard-name-input"
    METHOD_SELECT = "wizard-method-select"
    HOME_CREATE = "home-create"


class MethodValue(StrEnum):
    THIRD_PARTY = "third-party-connection"
