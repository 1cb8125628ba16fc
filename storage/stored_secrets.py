"""The encrypted tokens the database holds, read once at start-up to check that ENCRYPTION_KEY opens them."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Connection
from storage.person_links import PersonLink

__all__ = ["encrypted_tokens"]


def encrypted_tokens(session: Session) -> Iterator[str]:
    """Every stored ciphertext: the Confluence connections' and the person links' access and refresh tokens."""
    for model in (Connection, PersonLink):
        rows = session.execute(select(model.access_token_enc, model.refresh_token_enc)).yield_per(500)
        for access, refresh in rows:
            yield from (value for value in (access, refresh) if value)
