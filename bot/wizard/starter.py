"""Who step 1 of a wizard was opened for, sealed into the modal's private_metadata.

Step 1 is shown before the wizard's row exists (Slack's trigger expires in 3 s), so a quick "Next" may be
the first to record it. It records it only for the identity the bot opened the modal for, read from these
fields and checked with an HMAC under a server secret: metadata that the bot did not write (or that names
someone else) never creates a row.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass

from bot.actors import Actor, is_slack_id
from bot.wizard.steps import is_wizard_id

__all__ = ["Starter", "seal", "unseal"]

_MAC_HEX = 32


@dataclass(frozen=True)
class Starter:
    actor: Actor
    channel_id: str | None


def _mac(secret: str, wizard_id: str, fields: Mapping[str, str]) -> str:
    message = "\n".join([wizard_id, *(f"{key}={fields[key]}" for key in sorted(fields))])
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()[:_MAC_HEX]


def seal(secret: str, wizard_id: str, actor: Actor, channel_id: str | None) -> dict[str, str]:
    """The metadata fields (besides the wizard id) that name the starter: t, e, u, c and their MAC m."""
    fields = {"t": actor.team_id, "u": actor.user_id}
    if actor.enterprise_id:
        fields["e"] = actor.enterprise_id
    if channel_id and is_slack_id(channel_id):
        fields["c"] = channel_id
    return {**fields, "m": _mac(secret, wizard_id, fields)}


def unseal(secret: str, wizard_id: str, metadata: Mapping[str, object]) -> Starter | None:
    """The starter sealed into ``metadata`` for ``wizard_id``; None when absent, malformed or not ours."""
    fields = {key: metadata[key] for key in ("t", "e", "u", "c") if key in metadata}
    mac = metadata.get("m")
    if not is_wizard_id(wizard_id) or not isinstance(mac, str) or len(mac) != _MAC_HEX:
        return None
    if not all(is_slack_id(value) for value in fields.values()) or "t" not in fields or "u" not in fields:
        return None
    checked = {key: str(value) for key, value in fields.items()}
    if not hmac.compare_digest(mac, _mac(secret, wizard_id, checked)):
        return None
    actor = Actor(team_id=checked["t"], user_id=checked["u"], enterprise_id=checked.get("e"))
    return Starter(actor=actor, channel_id=checked.get("c"))
