"""Golden tests for the storage-format converter, plus focused unit tests.

Each ``golden/NAME.xhtml`` is a realistic storage body; ``golden/NAME.txt`` is the expected text and is
the spec: review every change to it by eye.  ``UPDATE_GOLDEN=1 pytest tests/bot/confluence`` rewrites
the ``.txt`` files from the current output (the tests then pass; ``git diff`` shows what changed).
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from bot.confluence.storage_format import ConvertedPage, Heading, to_text
from demo.fakes.atlassian.storage_xhtml import BodyContext, BodyGenerator

GOLDEN = Path(__file__).parent / "golden"
CASES = sorted(path.stem for path in GOLDEN.glob("*.xhtml"))
USERS = {
    "5b10a2844c20165700ede21g": "Ada Lovelace",
    "712020:0c1f0d1e-aaaa-bbbb-cccc-1234567890ab": "Grace Hopper",
    "8a7f808a7a1b2c3d017a1b2c3d4e0001": "Linus DC",
}


def convert(name: str) -> ConvertedPage:
    return to_text((GOLDEN / f"{name}.xhtml").read_text(encoding="utf-8"), users=USERS)


def test_there_are_enough_golden_documents() -> None:
    assert len(CASES) >= 8


@pytest.mark.parametrize("name", CASES)
def test_golden(name: str) -> None:
    text = convert(name).text
    expected_path = GOLDEN / f"{name}.txt"
    rendered = text + "\n" if text else ""
    if os.environ.get("UPDATE_GOLDEN") == "1":
        expected_path.write_text(rendered, encoding="utf-8")
    assert rendered == expected_path.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", CASES)
def test_golden_output_is_normalised(name: str) -> None:
    text = convert(name).text
    assert "\n\n\n" not in text
    assert text == text.strip()
    assert all(line == line.rstrip() for line in text.splitlines())
    assert "\x00" not in text and "\u00a0" not in text


def test_well_formed_golden_pages_take_the_fast_path() -> None:
    modes = {name: convert(name).parser for name in CASES}
    assert modes.pop("malformed") == "repaired"
    assert set(modes.values()) == {"xml"}


def test_code_body_is_verbatim() -> None:
    text = convert("howto_code_three_languages").text
    assert '    if message.get("age", 0) < CUTOFF and "<html>" not in message["body"]:\n' in text
    assert "        return process(message) & FLAGS\n" in text
    assert "# a literal CDATA terminator must survive: ]]>\n" in text
    assert '\tdocker build -t "registry.example.com/ingest:${TAG}"' in text
    assert "````markdown\n```yaml\nreplicas: 3\n```\n````" in text


def test_counters_and_outline() -> None:
    page = convert("howto_code_three_languages")
    assert page.code_blocks == 5
    assert page.links == 3  # two external links (one to Slack) and one page link
    assert page.headings[:3] == (
        Heading(1, "How to deploy the ingest worker"),
        Heading(2, "Prerequisites"),
        Heading(2, "Build"),
    )
    notes = convert("meeting_notes")
    assert notes.mentions == 6
    layouts = convert("layouts")
    assert (layouts.images, layouts.links) == (2, 1)
    macros = convert("macro_heavy")
    assert macros.attachments == 2  # view-file and the csv link; the pptx link has its own text


def test_mentions_use_the_users_mapping_else_a_neutral_placeholder() -> None:
    mention = '<ac:link><ri:user ri:account-id="{}" /></ac:link>'
    body = f"<p>{mention.format('abc')} and {mention.format('zzz')}</p>"
    assert to_text(body, users={"abc": "Ada"}).text == "@Ada and @user"
    assert to_text(body).text == "@user and @user"


def test_macro_parameters_never_leak() -> None:
    text = convert("macro_heavy").text
    for leaked in ("timeline", "disc", "System JIRA", "issuekey", "project-props", "SVG", "horizontal", "50%"):
        assert leaked not in text


def test_entities_inside_cdata_are_not_decoded() -> None:
    body = (
        '<ac:structured-macro ac:name="code"><ac:plain-text-body><![CDATA[echo "&nbsp;&amp;"]]>'
        "</ac:plain-text-body></ac:structured-macro><p>a&nbsp;b</p>"
    )
    page = to_text(body)
    assert page.text == '```\necho "&nbsp;&amp;"\n```\n\na b'
    assert page.parser == "xml"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("", ""),
        ("   \n  ", ""),
        ("<p></p><p>&nbsp;</p>", ""),
        ("<p><ac:placeholder>Type here</ac:placeholder></p>", ""),
        ("just text, no tags", "just text, no tags"),
        ("<p>Tom &amp; Jerry & co &unknown; &#169;</p>", "Tom & Jerry & co &unknown; ©"),
    ],
)
def test_edge_cases(body: str, expected: str) -> None:
    assert to_text(body).text == expected


@pytest.mark.parametrize(
    "body",
    [
        "<p>unclosed <strong>bold",
        "<p>a < b</p>",
        "<<<>>>&&&;;;<p>words</p>",
        "</p></div>orphan closing tags",
        "<ac:structured-macro ac:name='code'><ac:plain-text-body><![CDATA[never closed",
        "<p>" + "<span>" * 3000 + "deep" + "</span>" * 10,
        "<p>control\x01char and \x0bvertical tab</p>",
        "<!DOCTYPE html><p>doctype</p>",
        "<p>]]> outside cdata</p>",
        '<p a="1" a="2">duplicate attribute</p>',
        "<p>marked <![bogus[ section</p>",
        '<p>lone surrogate &#xD800; and <a b"c="d">attribute</a></p>',
        "https://example.com/looks-like-a-url&#0;",
    ],
)
def test_malformed_input_degrades_without_losing_words(body: str) -> None:
    page = to_text(body)
    assert page.parser != "xml"
    words = ("unclosed", "words", "orphan", "never", "deep", "vertical", "doctype", "outside", "duplicate", "section")
    for word in (*words, "surrogate", "attribute", "looks"):
        if word in body:
            assert word in page.text


def test_fake_site_pages_convert_and_keep_their_markers() -> None:
    generator = BodyGenerator(seed=3)
    for content_id in range(1, 40):
        ctx = BodyContext(content_id, 2, f"Page {content_id}", "ENG", "Glossary", "ENG", "acc-1", 6000)
        page = to_text(generator.render(ctx), users={"acc-1": "Ada"})
        assert page.parser == "xml"
        assert "@Ada" in page.text
        assert "```" in page.text
        assert "vendor-roadmap-widget" not in page.text and "timeline" not in page.text


def test_too_deep_nesting_falls_back_to_plain_text() -> None:
    page = to_text("<p>" + "<span>" * 3000 + "deep &amp; nested")
    assert (page.parser, page.text) == ("text", "deep & nested")


def test_random_damage_never_raises() -> None:
    sources = [(GOLDEN / f"{name}.xhtml").read_text(encoding="utf-8") for name in CASES if name != "empty_body"]
    debris = ["<", "&", ">", "]]>", "<![CDATA[", "<![", "</p>", "<ac:link>", "\x01", "&#0;", "<x:y>", '"', "<!--"]
    rng = random.Random(1)
    for _ in range(150):
        source = rng.choice(sources)
        for _ in range(rng.randint(1, 5)):
            at = rng.randrange(len(source))
            if rng.random() < 0.3:
                source = source[:at] + source[at + rng.randint(1, 30) :]
            else:
                source = source[:at] + rng.choice(debris) + source[at:]
        page = to_text(source)
        assert "\x00" not in page.text
