"""Split a converted page into search chunks that follow its headings.

Search ranks chunks, not pages (BM25 in SQLite FTS5 / PostgreSQL full text), so a chunk should be one
coherent piece of a page that answers a query on its own and can be shown in Slack as it is.

Defaults: ``max_chars=1500`` (≈250 words, ≈400 tokens) holds a typical Confluence section whole, keeps
BM25's length normalisation from burying a short matching section inside a long chunk, fits a Slack
section block (3,000 chars) with room for the breadcrumb, and stays under the 512-token limit of common
embedding models should we add hybrid search.  ``overlap_chars=200`` (≈13%, one or two sentences)
repeats the end of the previous piece when a long section has to be split, so a phrase that straddles
the cut still matches one chunk, for little index growth.

The rules, all deterministic (same input, same chunks):

1. Headings (``#`` … ``######`` at the start of a line, outside code fences) start sections; each
   section knows its heading path, e.g. ``("Setup", "Linux")``.  The heading line stays in the text.
2. Consecutive small sections are packed together up to ``max_chars``; a packed chunk's path is the
   longest common prefix of its sections' paths (``Setup › Linux`` + ``Setup › macOS`` → ``Setup``).
3. A section longer than ``max_chars`` is split on block (blank-line) boundaries; a block that is too
   long on lines, then sentences, then words, and as a last resort characters.  A fenced code block is
   never cut unless it alone exceeds the limit; then it is cut between lines and every part is
   re-fenced with the same opening line, so each chunk is valid Markdown.
4. Each part of a split section after the first starts with up to ``overlap_chars`` from the end of
   the previous part (cut at a sentence or word boundary), unless that ended in code.
5. Every chunk is at most ``max_chars`` long.  Blank text gives no chunks.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

__all__ = ["DEFAULT_MAX_CHARS", "DEFAULT_OVERLAP_CHARS", "MIN_MAX_CHARS", "Chunk", "chunk"]

DEFAULT_MAX_CHARS = 1500
DEFAULT_OVERLAP_CHARS = 200
MIN_MAX_CHARS = 100
SEPARATOR = " › "

_HEADING = re.compile(r"(#{1,6}) +(\S.*?)[ #]*")
_FENCE = re.compile(r"[ >]*(`{3,}|~{3,})")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|(?<=[。！？])")
_SPACE = re.compile(r"\s+")
_TOP_FENCE = re.compile(r"`{3,}|~{3,}")


@dataclass(frozen=True, slots=True)
class Chunk:
    """One searchable piece of a page."""

    index: int
    title: str
    heading_path: tuple[str, ...]
    text: str

    @property
    def heading(self) -> str:
        """The heading path for display, e.g. ``Setup › Linux`` ("" before the first heading)."""
        return SEPARATOR.join(self.heading_path)

    @property
    def breadcrumb(self) -> str:
        """Title and heading path, e.g. ``Install guide › Setup › Linux``; a leading H1 equal to the
        title is not repeated."""
        path = self.heading_path
        if path and path[0] == self.title:
            path = path[1:]
        return SEPARATOR.join((self.title, *path)) if self.title else SEPARATOR.join(path)


@dataclass(slots=True)
class _Section:
    path: tuple[str, ...]
    blocks: list[str] = field(default_factory=list)

    @property
    def size(self) -> int:
        return sum(len(block) for block in self.blocks) + 2 * (len(self.blocks) - 1)


@dataclass(frozen=True, slots=True)
class _Unit:
    """A piece of a long section: its text, the separator before it, and whether it is prose."""

    sep: str
    text: str
    prose: bool


def chunk(
    title: str,
    text: str,
    *,
    max_chars: int = DEFAULT_MAX_CHARS,
    overlap_chars: int = DEFAULT_OVERLAP_CHARS,
) -> list[Chunk]:
    """Split ``text`` (Markdown-ish, as made by :func:`bot.confluence.storage_format.to_text`)."""
    if max_chars < MIN_MAX_CHARS:
        raise ValueError(f"max_chars must be at least {MIN_MAX_CHARS}")
    if not 0 <= overlap_chars <= max_chars // 2:
        raise ValueError("overlap_chars must be between 0 and max_chars / 2")
    pieces: list[tuple[tuple[str, ...], str]] = []
    group: list[_Section] = []
    group_size = 0
    for section in _sections(text):
        size = section.size
        if size > max_chars:
            pieces.extend(_pack(group))
            group, group_size = [], 0
            pieces.extend((section.path, part) for part in _split_section(section, max_chars, overlap_chars))
            continue
        if group and group_size + 2 + size > max_chars:
            pieces.extend(_pack(group))
            group, group_size = [], 0
        group_size += size + (2 if group else 0)
        group.append(section)
    pieces.extend(_pack(group))
    return [Chunk(index, title, path, body) for index, (path, body) in enumerate(pieces)]


def _pack(group: list[_Section]) -> Iterator[tuple[tuple[str, ...], str]]:
    if not group:
        return
    path = group[0].path
    for section in group[1:]:
        common = 0
        while common < min(len(path), len(section.path)) and path[common] == section.path[common]:
            common += 1
        path = path[:common]
    yield path, "\n\n".join(block for section in group for block in section.blocks)


# --- sections and blocks -----------------------------------------------------------------------------


def _closes(line: str, fence: str) -> bool:
    match = _FENCE.fullmatch(line.rstrip())
    return match is not None and match.group(1)[0] == fence[0] and len(match.group(1)) >= len(fence)


def _sections(text: str) -> Iterator[_Section]:
    """Sections at headings; blocks at blank lines, except inside code fences."""
    stack: list[tuple[int, str]] = []
    section = _Section(())
    lines: list[str] = []
    fence = ""
    for line in text.split("\n"):
        if fence:
            lines.append(line)
            if _closes(line, fence):
                fence = ""
            continue
        opening = _FENCE.match(line)
        heading = None if opening else _HEADING.fullmatch(line)
        if opening:
            fence = opening.group(1)
            lines.append(line)
        elif heading:
            _end_block(section, lines)
            if section.blocks:
                yield section
            level = len(heading.group(1))
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, heading.group(2)))
            section = _Section(tuple(name for _, name in stack), [line])
        elif line.strip():
            lines.append(line)
        else:
            _end_block(section, lines)
    _end_block(section, lines)
    if section.blocks:
        yield section


def _end_block(section: _Section, lines: list[str]) -> None:
    if lines:
        section.blocks.append("\n".join(lines))
        lines.clear()


# --- splitting long sections -------------------------------------------------------------------------


def _split_section(section: _Section, max_chars: int, overlap_chars: int) -> list[str]:
    units: list[_Unit] = []
    for block in section.blocks:
        if len(block) <= max_chars:
            units.append(_Unit("\n\n", block, not _FENCE.match(block)))
        elif _is_fence(block):
            units.extend(_split_fence(block, max_chars))
        else:
            parts = _split_text(block, max_chars, 0)
            units.append(_Unit("\n\n", parts[0].text, parts[0].prose))
            units.extend(parts[1:])
    return _pack_units(units, max_chars, overlap_chars)


def _pack_units(units: list[_Unit], max_chars: int, overlap_chars: int) -> list[str]:
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    last: _Unit | None = None
    for unit in units:
        if current and size + len(unit.sep) + len(unit.text) > max_chars:
            pieces.append("".join(current))
            current, size = [], 0
            tail = _tail(last.text, overlap_chars) if last is not None and last.prose else ""
            if tail and len(tail) + len(unit.sep) + len(unit.text) <= max_chars:
                current, size = [tail], len(tail)
        if current:
            current.append(unit.sep)
            size += len(unit.sep)
        current.append(unit.text)
        size += len(unit.text)
        last = unit
    if current:
        pieces.append("".join(current))
    return pieces


def _tail(text: str, limit: int) -> str:
    """At most ``limit`` characters from the end of ``text``, starting at a sentence or word."""
    if limit <= 0:
        return ""
    if len(text) <= limit:
        return text
    start = len(text) - limit
    for pattern in (_SENTENCE_END, _SPACE):
        match = pattern.search(text, start)
        if match and match.end() < len(text):
            return text[match.end() :]
    return text[start:]


def _is_fence(block: str) -> bool:
    first, _, rest = block.partition("\n")
    opening = _TOP_FENCE.match(first)
    return opening is not None and bool(rest) and _closes(rest.rsplit("\n", 1)[-1], opening.group(0))


def _split_fence(block: str, max_chars: int) -> list[_Unit]:
    """Cut an over-long fenced block between lines; every part gets the block's own fences."""
    lines = block.split("\n")
    opening, body, closing = lines[0], lines[1:-1], lines[-1]
    budget = max_chars - len(opening) - len(closing) - 2
    if budget < MIN_MAX_CHARS // 2:
        return [_Unit("\n", part.text, False) for part in _split_text(block, max_chars, 1)]
    groups: list[str] = []
    current = ""
    for part in _split_text("\n".join(body), budget, 1):
        if current and len(current) + len(part.sep) + len(part.text) > budget:
            groups.append(current)
            current = part.text
        else:
            current = current + part.sep + part.text if current else part.text
    groups.append(current)
    return [_Unit("\n\n", f"{opening}\n{group}\n{closing}", False) for group in groups]


def _split_text(text: str, limit: int, level: int) -> list[_Unit]:
    """Units of at most ``limit`` chars: fence-aware lines (0), lines (1), sentences (2), words (3)."""
    if level == 0:
        parts = [(sep, part, not _FENCE.match(part)) for sep, part in _line_groups(text)]
    elif level == 1:
        parts = [("\n", line, True) for line in text.split("\n")]
    elif level in (2, 3):
        parts = [(sep, part, True) for sep, part in _split_on(_SENTENCE_END if level == 2 else _SPACE, text)]
    else:
        return [_Unit("", text[i : i + limit], True) for i in range(0, len(text), limit)]
    units: list[_Unit] = []
    for sep, part, prose in parts:
        if len(part) <= limit:
            units.append(_Unit(sep, part, prose))
            continue
        pieces = _split_text(part, limit, level + 1)
        units.append(_Unit(sep, pieces[0].text, prose and pieces[0].prose))
        units.extend(_Unit(p.sep, p.text, prose and p.prose) for p in pieces[1:])
    return units


def _split_on(pattern: re.Pattern[str], text: str) -> list[tuple[str, str]]:
    """(separator before, piece) pairs; joining them gives back ``text`` (minus trailing spaces)."""
    parts: list[tuple[str, str]] = []
    sep = ""
    start = 0
    for match in pattern.finditer(text):
        if match.start() > start:
            parts.append((sep, text[start : match.start()]))
            sep = match.group(0)
        else:
            sep += match.group(0)
        start = match.end()
    if start < len(text) or not parts:
        parts.append((sep, text[start:]))
    return parts


def _line_groups(text: str) -> list[tuple[str, str]]:
    """Lines, with each fenced region (which may be indented or quoted) kept as one group."""
    groups: list[tuple[str, str]] = []
    current: list[str] = []
    fence = ""
    for line in text.split("\n"):
        if fence:
            current.append(line)
            if _closes(line, fence):
                groups.append(("\n", "\n".join(current)))
                current, fence = [], ""
            continue
        opening = _FENCE.match(line)
        if opening:
            fence, current = opening.group(1), [line]
        else:
            groups.append(("\n", line))
    if current:
        groups.append(("\n", "\n".join(current)))
    return groups
