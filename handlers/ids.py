"""Every Slack id the bot uses (callback, action and block ids), named once and used everywhere."""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "SLASH_COMMAND",
    "ActionId",
    "BlockId",
    "CallbackId",
    "HomeMenuValue",
    "MethodValue",
    "ShareValue",
    "TopOffValue",
]

SLASH_COMMAND = "/datastore"


class CallbackId(StrEnum):
    WIZARD_NAME = "wizard-name"
    WIZARD_CONNECTION_SETUP = "wizard-connection-setup"
    WIZARD_REVIEW_ACCESS = "wizard-review-access"
    WIZARD_SITE_URL = "wizard-site-url"
    WIZARD_CONNECT = "wizard-connect"
    WIZARD_GRANT_ACCESS = "wizard-grant-access"
    WIZARD_CONFIRM_ACCESS = "wizard-confirm-access"
    WIZARD_SUMMARY = "wizard-summary"
    WIZARD_RESUME = "wizard-resume"
    WIZARD_ENDED = "wizard-ended"
    RECONNECT = "reconnect"
    DELETE_CONFIRM = "delete-confirm"
    CREDITS_TOP_OFF = "credits-top-off"
    NOTICE = "notice"


class BlockId(StrEnum):
    WIZARD_STEP = "wizard-step"
    NAME = "wizard-name"
    METHOD = "wizard-method"
    SOURCE = "wizard-source"
    CREDITS = "wizard-credits"
    TOPOFF_CHOICE = "wizard-topoff-choice"
    TOPOFF_THRESHOLD = "wizard-topoff-threshold"
    TOPOFF_AMOUNT = "wizard-topoff-amount"
    TOPOFF_CAP = "wizard-topoff-cap"
    ACCESS = "wizard-access"
    TERMS = "wizard-terms"
    SITE_URL = "wizard-site-url"
    CONNECT = "wizard-connect"
    CONNECT_ACTIONS = "wizard-connect-actions"
    CONNECT_STATUS = "wizard-connect-status"
    CONNECT_ERROR = "wizard-connect-error"
    OFFERED_SITES = "wizard-offered-sites"
    CONNECTED = "wizard-connected"
    SHARE_CHOICE = "wizard-share-choice"
    SPACES = "wizard-spaces"
    SUMMARY = "wizard-summary"
    NOTICE = "wizard-notice"
    RESUME_ACTIONS = "wizard-resume-actions"
    CONTINUE_ACTIONS = "wizard-continue-actions"
    HOME_ACTIONS = "home-actions"
    PROGRESS = "sync-progress"
    COMPLETION_ACTIONS = "sync-completion-actions"
    SEARCH_ACTIONS = "search-actions"
    SEARCH_ACCESS = "search-access"  # who sees the datastore's content, on every search answer
    SEARCH_UNCHECKED = "search-unchecked"  # per-person: some results could not be checked in Confluence
    PERSON_CONNECT_ACTIONS = "person-connect-actions"
    ACCESS_HISTORY = "status-access-history"
    PAUSED_ACTIONS = "sync-paused-actions"
    HOME_NOTICE = "home-notice"
    HOME_DATASTORE = "home-datastore"  # + "-<datastore id>": one section per datastore
    DELETE_SUMMARY = "delete-summary"
    DELETE_NAME = "delete-name"
    CREDITS_SUMMARY = "credits-summary"
    CREDITS_LEDGER = "credits-ledger"
    CREDITS_ACTIONS = "credits-actions"
    ACCESS_MODE = "wizard-access-mode"  # "Grant access": each person / everyone
    ACCESS_CONFIRM = "access-confirm"  # the confirmation naming the connecting account
    ACCESS_CONFIRM_ACTIONS = "access-confirm-actions"
    ACCESS_OFFER_ACTIONS = "access-offer-actions"


class ActionId(StrEnum):
    NAME_INPUT = "wizard-name-input"
    METHOD_SELECT = "wizard-method-select"
    TOPOFF_CHOICE = "wizard-topoff-choice"
    TOPOFF_THRESHOLD = "wizard-topoff-threshold"
    TOPOFF_AMOUNT = "wizard-topoff-amount"
    TOPOFF_CAP = "wizard-topoff-cap"
    SITE_URL = "wizard-site-url"
    OPEN_WINDOW = "wizard-open-window"
    TRY_AGAIN = "wizard-try-again"
    CHANGE_SITE = "wizard-change-site"
    USE_SITE = "wizard-use-site"
    SHARE_CHOICE = "wizard-share-choice"
    SPACES = "wizard-spaces"
    RESUME = "wizard-resume"
    START_OVER = "wizard-start-over"
    CONTINUE_SETUP = "wizard-continue-setup"
    HOME_CREATE = "home-create"
    RETRY_SYNC = "sync-retry"
    SHARE_RESULTS = "search-share"
    CONNECT_CONFLUENCE = "person-connect-confluence"  # a URL button: the click is only acknowledged
    RECONNECT = "reconnect-confluence"
    HOME_DATASTORE_MENU = "home-datastore-menu"
    DELETE_NAME_INPUT = "delete-name-input"
    CREDITS_CHANGE = "credits-change"
    ACCESS_MODE = "wizard-access-mode"
    ACCESS_BACK = "wizard-access-back"
    ACCESS_CONFIRM_EVERYONE = "access-confirm-everyone"  # value: "<datastore id>"
    ACCESS_OFFER_SWITCH = "access-offer-switch"  # value: "<datastore id>"


class MethodValue(StrEnum):
    THIRD_PARTY = "third-party-connection"


class TopOffValue(StrEnum):
    CONFIGURE = "configured"
    SKIP = "skipped"


class ShareValue(StrEnum):
    SPECIFIC = "specific"
    ALL = "all"


class HomeMenuValue(StrEnum):
    """The App Home menu of a datastore: option values are ``<choice>:<datastore id>``."""

    SYNC = "sync"
    THREAD = "thread"
    DELETE = "delete"
