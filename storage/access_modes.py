"""Who sees a datastore's content, and the words the access audit is written in (no imports: storage, bot and
the migrations share them)."""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "DATA_CENTER_SOURCE",
    "AccessMode",
    "AccessOffer",
    "AuditAction",
    "AuditSource",
    "LimitKind",
    "offered_modes",
]

#: ``datastores.source`` of a Confluence Data Center datastore (issue #15: not built yet).
DATA_CENTER_SOURCE = "confluence_dc"


class AccessMode(StrEnum):
    """``datastores.access_mode``. Until per-person filtering exists every datastore is ``everyone``: searched
    as the connecting account, by everyone in the workspace."""

    EACH = "each"  # each person sees what they can see in Confluence (the default for new datastores)
    EVERYONE = "everyone"  # everyone in the workspace sees what the connecting account can see

    @classmethod
    def of(cls, raw: str | None) -> AccessMode:
        """The mode a stored value means; a value the bot never writes means the narrower ``each``."""
        return cls.EVERYONE if raw == cls.EVERYONE.value else cls.EACH


class AccessOffer(StrEnum):
    """``datastores.access_offer``: the one DM offering its creator per-person access (sent from step 6 on)."""

    PENDING = "pending"
    SENT = "sent"
    ANSWERED = "answered"


class AuditSource(StrEnum):
    """Where an access change came from (``access_audit.source``)."""

    SLACK = "slack"
    CLI = "cli"
    MIGRATION = "migration"
    DM = "dm"
    WIZARD = "wizard"  # chosen in the wizard's "Grant access" step
    OFFER = "offer"  # the button of the one-time DM offering per-person access


class AuditAction(StrEnum):
    """What an access change changed (``access_audit.action``)."""

    MODE = "mode"
    LIMIT = "limit"


class LimitKind(StrEnum):
    """``usage_limits.kind``: who may use a datastore at all (no row: everyone in the workspace)."""

    CHANNELS = "channels"  # search and share only in the listed channels
    GROUP = "group"  # only members of one Slack user group
    NONE = "none"  # the audit's word for "no limit"


def offered_modes(source: str) -> tuple[AccessMode, ...]:
    """The access modes a datastore of ``source`` may have: Data Center has no per-person access yet (each
    person would need their own personal access token, issue #15), so it offers "everyone" only."""
    if source == DATA_CENTER_SOURCE:
        return (AccessMode.EVERYONE,)
    return (AccessMode.EACH, AccessMode.EVERYONE)
