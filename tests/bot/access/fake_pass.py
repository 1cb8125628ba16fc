"""A stand-in for the permission pass (built elsewhere): each synced document's ACL read straight from the fake
Atlassian's state (space readers, own read restriction, every ancestor's), stored with ``checked_at``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from bot.access.filter import store_document_acls
from bot.access.model import Acl, effective_acl, group_key, person_principals, user_key
from bot.services import Services
from demo.fakes.atlassian import Content, Site
from storage.documents import Document


def _keys(users: tuple[str, ...] | set[str], groups: tuple[str, ...] | set[str]) -> list[str]:
    return [user_key(u) for u in users] + [group_key(g) for g in groups]


def acl_in_site(site: Site, item: Content) -> Acl:
    space = _keys(*site.permissions.readers_of_space(item.space_id))
    ancestors: list[list[str]] = []
    node = site.content.get(item.parent_id) if item.parent_id is not None else None
    while node is not None:
        ancestors.append(_keys(*node.restrictions))
        node = site.content.get(node.parent_id) if node.parent_id is not None else None
    return effective_acl(space, _keys(*item.restrictions), ancestors)


def run_fake_pass(services: Services, site: Site, *, datastore_id: int, checked_at: datetime) -> int:
    with services.sessions.begin() as session:
        source_ids = list(session.scalars(select(Document.source_id).where(Document.datastore_id == datastore_id)))
        acls = {sid: acl_in_site(site, site.content[int(sid)]) for sid in source_ids}
        return store_document_acls(session, datastore_id=datastore_id, acls=acls, checked_at=checked_at)


def principals_in_site(site: Site, account_id: str) -> frozenset[str]:
    return person_principals(account_id, site.people.groups_of(account_id))
