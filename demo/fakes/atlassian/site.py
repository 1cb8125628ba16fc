"""The generated Confluence site: compact metadata, on-demand bodies and mutations.

``Site(SiteSpec(...))`` is deterministic for a given spec.  Only metadata is kept (a slotted
record per space and per page/blog post); bodies are rendered on demand by
:class:`~.storage_xhtml.BodyGenerator` from ``(content id, version, seed)``.  Mutation methods
(``update_page``, ``add_page``, ``trash_page``, …) use the shared :class:`~.clock.FakeClock` for
timestamps so incremental-sync tests see realistic ``version.createdAt`` values.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

from .clock import FakeClock
from .people import Directory, User
from .permissions import Permissions, Viewer
from .storage_xhtml import (
    ADJECTIVES,
    NOUNS,
    BodyContext,
    BodyGenerator,
    PageHints,
    letters,
    page_hints,
)

DAY = 86_400.0
CREATED_BASE = 1_704_067_200.0  # 2024-01-01T00:00:00Z
SPACE_NAMES = (
    "Engineering:ENG,Product:PROD,Design:DES,Marketing:MKT,Sales:SALES,Support:SUP,"
    "Human Resources:HR,Finance:FIN,Legal:LEGAL,Operations:OPS,Security:SEC,Data:DATA,"
    "Platform:PLAT,Mobile:MOB,Research:RES,Infrastructure:INFRA,Quality:QA,"
    "Customer Success:CS,Partners:PART,Documentation:DOCS"
)
KNOWN_SPACES = [tuple(item.split(":")) for item in SPACE_NAMES.split(",")]


@dataclass(frozen=True)
class SiteSpec:
    """Shape of the generated site.  Equal specs generate identical sites."""

    spaces: int = 3
    pages_per_space: int = 40
    blogposts_per_space: int = 3
    body_bytes: int = 6000
    seed: int = 1
    archived_every: int = 0
    users: int = 6


@dataclass(slots=True)
class Space:
    id: int
    key: str
    name: str
    type: str
    status: str
    created_at: float
    author_id: str
    homepage_id: int | None = None


@dataclass(slots=True)
class Content:
    """Metadata of one page or blog post (kind ``page`` / ``blogpost``)."""

    id: int
    kind: str
    space_id: int
    parent_id: int | None
    position: int
    title: str
    status: str
    version: int
    created_at: float
    updated_at: float
    author_id: str
    restrictions: tuple[tuple[str, ...], tuple[str, ...]] = field(default=((), ()))


class SiteError(KeyError):
    """Unknown space or content id passed to a mutation."""


class Site:
    """All spaces, pages and blog posts of one Confluence Cloud site."""

    def __init__(self, spec: SiteSpec | None = None, clock: FakeClock | None = None) -> None:
        self.spec = spec or SiteSpec()
        self.clock = clock or FakeClock()
        self.lock = threading.RLock()
        self.bodies = BodyGenerator(self.spec.seed)
        self.people = Directory(self.spec.seed, self.spec.users)
        self.users: list[User] = self.people.users  # the same list: users added to the directory appear here
        self.permissions = Permissions(self)
        self.spaces: dict[int, Space] = {}
        self.space_keys: dict[str, int] = {}
        self.content: dict[int, Content] = {}
        self._ids: dict[str, list[int]] = {"page": [], "blogpost": []}
        self._space_ids: dict[tuple[str, int], list[int]] = {}
        self._next_space_id = 131_073
        self._next_content_id = 2_000_001
        for _ in range(self.spec.spaces):
            self.add_space(pages=self.spec.pages_per_space, blogposts=self.spec.blogposts_per_space)

    # ----- generation -------------------------------------------------------------------------
    def _space_identity(self, index: int) -> tuple[str, str]:
        if index < len(KNOWN_SPACES):
            name, key = KNOWN_SPACES[index]
            return name, key
        code = letters(index, 3).upper()
        suffix = " & Développement" if index % 9 == 8 else ""
        return f"Team {code}{suffix}", f"T{code}"

    def _content_title(self, kind: str, key: str, index: int) -> str:
        if kind == "blogpost":
            return f"Weekly update {key} #{index}"
        if index == 0:
            return f"{key} Home"
        noun = NOUNS[index % len(NOUNS)]
        if index % 11 == 0:
            return f"Q&A: “{noun}” <notes> {key}-{index}"
        if index % 13 == 0:
            return f"Größe & Überblick {key}-{index}"
        return f"{ADJECTIVES[index % len(ADJECTIVES)].title()} {noun} {key}-{index}"

    def _timestamps(self, content_id: int) -> tuple[float, float]:
        created = CREATED_BASE + (content_id * 7919 % 600) * DAY + content_id % 86_000
        updated = created + (content_id * 104_729 % 60) * DAY + 3600
        return created, min(updated, self.clock.now() - DAY)

    # ----- queries ----------------------------------------------------------------------------
    def space(self, space_id: int) -> Space | None:
        return self.spaces.get(space_id)

    def space_by_key(self, key: str) -> Space | None:
        space_id = self.space_keys.get(key)
        return self.spaces.get(space_id) if space_id is not None else None

    def get(self, content_id: int, kind: str | None = None) -> Content | None:
        item = self.content.get(content_id)
        if item is None or (kind is not None and item.kind != kind):
            return None
        return item

    def ids(self, kind: str, space_id: int | None = None) -> list[int]:
        """Sorted ids of one kind (optionally in one space); a copy safe to iterate."""
        with self.lock:
            source = self._ids[kind] if space_id is None else self._space_ids.get((kind, space_id), [])
            return list(source)

    def children(self, parent_id: int) -> list[Content]:
        parent = self.get(parent_id)
        if parent is None:
            return []
        with self.lock:
            ids = self._space_ids.get(("page", parent.space_id), [])
            found = [self.content[i] for i in ids if self.content[i].parent_id == parent_id]
        return sorted(found, key=lambda c: (c.position, c.id))

    def body(self, item: Content) -> str:
        """The storage-format body of the current version."""
        space = self.spaces[item.space_id]
        link = self.get(item.parent_id) if item.parent_id else self.get(space.homepage_id or 0)
        author = self.users[item.id % len(self.users)]
        return self.bodies.render(
            BodyContext(
                content_id=item.id,
                version=item.version,
                title=item.title,
                space_key=space.key,
                link_title=link.title if link else f"{space.key} Home",
                link_space_key=space.key,
                mention_account_id=author.account_id,
                target_bytes=self.spec.body_bytes,
            )
        )

    def page_text_hints(self, content_id: int) -> PageHints:
        item = self._require(content_id)
        return page_hints(item.id, item.version, item.title, self.spec.seed)

    def user(self, account_id: str) -> User | None:
        return self.people.user(account_id)

    def viewer(self, account_id: str) -> Viewer:
        """What ``account_id`` may see right now (build one per request: it memoises)."""
        return Viewer(self, account_id)

    # ----- mutations --------------------------------------------------------------------------
    def add_space(
        self,
        key: str | None = None,
        name: str | None = None,
        *,
        pages: int = 0,
        blogposts: int = 0,
        type: str = "global",
        status: str = "current",
    ) -> Space:
        """Create a space (with a homepage when ``pages`` > 0) and ``pages``/``blogposts`` items."""
        with self.lock:
            index = self._next_space_id - 131_073
            default_name, default_key = self._space_identity(index)
            key = key or default_key
            if key in self.space_keys:
                raise ValueError(f"space key {key!r} already exists")
            created = CREATED_BASE + index * 3 * DAY
            space = Space(
                self._next_space_id,
                key,
                name or default_name,
                type,
                status,
                created,
                self.users[index % len(self.users)].account_id,
            )
            self._next_space_id += 1
            self.spaces[space.id] = space
            self.space_keys[key] = space.id
            for i in range(pages):
                self._generate(space, "page", i)
            for i in range(blogposts):
                self._generate(space, "blogpost", i)
            return space

    def add_spaces(self, count: int, **kwargs: int | str) -> list[Space]:
        """Cheaply add many spaces (e.g. 1,500 for type-ahead tests); no content by default."""
        return [self.add_space(**kwargs) for _ in range(count)]  # type: ignore[arg-type]

    def _generate(self, space: Space, kind: str, index: int) -> Content:
        content_id = self._next_content_id
        self._next_content_id += 1
        created, updated = self._timestamps(content_id)
        parent_id, position = None, 0
        if kind == "page":
            siblings = self._space_ids.get(("page", space.id), [])
            if space.homepage_id is None:
                space.homepage_id = content_id
            elif siblings:
                parent_id = siblings[(len(siblings) - 1) // 5]
                position = (len(siblings) - 1) % 5
        every = self.spec.archived_every
        status = "archived" if every and kind == "page" and index and index % every == 0 else "current"
        item = Content(
            content_id,
            kind,
            space.id,
            parent_id,
            position,
            self._content_title(kind, space.key, index),
            status,
            1 + content_id % 4,
            created,
            updated,
            self.users[content_id % len(self.users)].account_id,
        )
        self._index(item)
        return item

    def _index(self, item: Content) -> None:
        self.content[item.id] = item
        bisect.insort(self._ids[item.kind], item.id)
        bisect.insort(self._space_ids.setdefault((item.kind, item.space_id), []), item.id)

    def _unindex(self, item: Content) -> None:
        self._ids[item.kind].remove(item.id)
        self._space_ids[(item.kind, item.space_id)].remove(item.id)

    def _require(self, content_id: int) -> Content:
        item = self.content.get(int(content_id))
        if item is None:
            raise SiteError(f"no content {content_id}")
        return item

    def _require_space(self, space: int | str) -> Space:
        found = self.space_by_key(space) if isinstance(space, str) else self.spaces.get(space)
        if found is None:
            raise SiteError(f"no space {space!r}")
        return found

    def _bump(self, item: Content) -> None:
        item.version += 1
        item.updated_at = max(self.clock.now(), item.updated_at + 0.001)

    def update_page(self, content_id: int, *, title: str | None = None) -> Content:
        """New version: version+1, new body, ``version.createdAt`` = now."""
        with self.lock:
            item = self._require(content_id)
            if title is not None:
                item.title = title
            self._bump(item)
            return item

    def add_page(
        self, space: int | str, *, title: str | None = None, parent_id: int | None = None, kind: str = "page"
    ) -> Content:
        with self.lock:
            target = self._require_space(space)
            index = len(self._space_ids.get((kind, target.id), []))
            item = self._generate(target, kind, index)
            item.created_at = item.updated_at = self.clock.now()
            item.version = 1
            item.status = "current"
            if title is not None:
                item.title = title
            if parent_id is not None and kind == "page":
                item.parent_id = parent_id
            return item

    def add_blogpost(self, space: int | str, *, title: str | None = None) -> Content:
        return self.add_page(space, title=title, kind="blogpost")

    def set_status(self, content_id: int, status: str) -> Content:
        """``trashed`` / ``archived`` / ``current``; bumps the version like Confluence does."""
        with self.lock:
            item = self._require(content_id)
            item.status = status
            self._bump(item)
            return item

    def trash_page(self, content_id: int) -> Content:
        return self.set_status(content_id, "trashed")

    def archive_page(self, content_id: int) -> Content:
        return self.set_status(content_id, "archived")

    def purge_page(self, content_id: int) -> None:
        """Remove permanently: the content simply stops appearing anywhere."""
        with self.lock:
            item = self._require(content_id)
            self._unindex(item)
            del self.content[item.id]
            for child in self.content.values():
                if child.parent_id == item.id:
                    child.parent_id = None

    def move_page(self, content_id: int, to_space: int | str) -> Content:
        with self.lock:
            item = self._require(content_id)
            target = self._require_space(to_space)
            self._unindex(item)
            item.space_id = target.id
            item.parent_id = target.homepage_id if item.kind == "page" and target.homepage_id != item.id else None
            for child in self.content.values():
                if child.parent_id == item.id and child.space_id != target.id:
                    child.parent_id = None
            self._index(item)
            self._bump(item)
            return item

    def delete_space(self, space: int | str) -> None:
        """Delete a space and purge everything in it."""
        with self.lock:
            target = self._require_space(space)
            for kind in ("page", "blogpost"):
                for content_id in list(self._space_ids.pop((kind, target.id), [])):
                    self._ids[kind].remove(content_id)
                    del self.content[content_id]
            del self.spaces[target.id]
            del self.space_keys[target.key]

    def restrict_page(self, content_id: int, *, users: Iterable[str] = (), groups: Iterable[str] = ()) -> Content:
        """Set read restrictions (account ids; group ids or names); empty means unrestricted.  Like Confluence,
        this does not bump the version."""
        with self.lock:
            item = self._require(content_id)
            accounts = tuple(dict.fromkeys(self.people.require_user(u).account_id for u in users))
            group_ids = tuple(dict.fromkeys(self.people.require_group(g).id for g in groups))
            item.restrictions = (accounts, group_ids)
            return item

    def remove_group(self, group: str) -> None:
        """Delete a group: its members lose what it granted.  It leaves every space permission; read restrictions
        keep naming it (so nobody gains access) while group lookups answer 404."""
        with self.lock:
            self.permissions.forget_group(self.people.remove_group(group).id)

    def stats(self) -> dict[str, int]:
        with self.lock:
            return {
                "spaces": len(self.spaces),
                "pages": len(self._ids["page"]),
                "blogposts": len(self._ids["blogpost"]),
            }
