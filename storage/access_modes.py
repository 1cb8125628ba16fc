"""Who sees a datastore's content, and the words the access audit is written in (no imports: storage, bot and
the migrations share them)."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["AccessMode", "AccessOffer", "AuditAction", "AuditSource"]


class AccessMode(StrEnum):
    """``datastores.access_mode``. Until per-person filtering exists every datastore is ``everyone``: searched
    as the connecting account, by everyone in the workspace."""

    EACH = "each"  # each person sees what they can see in Confluence (not offered yet: issue #12 step 6)
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


class AuditAction(StrEnum):
    """What an access change changed (``access_audit.action``)."""

    MODE = "mode"
    LIMIT = "limit"
