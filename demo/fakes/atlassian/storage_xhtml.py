"""Fast, deterministic generator of realistic Confluence storage-format XHTML.

Bodies are never stored: :meth:`BodyGenerator.render` rebuilds one from ``(page id, version,
seed)`` by joining pre-rendered fragments (built once per seed) around a few page-specific parts.
Every page contains headings, unicode paragraphs (accents, CJK, emoji, right-to-left), nested
lists, a table, a code macro whose CDATA holds ``< & >`` and a split ``]]>``, a task list, a panel,
a page link, a user mention, an attached image and an emoticon; some pages carry an unknown
macro.  Each page has a unique tag word (:func:`tag_word`) and a version word so search tests can
find exactly one page.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import lru_cache
from html import escape

LETTERS = "abcdefghijklmnopqrstuvwxyz"

SHARED_WORDS = (
    "deployment roadmap onboarding incident runbook kubernetes latency postgres migration "
    "retrospective budget quarterly architecture gateway compliance observability rollout "
    "backlog customer escalation dashboard pipeline caching throughput invoice vendor "
    "security review capacity forecast sprint release checklist datastore connector"
).split()
ADJECTIVES = "amber brisk cobalt dusty eager frosty golden hollow ivory jolly".split()
NOUNS = "falcon harbor lantern meadow orchard prism quarry summit tundra willow".split()
NON_ASCII_WORDS = (
    "Größenordnung café naïve Ærøskøbing señal façade Zürich 東京 データベース 数据库 검색 "
    "שלום مرحبا Ελληνικά Москва Crème"
).split()
UNICODE_SNIPPETS = (
    "Die Größe der Bestände wächst schnell — très bien, señor!",
    "日本語のテキストと中文内容が混在しています。",
    "Release shipped 🚀 thanks team 👍🏽 👩‍💻 🇩🇪",
    "הפריסה (deployment) הושלמה בהצלחה",
    "تم النشر بنجاح في المنطقة الأولى",
    "Ελληνικά κείμενα και кириллица рядом",
)
EMOTICONS = (
    ("smile", ":slight_smile:", "1f642", "🙂"),
    ("thumbs-up", ":thumbsup:", "1f44d", "👍"),
    ("warning", ":warning:", "26a0", "⚠️"),
    ("tick", ":check_mark:", "2714", "✔️"),
)
CODE_SNIPPETS = (
    ("python", 'def ok(a: int, b: int) -> bool:\n    return a < b and b > 0 & 1\n\nprint("]]>")\n'),
    ("sql", "SELECT id, title FROM pages\nWHERE version > 3 AND title <> 'Q&A'\nORDER BY id;\n"),
    ("bash", 'if [ "$a" -lt 3 ] && grep -q "<tag>" file; then\n  echo "a]]>b" > out.txt\nfi\n'),
    ("java", "List<Map<String, Integer>> xs = new ArrayList<>();\nif (a < b && c > d) { run(); }\n"),
    ("json", '{"html": "<p>&amp;</p>", "cdata_end": "]]>", "ok": true}\n'),
)
PANEL_KINDS = ("info", "note", "warning", "tip", "expand")
UNKNOWN_MACRO = (
    '<ac:structured-macro ac:name="vendor-roadmap-widget" ac:schema-version="1" '
    'ac:macro-id="7f3c0e2a-1b7d-4f5e-9a41-6d2b8c1e0f00"><ac:parameter ac:name="view">timeline'
    '</ac:parameter><ac:parameter ac:name="source">jira</ac:parameter></ac:structured-macro>'
)


def letters(value: int, width: int) -> str:
    """Encode a non-negative integer as ``width`` lowercase letters (base 26)."""
    out = []
    for _ in range(width):
        value, digit = divmod(value, 26)
        out.append(LETTERS[digit])
    return "".join(out)


def tag_word(content_id: int, seed: int) -> str:
    """A letters-only word unique to ``content_id`` (bijective for ids < 2**32)."""
    mixed = (content_id * 0x9E3779B1 + seed * 0x85EBCA6B) & 0xFFFFFFFF
    return "qz" + letters(mixed, 7)


@dataclass(frozen=True)
class PageHints:
    """Words a test can search for in one page's body."""

    tag: str
    phrase: str
    version_word: str
    non_ascii_word: str
    unique_non_ascii: str
    title: str


def page_hints(content_id: int, version: int, title: str, seed: int) -> PageHints:
    tag = tag_word(content_id, seed)
    adjective = ADJECTIVES[content_id % len(ADJECTIVES)]
    noun = NOUNS[(content_id // 10) % len(NOUNS)]
    return PageHints(
        tag=tag,
        phrase=f"{tag} {adjective} {noun}",
        version_word=f"{tag}r{version}",
        non_ascii_word=NON_ASCII_WORDS[content_id % len(NON_ASCII_WORDS)],
        unique_non_ascii=f"über{tag}",
        title=title,
    )


@dataclass(frozen=True)
class BodyContext:
    """Page-specific inputs for one body."""

    content_id: int
    version: int
    title: str
    space_key: str
    link_title: str
    link_space_key: str
    mention_account_id: str
    target_bytes: int


def cdata(text: str) -> str:
    """Wrap in CDATA, splitting any ``]]>`` the way Confluence does."""
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _sentence(rng: random.Random, words: int) -> str:
    picked = [rng.choice(SHARED_WORDS) for _ in range(words)]
    return " ".join(picked).capitalize() + "."


def _paragraph(rng: random.Random) -> str:
    parts = [_sentence(rng, rng.randint(6, 14)) for _ in range(rng.randint(2, 4))]
    flavour = rng.randrange(6)
    if flavour == 0:
        parts.append(f"<strong>{escape(rng.choice(UNICODE_SNIPPETS))}</strong>")
    elif flavour == 1:
        parts.append("Costs &amp; risks: latency &lt; 200 ms&nbsp;p99 &gt; target.")
    elif flavour == 2:
        parts.append(f'<a href="https://example.com/{rng.choice(SHARED_WORDS)}?a=1&amp;b=2">docs</a>')
    elif flavour == 3:
        parts.append(f"<em>{escape(rng.choice(UNICODE_SNIPPETS))}</em> <code>x &lt; y</code>")
    return "<p>" + " ".join(parts) + "</p>"


def _nested_list(rng: random.Random) -> str:
    tag = rng.choice(("ul", "ol"))
    inner = "".join(f"<li><p>{_sentence(rng, 4)}</p></li>" for _ in range(rng.randint(1, 3)))
    items = [f"<li><p>{_sentence(rng, 5)}</p></li>" for _ in range(rng.randint(2, 4))]
    items[0] = items[0][:-5] + f"<ul>{inner}</ul></li>"
    return f"<{tag}>{''.join(items)}</{tag}>"


def _table(rng: random.Random) -> str:
    head = "".join(f"<th><p><strong>{w.title()}</strong></p></th>" for w in rng.sample(SHARED_WORDS, 3))
    rows = []
    for row in range(rng.randint(2, 4)):
        if row == 1 and rng.random() < 0.4:
            rows.append(f'<tr><td colspan="2"><p>{_sentence(rng, 3)}</p></td><td><p>{row}</p></td></tr>')
            continue
        cells = [escape(rng.choice(UNICODE_SNIPPETS))[:24], _sentence(rng, 2), str(rng.randint(1, 999))]
        rows.append("<tr>" + "".join(f"<td><p>{cell}</p></td>" for cell in cells) + "</tr>")
    return (
        '<table data-table-width="760" data-layout="default"><colgroup><col style="width: 253.0px;" />'
        '<col style="width: 253.0px;" /><col style="width: 253.0px;" /></colgroup>'
        f"<tbody><tr>{head}</tr>{''.join(rows)}</tbody></table>"
    )


def _code(rng: random.Random) -> str:
    language, code = rng.choice(CODE_SNIPPETS)
    return (
        '<ac:structured-macro ac:name="code" ac:schema-version="1" '
        f'ac:macro-id="{rng.getrandbits(64):016x}"><ac:parameter ac:name="language">{language}'
        f"</ac:parameter><ac:plain-text-body>{cdata(code)}</ac:plain-text-body></ac:structured-macro>"
    )


def _tasks(rng: random.Random) -> str:
    tasks = []
    for _ in range(rng.randint(1, 3)):
        status = rng.choice(("complete", "incomplete"))
        tasks.append(
            f"<ac:task><ac:task-id>{rng.randint(1, 99)}</ac:task-id><ac:task-status>{status}"
            f"</ac:task-status><ac:task-body>{_sentence(rng, 4)}</ac:task-body></ac:task>"
        )
    return f"<ac:task-list>{''.join(tasks)}</ac:task-list>"


def _panel(rng: random.Random) -> str:
    kind = rng.choice(PANEL_KINDS)
    title = f'<ac:parameter ac:name="title">{_sentence(rng, 2)}</ac:parameter>' if kind == "expand" else ""
    return (
        f'<ac:structured-macro ac:name="{kind}" ac:schema-version="1">{title}'
        f"<ac:rich-text-body>{_paragraph(rng)}</ac:rich-text-body></ac:structured-macro>"
    )


def _emoticon(rng: random.Random) -> str:
    name, short, emoji_id, fallback = rng.choice(EMOTICONS)
    return (
        f'<p>{_sentence(rng, 3)} <ac:emoticon ac:name="{name}" ac:emoji-shortname="{short}" '
        f'ac:emoji-id="{emoji_id}" ac:emoji-fallback="{fallback}" /></p>'
    )


def _section(rng: random.Random) -> str:
    level = rng.choice(("h2", "h3"))
    return f"<{level}>{_sentence(rng, 3)[:-1]}</{level}>{_paragraph(rng)}"


FILLERS = (_paragraph, _section, _nested_list, _table, _code, _panel, _tasks, _emoticon)


@lru_cache(maxsize=8)
def _pools(seed: int) -> dict[str, tuple[str, ...]]:
    rng = random.Random(seed)
    pools = {fn.__name__: tuple(fn(rng) for _ in range(48)) for fn in FILLERS}
    pools["_filler"] = tuple(piece for fn in FILLERS for piece in pools[fn.__name__])
    return pools


class BodyGenerator:
    """Renders bodies for one site seed."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._pools = _pools(seed)

    def render(self, ctx: BodyContext) -> str:
        rng = random.Random((ctx.content_id << 24) ^ (ctx.version << 4) ^ self.seed)
        hints = page_hints(ctx.content_id, ctx.version, ctx.title, self.seed)
        pick = self._pools
        parts = [
            f"<h1>{escape(ctx.title, quote=False)}</h1>",
            f"<p>Reference tag <strong>{hints.tag}</strong>: {hints.phrase}. Revision "
            f"{hints.version_word}. Localised term: {hints.non_ascii_word} ({hints.unique_non_ascii}).</p>",
            rng.choice(pick["_section"]),
            rng.choice(pick["_paragraph"]),
            rng.choice(pick["_nested_list"]),
            self._link(ctx),
            rng.choice(pick["_table"]),
            rng.choice(pick["_code"]),
            rng.choice(pick["_tasks"]),
            rng.choice(pick["_panel"]),
            self._mention_and_image(ctx, hints.tag),
            rng.choice(pick["_emoticon"]),
        ]
        if ctx.content_id % 7 == 0:
            parts.append(UNKNOWN_MACRO)
        size = sum(len(p) for p in parts)
        fillers = pick["_filler"]
        while size < ctx.target_bytes:
            piece = rng.choice(fillers)
            parts.append(piece)
            size += len(piece)
        return "".join(parts)

    @staticmethod
    def _link(ctx: BodyContext) -> str:
        title = escape(ctx.link_title)
        return (
            f'<p>Background: <ac:link><ri:page ri:content-title="{title}" '
            f'ri:space-key="{escape(ctx.link_space_key)}" /><ac:plain-text-link-body>'
            f"{cdata(ctx.link_title)}</ac:plain-text-link-body></ac:link> and "
            '<ac:link><ri:page ri:content-title="Glossary" /><ac:link-body><em>the glossary</em>'
            "</ac:link-body></ac:link>.</p>"
        )

    @staticmethod
    def _mention_and_image(ctx: BodyContext, tag: str) -> str:
        return (
            f'<p>Owner: <ac:link><ri:user ri:account-id="{ctx.mention_account_id}" /></ac:link></p>'
            f'<p><ac:image ac:align="center" ac:width="600" ac:alt="diagram {tag}">'
            f'<ri:attachment ri:filename="diagram-{tag}.png" /></ac:image></p>'
            '<p><ac:image><ri:url ri:value="https://example.com/logo.png" /></ac:image></p>'
        )
