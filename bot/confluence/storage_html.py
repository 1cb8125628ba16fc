"""Rendering of the plain HTML parts of storage format: headings, lists, tables, links, code.

Decisions that shape the text (and the golden files):

* Lists nest with two-space (``-``) or marker-wide (``1.``) indents; ``<ol start>`` is honoured, and a
  list nested directly in a list (old editor) is indented under the previous item.
* Tables are Markdown pipe tables, one line per row, because rows are what people search and read.
  A ``| --- |`` separator follows the first row only when it is all ``<th>``.  ``colspan`` pads the row
  with empty cells and ``rowspan`` leaves empty cells below, so columns stay aligned.  A cell is one
  line: its paragraphs and list items are joined by spaces, ``|`` is escaped, headings lose their
  ``#``, code becomes inline code, and a table nested in a cell is flattened to its cell texts.
* Emphasis is dropped; inline code keeps backticks; ``<a href>`` keeps an http(s)/mailto URL as
  ``[text](url)`` (just the URL when the text is the URL); ``<br>`` is a line break inside a paragraph.
"""

from __future__ import annotations

from bot.confluence.storage_macros import LINE_BREAK, Element, Handler, Renderer, fence, quote

__all__ = ["HTML_HANDLERS"]

_MAX_SPAN = 64


def _container(r: Renderer, el: Element, buf: list[str], out: list[str]) -> None:
    r.flush(buf, out)
    r.walk(el, buf, out)
    r.flush(buf, out)


def _drop(r: Renderer, el: Element, buf: list[str], out: list[str]) -> None:
    return None


def _heading(r: Renderer, el: Element, buf: list[str], out: list[str]) -> None:
    r.flush(buf, out)
    text = r.inline_text(el)
    if not text:
        return
    if r.in_cell:
        out.append(text)
        return
    level = int(el.tag[1])
    r.headings.append((level, text))
    out.append("#" * level + " " + text)


def _break(r: Renderer, el: Element, buf: list[str], out: list[str]) -> None:
    buf.append(" " if r.in_cell else LINE_BREAK)


def _rule(r: Renderer, el: Element, buf: list[str], out: list[str]) -> None:
    r.flush(buf, out)
    if not r.in_cell:
        out.append("---")


def _pre(r: Renderer, el: Element, buf: list[str], out: list[str]) -> None:
    r.flush(buf, out)
    body = "".join(el.itertext()).strip("\n")
    if body.strip():
        out.append(f"`{' '.join(body.split())}`" if r.in_cell else fence(body))


def _blockquote(r: Renderer, el: Element, buf: list[str], out: list[str]) -> None:
    r.flush(buf, out)
    blocks = r.blocks(el)
    if blocks:
        out.append(" ".join(blocks) if r.in_cell else quote(blocks))


def _inline_code(r: Renderer, el: Element, buf: list[str], out: list[str]) -> None:
    text = r.inline_text(el)
    if text:
        ticks = "``" if "`" in text else "`"
        buf.append(f"{ticks}{text}{ticks}")


def _anchor(r: Renderer, el: Element, buf: list[str], out: list[str]) -> None:
    text = r.inline_text(el)
    href = (el.get("href") or "").strip()
    if href.startswith(("http://", "https://", "mailto:")):
        r.stats.links += 1
        if not text:
            text = href.removeprefix("mailto:")
        elif text not in (href, href.removeprefix("mailto:")):
            text = f"[{text}]({href})"
    buf.append(text)


def _img(r: Renderer, el: Element, buf: list[str], out: list[str]) -> None:
    r.stats.images += 1
    name = (el.get("src") or "").rsplit("/", 1)[-1] or el.get("alt") or ""
    buf.append(f"[image: {name}]" if name else "[image]")


def _time(r: Renderer, el: Element, buf: list[str], out: list[str]) -> None:
    if el.text or len(el):
        r.walk(el, buf, out)
    else:
        buf.append(el.get("datetime") or "")


def _item(marker: str, blocks: list[str]) -> str:
    pad = "\n" + " " * len(marker)
    return marker + "\n".join(blocks).replace("\n", pad).replace(pad + "\n", "\n\n")


def _list(r: Renderer, el: Element, buf: list[str], out: list[str]) -> None:
    r.flush(buf, out)
    ordered = el.tag == "ol"
    try:
        number = int(el.get("start") or 1)
    except ValueError:
        number = 1
    items: list[str] = []
    if el.text and el.text.strip():
        items.append(" ".join(el.text.split()))
    for child in el:
        blocks = r.blocks(child) if child.tag == "li" else r.element_blocks(child)
        if blocks and child.tag == "li":
            items.append(_item(f"{number}. " if ordered else "- ", blocks))
            number += 1
        elif blocks:  # a list nested directly in a list, or stray content: indent under the last item
            items.append(_item("  " if items else "", blocks))
        if child.tail and child.tail.strip():
            items.append(" ".join(child.tail.split()))
    if items:
        out.append(" ".join(items) if r.in_cell else "\n".join(items))


def _cell_text(r: Renderer, cell: Element) -> str:
    return " ".join(r.blocks(cell)).replace("\n", " ").replace("|", "\\|")


def _span(cell: Element, attr: str) -> int:
    try:
        return max(1, min(_MAX_SPAN, int(cell.get(attr) or 1)))
    except ValueError:
        return 1


def _rows(table: Element) -> list[Element]:
    """The table's own rows (not those of tables nested in its cells)."""
    rows: list[Element] = []
    for child in table:
        if child.tag == "tr":
            rows.append(child)
        elif child.tag in ("thead", "tbody", "tfoot"):
            rows.extend(child.iterchildren("tr"))
    return rows


def _table_rows(r: Renderer, el: Element) -> list[tuple[list[str], bool]]:
    """(cells, is_header) per row; colspan pads with empty cells, rowspan leaves empty cells below."""
    rows: list[tuple[list[str], bool]] = []
    pending: dict[int, int] = {}  # column -> rows still covered by a rowspan from above
    for tr in _rows(el):
        cells: list[str] = []
        header = True
        for cell in tr.iterchildren("td", "th"):
            while pending.get(len(cells)):
                pending[len(cells)] -= 1
                cells.append("")
            header = header and cell.tag == "th"
            rowspan = _span(cell, "rowspan")
            for offset in range(_span(cell, "colspan")):
                if rowspan > 1:
                    pending[len(cells)] = rowspan - 1
                cells.append("" if offset else _cell_text(r, cell))
        while pending.get(len(cells)):
            pending[len(cells)] -= 1
            cells.append("")
        if any(cells):
            rows.append((cells, header))
    return rows


def _table(r: Renderer, el: Element, buf: list[str], out: list[str]) -> None:
    """A Markdown pipe table; a ``---`` separator follows the first row only when it is all ``<th>``.

    Cells are single lines (lists and paragraphs joined by spaces).  A table inside a cell is flattened
    to its cell texts.
    """
    r.flush(buf, out)
    r.in_cell += 1
    try:
        rows = _table_rows(r, el)
    finally:
        r.in_cell -= 1
    if not rows:
        return
    if r.in_cell:
        out.append(" ".join(cell for cells, _ in rows for cell in cells if cell))
        return
    width = max(len(cells) for cells, _ in rows)
    lines = []
    for index, (cells, header) in enumerate(rows):
        cells += [""] * (width - len(cells))
        lines.append("| " + " | ".join(cells) + " |")
        if index == 0 and header:
            lines.append("|" + " --- |" * width)
    out.append("\n".join(lines))


_BLOCK_CONTAINERS = (
    "p div section article header footer main aside nav figure figcaption center address details summary "
    "dl dt dd li tr td th caption tbody thead tfoot"
).split()
HTML_HANDLERS: dict[str, Handler] = {
    **{tag: _container for tag in _BLOCK_CONTAINERS},
    **{f"h{level}": _heading for level in range(1, 7)},
    **{tag: _drop for tag in ("colgroup", "col", "script", "style", "head", "title")},
    "ul": _list,
    "ol": _list,
    "table": _table,
    "pre": _pre,
    "blockquote": _blockquote,
    "hr": _rule,
    "br": _break,
    "code": _inline_code,
    "a": _anchor,
    "img": _img,
    "time": _time,
}
