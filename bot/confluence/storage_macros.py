"""Rendering of the Confluence-specific (``ac:``/``ri:``) parts of storage format.

Plain HTML (paragraphs, lists, tables) is handled in :mod:`bot.confluence.storage_format`; this module
knows what Confluence's own elements mean, because a generic HTML-to-text tool gets them wrong: it leaks
macro parameters and task ids into the text ("pythonif a < b", "1completeShip it"), loses code fences
and drops mentions.  The rules, in one place:

* ``ac:parameter`` is never rendered, so macro settings never leak into search text.
* ``code``/``noformat`` become fenced blocks whose body is the CDATA text verbatim.
* Panels (info/note/warning/tip/panel/expand) become ``>`` quoted blocks under a label line.
* Dynamic macros whose content is not in storage (toc, children, …) are dropped; ``include`` leaves
  ``[include: Title]``; ``status`` leaves ``[Title]``; ``jira`` leaves the issue key (``[Jira issues]``
  for a JQL query).
* Any other macro is reduced to its rich-text body (unwrapped) and/or its plain-text body (fenced).
* Links render their body text, else the target's title; mentions become ``@Name`` (``@user`` when
  the account id is not in the ``users`` mapping); images and files become ``[image: a.png]`` /
  ``[attachment: spec.pdf]``; emoticons become their ``:shortname:``, which Slack renders as emoji.

Handlers here and in :mod:`bot.confluence.storage_html` take the renderer through the small
:class:`Renderer` protocol, so neither imports the core (no import cycle).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ["AC", "HANDLERS", "LINE_BREAK", "RI", "Element", "Handler", "Renderer", "Stats", "fence", "quote"]

AC = "{http://atlassian.com/content}"
RI = "{http://atlassian.com/resource/identifier}"

#: Marks ``<br/>`` in pending inline text until the paragraph is flushed; it cannot occur in XML text.
LINE_BREAK = "\x00"

#: An lxml element; lxml ships no type stubs (see the mypy override in pyproject.toml).
Element = Any


@dataclass(slots=True)
class Stats:
    """Counters collected while rendering one page."""

    links: int = 0
    mentions: int = 0
    images: int = 0
    attachments: int = 0
    code_blocks: int = 0


class Renderer(Protocol):
    """What the handlers need from the core renderer."""

    users: Mapping[str, str]
    stats: Stats
    in_cell: int
    headings: list[tuple[int, str]]

    def blocks(self, el: Element) -> list[str]:
        """The blocks (paragraphs, lists, fences…) of ``el``'s content."""

    def inline_text(self, el: Element) -> str:
        """``el``'s content as one whitespace-normalised line."""

    def flush(self, buf: list[str], out: list[str]) -> None:
        """Turn the pending inline text in ``buf`` into a paragraph block in ``out``."""

    def walk(self, el: Element, buf: list[str], out: list[str]) -> None:
        """Render ``el``'s content: inline text into ``buf``, finished blocks into ``out``."""

    def element_blocks(self, el: Element) -> list[str]:
        """The blocks of ``el`` itself (not only of its content)."""


Handler = Callable[[Renderer, Element, list[str], list[str]], None]

_BACKTICKS = re.compile(r"`{3,}")
_PANEL_LABELS = {"info": "Info", "note": "Note", "warning": "Warning", "tip": "Tip"}
_DROPPED_MACROS = frozenset(
    "toc toc-zone children pagetree pagetreesearch recently-updated contentbylabel livesearch attachments "
    "blog-posts space-details index navmap listlabels popular-labels related-labels spaces anchor "
    "create-from-template contributors contributors-summary page-index".split()
)
_FILE_MACROS = frozenset("view-file viewpdf viewdoc viewxls viewppt multimedia office-word office-excel".split())


def fence(body: str, language: str = "") -> str:
    """A fenced code block, with a fence longer than any backtick run in ``body``."""
    ticks = "```"
    if "```" in body:
        ticks = "`" * (max(len(run) for run in _BACKTICKS.findall(body)) + 1)
    return f"{ticks}{language}\n{body}\n{ticks}"


def quote(blocks: list[str]) -> str:
    """Blocks as one ``>`` quoted block (blank quote lines between blocks)."""
    text = "\n\n".join(blocks)
    return "\n".join(f"> {line}" if line else ">" for line in text.split("\n"))


def _param(el: Element, name: str) -> str:
    for child in el.iterchildren(AC + "parameter"):
        if child.get(AC + "name") == name:
            return " ".join("".join(child.itertext()).split())
    return ""


def _plain_body(el: Element) -> str:
    body = el.find(AC + "plain-text-body")
    return "" if body is None else "".join(body.itertext()).strip("\n")


def _code(r: Renderer, el: Element, language: str) -> list[str]:
    body = _plain_body(el)
    title = _param(el, "title")
    if not body:
        return [title] if title else []
    r.stats.code_blocks += 1
    if r.in_cell:
        return [f"`{' '.join(body.split())}`"]
    return [title, fence(body, language)] if title else [fence(body, language)]


def _panel(r: Renderer, el: Element, name: str) -> list[str]:
    title = _param(el, "title")
    label = _PANEL_LABELS.get(name)
    if label:
        title = f"{label}: {title}" if title else f"{label}:"
    body_el = el.find(AC + "rich-text-body")
    body = [] if body_el is None else r.blocks(body_el)
    blocks = [title, *body] if title else body
    if not blocks or r.in_cell:
        return blocks
    return [quote(blocks)]


def _include(r: Renderer, el: Element) -> list[str]:
    page = next(el.iter(RI + "page"), None)
    title = "" if page is None else page.get(RI + "content-title", "")
    return [f"[include: {title}]"] if title else []


def _attachment_macro(r: Renderer, el: Element) -> str:
    att = next(el.iter(RI + "attachment"), None)
    name = "" if att is None else att.get(RI + "filename", "")
    if not name:
        return ""
    r.stats.attachments += 1
    return f"[attachment: {name}]"


def _unknown(r: Renderer, el: Element, name: str) -> list[str]:
    """Readable bodies only: rich text unwrapped, plain text fenced; parameters never."""
    blocks: list[str] = []
    for child in el.iterchildren(AC + "rich-text-body", AC + "plain-text-body"):
        if child.tag == AC + "rich-text-body":
            blocks.extend(r.blocks(child))
            continue
        body = "".join(child.itertext()).strip("\n")
        if body.strip():
            blocks.append(f"`{' '.join(body.split())}`" if r.in_cell else fence(body, name))
    return blocks


def _block_macro(r: Renderer, el: Element, name: str) -> list[str]:
    if name == "code":
        return _code(r, el, _param(el, "language"))
    if name == "noformat":
        return _code(r, el, "")
    if name in _PANEL_LABELS or name in ("panel", "expand"):
        return _panel(r, el, name)
    if name in ("include", "excerpt-include"):
        return _include(r, el)
    if name in _DROPPED_MACROS:
        return []
    return _unknown(r, el, name)


def _inline_macro(r: Renderer, el: Element, name: str) -> str | None:
    """The text of an inline macro, or None when ``name`` is a block macro."""
    if name == "status":
        title = _param(el, "title")
        return f"[{title}]" if title else ""
    if name == "jira":  # one issue shows its key; a JQL table's rows are not in storage
        return _param(el, "key") or "[Jira issues]"
    if name in _FILE_MACROS:
        return _attachment_macro(r, el)
    return None


def _macro(r: Renderer, el: Element, buf: list[str], out: list[str]) -> None:
    name = (el.get(AC + "name") or "").lower()
    text = _inline_macro(r, el, name)
    if text is not None:
        buf.append(text)
        return
    r.flush(buf, out)
    out.extend(_block_macro(r, el, name))


def _tasks(r: Renderer, el: Element, buf: list[str], out: list[str]) -> None:
    r.flush(buf, out)
    lines: list[str] = []
    for task in el.iterchildren(AC + "task"):
        body = r.blocks(task)
        if not body:
            continue
        status = task.findtext(AC + "task-status", "").strip()
        box = "- [x] " if status == "complete" else "- [ ] "
        text = "\n".join(body).replace("\n", "\n  ")
        lines.append(box + text)
    if lines:
        out.append(" ".join(lines) if r.in_cell else "\n".join(lines))


def _mention(r: Renderer, target: Element) -> str:
    r.stats.mentions += 1
    for attr in ("account-id", "userkey", "username"):
        key = target.get(RI + attr)
        if key and key in r.users:
            return "@" + r.users[key]
    return "@user"


def _target_text(r: Renderer, target: Element) -> str:
    tag = target.tag
    if tag == RI + "attachment":
        r.stats.attachments += 1
        return f"[attachment: {target.get(RI + 'filename', '')}]"
    if tag in (RI + "page", RI + "blog-post"):
        return str(target.get(RI + "content-title", ""))
    if tag == RI + "url":
        return str(target.get(RI + "value", ""))
    if tag == RI + "space":
        return str(target.get(RI + "space-key", ""))
    return ""


def _link(r: Renderer, el: Element, buf: list[str], out: list[str]) -> None:
    text = ""
    target = None
    for child in el:
        tag = child.tag
        if tag == AC + "link-body":
            text = r.inline_text(child)
        elif tag == AC + "plain-text-link-body":
            text = " ".join("".join(child.itertext()).split())
        elif isinstance(tag, str) and tag.startswith(RI):
            target = child
    if target is not None and target.tag == RI + "user":
        buf.append(text if text else _mention(r, target))
        return
    r.stats.links += 1
    if not text and target is not None:
        text = _target_text(r, target)
    buf.append(text or el.get(AC + "anchor", ""))


def _image(r: Renderer, el: Element, buf: list[str], out: list[str]) -> None:
    r.stats.images += 1
    name = ""
    for child in el:
        if child.tag == RI + "attachment":
            name = child.get(RI + "filename", "")
        elif child.tag == RI + "url":
            name = child.get(RI + "value", "")
    buf.append(f"[image: {name}]" if name else "[image]")


def _emoticon(r: Renderer, el: Element, buf: list[str], out: list[str]) -> None:
    short = el.get(AC + "emoji-shortname") or ""
    if short.startswith(":") and short.endswith(":") and len(short) > 2:
        buf.append(short)
    elif name := el.get(AC + "name"):
        buf.append(f":{name}:")


def _adf_extension(r: Renderer, el: Element, buf: list[str], out: list[str]) -> None:
    """Cloud editor nodes: render the HTML fallback when there is one, else the node's content."""
    r.flush(buf, out)
    fallback = el.find(AC + "adf-fallback")
    out.extend(r.blocks(el if fallback is None else fallback))


def _drop(r: Renderer, el: Element, buf: list[str], out: list[str]) -> None:
    return None


def _container(r: Renderer, el: Element, buf: list[str], out: list[str]) -> None:
    r.flush(buf, out)
    out.extend(r.blocks(el))


HANDLERS: dict[str, Handler] = {
    AC + "structured-macro": _macro,
    AC + "macro": _macro,
    AC + "task-list": _tasks,
    AC + "link": _link,
    AC + "image": _image,
    AC + "emoticon": _emoticon,
    AC + "adf-extension": _adf_extension,
    **{AC + name: _drop for name in ("parameter", "placeholder", "task-id", "task-uuid", "task-status")},
    AC + "adf-attribute": _drop,
    **{RI + name: _drop for name in ("page", "blog-post", "user", "attachment", "url", "space", "shortcut")},
    **{AC + name: _container for name in ("layout", "layout-section", "layout-cell", "rich-text-body", "task")},
    AC + "task-body": _container,
}
