"""Confluence storage format (XHTML + ``ac:``/``ri:`` elements) → Markdown-ish plain text.

Why not an HTML parser plus markdownify?  Storage format is really XML with two undeclared namespace
prefixes and HTML named entities.  lxml's *HTML* parser corrupts the CDATA that holds code bodies, and
BeautifulSoup's ``html.parser`` keeps it but costs several milliseconds per page, while the sync must
convert ~1,000 pages/s.  So the fast path is lxml's *XML* parser on a wrapper root that declares the
``ac``/``ri``/``at`` namespaces, after one regex pass that turns HTML named entities (``&nbsp;``) into
numeric references and stray ``&`` into ``&amp;`` (CDATA sections are skipped, so code stays verbatim).

Malformed documents degrade in steps, and never raise or drop text (:attr:`ConvertedPage.parser`):

1. ``"xml"``: the document is well-formed after entity translation (virtually every real page).
2. ``"repaired"``: BeautifulSoup's forgiving ``html.parser`` rebuilds the tree (it keeps CDATA, bare
   ``<`` and unclosed tags' text), which is re-serialised and parsed as XML again.
3. ``"recovered"``: lxml's recovering XML parser, if the repair is not XML (e.g. nesting deeper than
   libxml2's limit) and the recovered tree still holds every word.
4. ``"text"``: tags stripped by a regex and entities decoded: no structure, but all the words.

The output keeps structure that helps both search and display: ``#`` headings, paragraphs, nested
``-``/``1.`` lists, ``- [x]`` tasks, Markdown pipe tables, fenced code, ``>`` quoted panels.
Whitespace is normalised (no blank-line runs, ``&nbsp;`` is a space); a paragraph line that would read
as a heading or a fence is escaped with a backslash, so the chunker never mistakes it for one.  This
module parses and walks the tree; :mod:`bot.confluence.storage_html` renders the HTML elements and
:mod:`bot.confluence.storage_macros` the Confluence ones.
"""

from __future__ import annotations

import html
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from html.entities import html5
from typing import Literal

import bs4
from bs4.element import PreformattedString
from bs4.exceptions import ParserRejectedMarkup
from lxml import etree

from bot.confluence.storage_html import HTML_HANDLERS
from bot.confluence.storage_macros import HANDLERS, LINE_BREAK, Element, Stats

__all__ = ["ConvertedPage", "Heading", "ParseMode", "to_text"]

ParseMode = Literal["xml", "repaired", "recovered", "text"]

_ROOT_OPEN = (
    '<storage-root xmlns:ac="http://atlassian.com/content" '
    'xmlns:ri="http://atlassian.com/resource/identifier" xmlns:at="http://atlassian.com/template">'
)
_ROOT_CLOSE = "</storage-root>"
_KNOWN_PREFIXES = frozenset({"ac", "ri", "at"})
_BAD_MARKED_SECTION = re.compile(r"<!\[(?!CDATA\[)")
_XML_NAME = re.compile(r"[A-Za-z_][\w.-]*(?::[A-Za-z_][\w.-]*)?", re.ASCII)
_ENTITY = re.compile(r"<!\[CDATA\[.*?\]\]>|&(#?[A-Za-z0-9]{1,32};)?", re.DOTALL)
_XML_ENTITIES = frozenset({"amp;", "lt;", "gt;", "quot;", "apos;"})
_NUMERIC = {
    name: "".join(f"&#{ord(ch)};" for ch in chars)
    for name, chars in html5.items()
    if name.endswith(";") and name not in _XML_ENTITIES
}
_NEEDS_ESCAPE = re.compile(r"#{1,6}(?:\s|$)|[> ]*(?:```|~~~)")
_CHAR_REF = re.compile(r"&#(?:[xX]0*([0-9a-fA-F]{1,8})|0*([0-9]{1,10}));")
_TAGS = re.compile(r"<!\[CDATA\[|\]\]>|<[^>]*>")
_XML_INVALID = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_MAX_DEPTH = 120  # deeper nesting (only seen in broken pages) is flattened to text, not recursed into
_local = threading.local()


@dataclass(frozen=True, slots=True)
class Heading:
    """One entry of a page's outline: ``level`` 1–6 and the heading's text."""

    level: int
    text: str


@dataclass(frozen=True, slots=True)
class ConvertedPage:
    """The text of one page, its heading outline and a few counters.

    ``headings`` lists every heading in document order (also those inside panels, which the chunker
    does not split on); ``links`` counts page and external links, ``mentions`` user mentions;
    ``parser`` says which parsing step succeeded (anything but ``"xml"`` is worth a log line).
    """

    text: str
    headings: tuple[Heading, ...] = ()
    links: int = 0
    mentions: int = 0
    images: int = 0
    attachments: int = 0
    code_blocks: int = 0
    parser: ParseMode = "xml"


def to_text(storage_xhtml: str, *, users: Mapping[str, str] | None = None) -> ConvertedPage:
    """Convert one page body; ``users`` maps account ids (or DC user keys) to display names."""
    root, mode = _parse(storage_xhtml)
    renderer = _Renderer(users or {})
    text = "\n\n".join(renderer.blocks(root))
    stats = renderer.stats
    return ConvertedPage(
        text=text,
        headings=tuple(Heading(level, name) for level, name in renderer.headings),
        links=stats.links,
        mentions=stats.mentions,
        images=stats.images,
        attachments=stats.attachments,
        code_blocks=stats.code_blocks,
        parser=mode,
    )


# --- parsing -----------------------------------------------------------------------------------------


def _xml_parser(kind: Literal["strict", "deep", "recover"] = "strict") -> etree.XMLParser:
    """One parser per thread and kind (lxml parsers must not be shared between threads).

    Only the fallbacks allow trees deeper than libxml2's default limit: a repaired page with many
    unclosed tags nests deeply, and the renderer flattens anything below ``_MAX_DEPTH``.
    """
    parser = getattr(_local, kind, None)
    if parser is None:
        parser = etree.XMLParser(
            recover=kind == "recover",
            huge_tree=kind != "strict",
            remove_comments=True,
            remove_pis=True,
            resolve_entities=False,
            no_network=True,
            collect_ids=False,
        )
        setattr(_local, kind, parser)
    return parser


def _entity(match: re.Match[str]) -> str:
    ref = match.group(1)
    if ref is None:
        whole = match.group(0)
        return whole if whole[0] == "<" else "&amp;"
    if ref[0] == "#" or ref in _XML_ENTITIES:
        return match.group(0)
    return _NUMERIC.get(ref) or "&amp;" + ref


def _translate_entities(source: str) -> str:
    return _ENTITY.sub(_entity, source) if "&" in source else source


def _parse(source: str) -> tuple[Element, ParseMode]:
    document = (_ROOT_OPEN + _translate_entities(source) + _ROOT_CLOSE).encode()  # bytes parse ~40% faster
    try:
        return etree.fromstring(document, _xml_parser()), "xml"
    except etree.XMLSyntaxError:
        pass
    source = _sanitize(source)
    try:
        document = (_ROOT_OPEN + _repair(source) + _ROOT_CLOSE).encode()
        return etree.fromstring(document, _xml_parser("deep")), "repaired"
    except ParserRejectedMarkup:  # html.parser still refused the document
        document = (_ROOT_OPEN + _translate_entities(source) + _ROOT_CLOSE).encode()
    except etree.XMLSyntaxError:
        pass
    return _recover(document, html.unescape(_TAGS.sub(" ", source)))


def _char_ref(match: re.Match[str]) -> str:
    code = int(match.group(1), 16) if match.group(1) is not None else int(match.group(2))
    valid = code in (9, 10, 13) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD or 0x10000 <= code <= 0x10FFFF
    return match.group(0) if valid else "\ufffd"


def _sanitize(source: str) -> str:
    """Drop characters XML cannot hold and replace references to them, even inside CDATA (a broken
    page's CDATA boundaries are guesses; libxml2's recovering parser would hand lxml undecodable text)."""
    return _CHAR_REF.sub(_char_ref, _XML_INVALID.sub("", source))


def _recover(document: bytes, plain: str) -> tuple[Element, ParseMode]:
    """lxml's recovering parse if it keeps every word of ``plain``, else ``plain`` alone."""
    try:
        root = etree.fromstring(document, _xml_parser("recover"))
        if root is not None and len("".join(root.itertext()).split()) >= len(plain.split()):
            return root, "recovered"
    except (etree.XMLSyntaxError, UnicodeDecodeError):
        pass
    root = etree.Element("storage-root")
    root.text = _XML_INVALID.sub("", plain)
    return root, "text"


def _repair(source: str) -> str:
    """Well-formed XML for a broken document, rebuilt by html.parser (which keeps CDATA)."""
    if "<" not in source:  # no markup at all (and bs4 would warn that it "looks like a URL")
        return html.escape(html.unescape(source), quote=False)
    try:
        soup = bs4.BeautifulSoup(source, "html.parser")
    except ParserRejectedMarkup:  # html.parser gives up on a ``<![`` that is not CDATA: make it text
        soup = bs4.BeautifulSoup(_BAD_MARKED_SECTION.sub("&lt;![", source), "html.parser")
    for node in list(soup.descendants):
        if isinstance(node, bs4.Tag):
            _xml_names(node)
        elif isinstance(node, PreformattedString) and not isinstance(node, bs4.CData):
            node.extract()  # comments, doctypes, declarations, processing instructions
    return _XML_INVALID.sub("", soup.decode(formatter="minimal"))  # html.parser may decode "&#1" to \x01


def _xml_names(tag: bs4.Tag) -> None:
    """Make a tag and its attribute names acceptable to XML: ``x:tag`` → ``x-tag`` for prefixes we do not
    declare, a tag with an impossible name becomes a ``span``, attributes with one are dropped."""
    name = tag.name
    if ":" in name and name.split(":", 1)[0] not in _KNOWN_PREFIXES:
        name = name.replace(":", "-")
    tag.name = name if _XML_NAME.fullmatch(name) else "span"
    for attr in list(tag.attrs):
        fixed = attr.replace(":", "-") if ":" in attr and attr.split(":", 1)[0] not in _KNOWN_PREFIXES else attr
        value = tag.attrs.pop(attr)
        if _XML_NAME.fullmatch(fixed) and fixed not in tag.attrs:
            tag.attrs[fixed] = value


# --- rendering ---------------------------------------------------------------------------------------


def _escape_line(line: str) -> str:
    return "\\" + line if _NEEDS_ESCAPE.match(line) else line


class _Renderer:
    """Walks the tree once; inline text collects in a buffer that block elements flush."""

    __slots__ = ("depth", "headings", "in_cell", "stats", "users")

    def __init__(self, users: Mapping[str, str]) -> None:
        self.users = users
        self.stats = Stats()
        self.in_cell = 0
        self.depth = 0
        self.headings: list[tuple[int, str]] = []

    def blocks(self, el: Element) -> list[str]:
        buf: list[str] = []
        out: list[str] = []
        self.walk(el, buf, out)
        self.flush(buf, out)
        return out

    def inline_text(self, el: Element) -> str:
        return " ".join(self.blocks(el)).replace("\n", " ")

    def element_blocks(self, el: Element) -> list[str]:
        """The blocks of ``el`` itself (not only of its content)."""
        buf: list[str] = []
        out: list[str] = []
        self.visit(el, buf, out)
        self.flush(buf, out)
        return out

    def walk(self, el: Element, buf: list[str], out: list[str]) -> None:
        if self.depth > _MAX_DEPTH:
            buf.append("".join(el.itertext()))
            return
        self.depth += 1
        if el.text:
            buf.append(el.text)
        for child in el:
            self.visit(child, buf, out)
            if child.tail:
                buf.append(child.tail)
        self.depth -= 1

    def visit(self, el: Element, buf: list[str], out: list[str]) -> None:
        tag = el.tag
        if type(tag) is not str:  # entity or comment nodes from the recovering parser
            return
        handler = _HANDLERS.get(tag)
        if handler is None:
            self.walk(el, buf, out)  # inline or unknown element: transparent
        else:
            handler(self, el, buf, out)

    def flush(self, buf: list[str], out: list[str]) -> None:
        if not buf:
            return
        text = " ".join("".join(buf).split())  # str.split() knows every Unicode space (nbsp, ideographic…)
        buf.clear()
        if not text:
            return
        if LINE_BREAK in text:
            lines = [line.strip() for line in text.split(LINE_BREAK)]
            text = "\n".join(_escape_line(line) for line in lines if line)
        elif text[0] in "#`~>":
            text = _escape_line(text)
        if text:
            out.append(text)


_HANDLERS = {**HANDLERS, **HTML_HANDLERS}
