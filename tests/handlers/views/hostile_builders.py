"""Every public view builder of handlers/views, called with one text in every string field of its inputs.

:func:`build_all` returns ``(label, surface, payload)`` for each builder (and for each branch worth reaching:
progress states, search with and without hits …), where the snapshot dataclasses are filled by
:func:`fill`: every ``str`` field — names, titles, sites, accounts, reasons, failures, ids used in mentions
— gets the hostile text, so a field added later is covered without touching this module. Counters get
small numbers, datetimes a fixed moment.

Parameters the handlers pass as ready-made mrkdwn (a notice, a refusal naming a user, the parent's status
label) are not untrusted input: they get ordinary text for the escaping sweep and the hostile text for the
size sweep (``mrkdwn_params``), since their length still must be clipped.

``EXEMPT`` names the public functions of handlers/views that build no Slack text from input (metadata
parsers, number formatters, the generic modal wrapper); a test checks every other public function is here.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import types
import typing
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from bot.datastores.credits import CreditsOverview
from bot.datastores.deletion import DeletionPreview
from bot.datastores.queries import AccessChange, DatastoreInfo, SearchAnswer
from bot.progress.snapshot import ProgressSnapshot
from bot.wizard.finish import CreatedDatastore
from bot.wizard.inputs import TopOffSettings
from bot.wizard.steps import SpaceChoice, Step, TopOffView, WizardSnapshot
from handlers.views import (
    access,
    credits,
    datastore_messages,
    delete,
    fallback,
    help,
    home,
    progress,
    reconnect,
    top_off,
    usage,
    wizard,
    wizard_finish,
)
from storage.access_modes import AccessMode, AuditSource
from storage.credits import LedgerRow
from storage.deletion import DeletedRows
from storage.models import CreditEntry
from storage.search import SearchHit
from storage.states import DatastoreStatus, PauseKind, RunOutcome, RunPhase, RunState, RunTrigger, WizardPurpose

Surface = Literal["message", "modal", "home", "blocks", "text", "value"]
Built = tuple[str, Surface, Any]

WHEN = datetime(2026, 11, 2, 10, 4, tzinfo=UTC)
#: Ids the handlers put into mentions and links themselves: trusted, so their <@…>, <#…> and links are allowed.
TRUSTED_USER = "U0TRUSTED"
TRUSTED_URL = "https://example.test/terms"
#: Fields that hold the bot's own identifiers (never shown, used in metadata and button values).
OWN_IDS = {"id": "w" * 24, "team_id": "T0TEAM", "parent_ts": "1.1", "progress_ts": "1.2"}

EXEMPT = {
    "blocks": "the builders themselves (tested on their own)",
    "limits": "the limits and clipping (tested on their own)",
    "progress.duration_text": "formats a number of seconds",
    "progress.progress_bar": "formats a fraction",
    "progress.STATUS_LABELS": "a constant",
    "wizard.MAX_NAME_LENGTH": "a constant",
    "wizard.STEP_COUNT": "a constant",
    "wizard.WIZARD_TITLE": "a constant",
    "wizard.modal": "wraps blocks built by the step views (covered through them)",
    "wizard.step_context": "a step number and a constant label",
    "wizard.wizard_metadata": "ids only (private_metadata)",
    "usage.read_share_value": "parses the Share in channel button value",
    "fallback.TOO_SLOW_TEXT": "a constant",
    "fallback.UNKNOWN_COMMAND_TEXT": "a constant",
    "fallback.UNKNOWN_FORM_TEXT": "a constant",
    "fallback.UNREADABLE_FORM_TEXT": "a constant",
    "fallback.no_options": "an empty options list",
    "wizard.parse_wizard_metadata": "parses private_metadata",
    "wizard_finish.top_off_text": "numbers only",
    "home.MAX_HOME_DATASTORES": "a constant",
    "help.SubcommandHelp": "the help's own entries (a dataclass)",
    "top_off.TopOffValues": "a protocol",
}


#: The member an enum field gets: the one that shows the most text (the connecting account's name).
#: States: the one whose view shows the run's reason (paused for reconnect, partially synced).
ENUM_VALUES: dict[type[enum.Enum], enum.Enum] = {
    AccessMode: AccessMode.EVERYONE,
    DatastoreStatus: DatastoreStatus.PAUSED,
    RunState: RunState.PAUSED,
    RunPhase: RunPhase.PROCESSING,
    RunOutcome: RunOutcome.PARTIALLY_SYNCED,
    PauseKind: PauseKind.RECONNECT,
    RunTrigger: RunTrigger.MANUAL,
    WizardPurpose: WizardPurpose.CREATE,
}


def _value_for(kind: Any, name: str, text: str) -> Any:
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        options = [arg for arg in typing.get_args(kind) if arg is not type(None)]
        return _value_for(options[0], name, text)
    if kind is str:
        return OWN_IDS.get(name, text)
    if kind is bool:
        return False
    if kind is int:
        return 7
    if kind is float:
        return 1.5
    if kind is datetime:
        return WHEN
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return ENUM_VALUES[kind]
    if origin is tuple:
        args = typing.get_args(kind)
        if args and args[-1] is Ellipsis:
            return tuple(_value_for(args[0], name, text) for _ in range(4))
        return tuple(_value_for(arg, name, text) for arg in args)
    if origin is list:
        return [_value_for(typing.get_args(kind)[0], name, text) for _ in range(4)]
    if dataclasses.is_dataclass(kind):
        return fill(kind, text)
    raise TypeError(f"no hostile value for {name}: {kind!r}")


@functools.cache
def _hints(cls: Any) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def fill(cls: Any, text: str, **overrides: Any) -> Any:
    """``cls`` (a dataclass) with ``text`` in every string field, recursively; ``overrides`` win."""
    hints = _hints(cls)
    values = {
        f.name: _value_for(hints[f.name], f.name, text) for f in dataclasses.fields(cls) if f.name not in overrides
    }
    return cls(**values, **overrides)


def _ledger(text: str) -> list[LedgerRow]:
    kinds = ["charge", "grant", text]
    return [
        LedgerRow(
            entry=CreditEntry(team_id="T0TEAM", kind=kind, amount=-5, balance_after=10, note=text, created_at=WHEN),
            datastore=text,
        )
        for kind in kinds
    ]


def _snapshots(text: str) -> list[tuple[str, ProgressSnapshot]]:
    base: dict[str, Any] = {"paused_until": WHEN, "started_at": WHEN - timedelta(minutes=3), "finished_at": WHEN}
    states: list[tuple[str, dict[str, Any]]] = [
        ("queued", {"state": "queued", "phase": "initializing"}),
        ("metadata", {"state": "running", "phase": "syncing_metadata"}),
        ("changes", {"state": "running", "phase": "syncing_metadata", "lists_everything": False}),
        ("processing", {"state": "running", "phase": "processing"}),
        ("one-pass", {"state": "running", "phase": "processing", "total_estimated": True}),
        ("one-pass-no-estimate", {"state": "running", "phase": "processing", "total_estimated": True, "to_process": 0}),
        ("paused-reason", {"state": "paused", "pause_kind": text}),
        ("paused-reconnect", {"state": "paused", "pause_kind": "reconnect"}),
        ("paused-credits", {"state": "paused", "pause_kind": "credits"}),
        ("synced", {"state": "finished", "outcome": "synced"}),
        ("partial", {"state": "finished", "outcome": "partially_synced"}),
        ("failed", {"state": "finished", "outcome": "failed"}),
        # A state the bot never writes (the columns refuse one, the views still escape it).
        ("hostile-state", {"state": text, "phase": text, "outcome": text, "pause_kind": text, "trigger": text}),
    ]
    return [(label, fill(ProgressSnapshot, text, **base, **changes)) for label, changes in states]


def _wizard(text: str, step: Step, **changes: Any) -> WizardSnapshot:
    spaces = tuple(SpaceChoice(id=f"{i}", key=text, name=text) for i in range(12))
    offered = tuple(f"https://site{i}.atlassian.net" for i in range(3))
    base: dict[str, Any] = {"step": step, "top_off": TopOffView(threshold=5, amount=10, monthly_cap=20)}
    base.update(spaces=spaces, offered_sites=offered)
    base.update(changes)
    return typing.cast(WizardSnapshot, fill(WizardSnapshot, text, **base))


def _search(text: str, *, hits: bool, syncing: bool) -> SearchAnswer:
    info = fill(DatastoreInfo, text, id=3, status="processing")
    found = [fill(SearchHit, text, url=url, document_id=i) for i, url in enumerate(_urls(text))] if hits else []
    return SearchAnswer(datastore=info, query=text, hits=found, syncing=syncing, shortened=True)


def _history(text: str) -> list[AccessChange]:
    """Audit rows of every source: a Slack user (the hostile text as the id), the migration, the CLI, unknown."""
    sources = [AuditSource.SLACK, AuditSource.MIGRATION, AuditSource.CLI, text]
    return [
        fill(AccessChange, text, source=source, actor_user_id=None if i else text) for i, source in enumerate(sources)
    ]


def _urls(text: str) -> list[str]:
    """What a hit's URL may be: a real one, the hostile text itself, a script URL, one with a label break."""
    return ["https://acme.atlassian.net/wiki/x?a=1&b=2", text, "javascript:alert(1)", "https://e.x/a|b>c", ""]


def build_all(text: str, *, mrkdwn_params: str = "A notice about *eng-wiki*.") -> list[Built]:
    """Every builder with ``text`` in every string field (see the module docstring)."""
    built: list[Built] = []
    overview = fill(CreditsOverview, text, top_off=TopOffSettings(5, 10, 20), ledger=_ledger(text))
    built += [
        ("credits_message", "message", credits.credits_message(overview, cost_per_page=2, change_refusal=None)),
        (
            "credits_message-refused",
            "message",
            credits.credits_message(overview, cost_per_page=1, change_refusal=mrkdwn_params),
        ),
        ("top_off_modal", "modal", credits.top_off_modal(overview)),
        ("top_off_fields", "blocks", top_off.top_off_fields(TopOffView(1, 2, 3), required=False)),
    ]
    created = fill(CreatedDatastore, text, share_all=False, space_names=tuple([text] * 12))
    built += [
        (
            "announcement_message",
            "message",
            datastore_messages.announcement_message(created, creator_id=text, status=mrkdwn_params),
        ),
        ("first_progress_reply", "message", datastore_messages.first_progress_reply(created)),
        ("not_posted_dm", "message", datastore_messages.not_posted_dm(created, channel_id=text, reason=text)),
    ]
    preview = fill(DeletionPreview, text, syncing=True)
    built += [
        (
            "delete_confirm_view",
            "modal",
            delete.delete_confirm_view(preview, response_url="https://hooks.slack.test/r/1"),
        ),
        ("delete_confirm_view-long-url", "modal", delete.delete_confirm_view(preview, response_url=text)),
        (
            "deleted_parent_message",
            "message",
            delete.deleted_parent_message(name=text, site=text, deleted_by=text, documents=3, deleted_at=WHEN),
        ),
        ("deleted_text", "text", delete.deleted_text(fill(DeletedRows, text))),
        ("deleting_text", "text", delete.deleting_text(text)),
        ("notice_view", "modal", delete.notice_view(mrkdwn_params, title=text)),
    ]
    entries = [help.SubcommandHelp("search", "search NAME words", "search a datastore")]
    built.append(("help_message", "message", help.help_message(entries, unknown=text, suggestion=text)))
    infos = [fill(DatastoreInfo, text, id=i) for i in range(95)]
    links = {i: url for i, url in enumerate(_urls(text))}
    built.append(("home_view", "home", home.home_view(infos, links=links, notice=mrkdwn_params)))
    each = [fill(DatastoreInfo, text, id=i, access_mode=AccessMode.EACH) for i in range(3)]
    built.append(("home_view-each", "home", home.home_view(each)))
    history = _history(text)
    built += [
        ("access_line", "text", access.access_line(infos[0])),
        ("access_line-no-account", "text", access.access_line(fill(DatastoreInfo, text, account_name=None))),
        ("access_history", "text", access.access_history(history)),
        ("account_words", "text", access.account_words(text, text)),
        ("account_words-site", "text", access.account_words(None, text)),
    ]
    for label, snapshot in _snapshots(text):
        if label == "hostile-state":  # a phase or outcome the bot never writes is shown, escaped
            built.append((f"status_label-{label}", "text", progress.status_label(snapshot)))
        built += [
            (f"progress_message-{label}", "message", progress.progress_message(snapshot)),
            (f"completion_message-{label}", "message", progress.completion_message(snapshot)),
            (f"failures_message-{label}", "message", progress.failures_message(snapshot)),
            (f"parent_message-{label}", "message", progress.parent_message(snapshot, status=mrkdwn_params)),
            (
                f"parent_message-status-{label}",
                "message",
                progress.parent_message(snapshot, status=progress.status_label(snapshot)),
            ),
            (
                f"thread_moved_note-{label}",
                "message",
                progress.thread_moved_note(snapshot, channel_id=text, reason=text),
            ),
        ]
    built += [
        ("reconnect_view", "modal", reconnect.reconnect_view(_wizard(text, Step.CONNECT, oauth_error=None))),
        ("reconnect_view-error", "modal", reconnect.reconnect_view(_wizard(text, Step.CONNECT))),
        ("reconnected_view", "modal", reconnect.reconnected_view(_wizard(text, Step.CONNECT))),
    ]
    built += [
        ("list_message", "message", usage.list_message(infos[:60])),
        (
            "status_message",
            "message",
            usage.status_message(fill(DatastoreInfo, text, status="processing"), thread_link=text, history=history),
        ),
        (
            "status_message-each",
            "message",
            usage.status_message(each[0], thread_link=None, history=history[:1]),
        ),
        ("status_message-link", "message", usage.status_message(fill(DatastoreInfo, text), thread_link=TRUSTED_URL)),
        ("search_message-hits", "message", usage.search_message(_search(text, hits=True, syncing=True))),
        (
            "search_message-shared",
            "message",
            usage.search_message(_search(text, hits=True, syncing=False), shared_by=TRUSTED_USER),
        ),
        ("search_message-none", "message", usage.search_message(_search(text, hits=False, syncing=True))),
        ("share_value", "value", usage.share_value(3, text)),
    ]
    built += [
        (
            "name_step_view",
            "modal",
            wizard.name_step_view(wizard_id="w" * 24, name=text, notice=text, starter={"c": "C1", "u": "U1"}),
        ),
        (
            "connection_setup_view",
            "modal",
            wizard.connection_setup_view(_wizard(text, Step.CONNECTION_SETUP, top_off_choice="configured")),
        ),
        (
            "review_access_view",
            "modal",
            wizard.review_access_view(
                _wizard(text, Step.REVIEW_ACCESS), access_lines=[mrkdwn_params], terms_url=TRUSTED_URL
            ),
        ),
        (
            "review_access_view-bad-terms",
            "modal",
            wizard.review_access_view(_wizard(text, Step.REVIEW_ACCESS), access_lines=["read"], terms_url=text),
        ),
        ("site_url_view", "modal", wizard.site_url_view(_wizard(text, Step.SITE_URL))),
        ("connect_view", "modal", wizard.connect_view(_wizard(text, Step.CONNECT, oauth_error=None))),
        ("connect_view-error", "modal", wizard.connect_view(_wizard(text, Step.CONNECT))),
        ("connect_view-offered", "modal", wizard.connect_view(_wizard(text, Step.CONNECT, offered_sites=(text,) * 6))),
        (
            "grant_access_view",
            "modal",
            wizard_finish.grant_access_view(_wizard(text, Step.GRANT_ACCESS, share_all=False)),
        ),
        ("summary_view", "modal", wizard_finish.summary_view(_wizard(text, Step.SUMMARY, top_off_choice="configured"))),
        (
            "resume_view",
            "modal",
            wizard_finish.resume_view(new_wizard_id="w" * 24, existing=_wizard(text, Step.SITE_URL), started=WHEN),
        ),
        ("ended_view", "modal", wizard_finish.ended_view(text)),
        (
            "continue_setup_message",
            "message",
            wizard_finish.continue_setup_message(_wizard(text, Step.GRANT_ACCESS, oauth_error=None)),
        ),
        ("continue_setup_message-error", "message", wizard_finish.continue_setup_message(_wizard(text, Step.CONNECT))),
        (
            "continue_setup_message-expired",
            "message",
            wizard_finish.continue_setup_message(_wizard(text, Step.CONNECT), link_expired=True),
        ),
        ("ended_form_view", "modal", fallback.ended_form_view(mrkdwn_params)),
        ("command_reply", "text", fallback.command_reply(mrkdwn_params)["text"]),
    ]
    return built


#: The modules whose public functions build views, for the completeness check.
VIEW_MODULES = {
    "access": access,
    "credits": credits,
    "datastore_messages": datastore_messages,
    "delete": delete,
    "fallback": fallback,
    "help": help,
    "home": home,
    "progress": progress,
    "reconnect": reconnect,
    "top_off": top_off,
    "usage": usage,
    "wizard": wizard,
    "wizard_finish": wizard_finish,
}


def covered_builders() -> set[str]:
    """``module.function`` of every builder :func:`build_all` calls (by the labels it gives them)."""
    labels = {label.split("-")[0] for label, _surface, _payload in build_all("x")}
    return {f"{name}.{label}" for name, module in VIEW_MODULES.items() for label in labels if label in module.__all__}


Check = Callable[[str, Surface, Any], None]
