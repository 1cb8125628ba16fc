from __future__ import annotations

import itertools
import random
import re
from pathlib import Path

import pytest

from bot.confluence.storage_format import to_text
from bot.sync.chunking import DEFAULT_MAX_CHARS, DEFAULT_OVERLAP_CHARS, Chunk, chunk
from demo.fakes.atlassian.storage_xhtml import BodyContext, BodyGenerator

GOLDEN = Path(__file__).parents[1] / "confluence" / "golden"
FENCE_LINE = re.compile(r"^[ >]*(```|~~~)", re.MULTILINE)


def sentences(count: int, seed: int = 0) -> str:
    rng = random.Random(seed)
    words = "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima".split()
    return " ".join(
        " ".join(rng.choice(words) for _ in range(rng.randint(5, 12))).capitalize() + "." for _ in range(count)
    )


def words(text: str) -> list[str]:
    return re.findall(r"\w+", text)


def assert_covers(text: str, chunks: list[Chunk]) -> None:
    """Every word of ``text`` appears, in order, in the chunks (overlap may repeat some)."""
    joined = " ".join(c.text for c in chunks)
    remaining = iter(words(joined))
    for word in words(text):
        assert any(word == seen for seen in remaining), word


def test_blank_text_gives_no_chunks() -> None:
    assert chunk("T", "") == []
    assert chunk("T", "\n\n   \n") == []


def test_short_page_is_one_chunk_without_heading() -> None:
    [only] = chunk("Page", "Just a paragraph.")
    assert only == Chunk(0, "Page", (), "Just a paragraph.")
    assert only.heading == "" and only.breadcrumb == "Page"


def test_heading_paths_follow_levels() -> None:
    outline = ["# Setup", "## Linux", "### Debian", "## macOS", "# Usage"]
    text = "\n\n".join(["intro " + sentences(8)] + [f"{h}\n\n{sentences(8, i)}" for i, h in enumerate(outline)])
    chunks = chunk("Guide", text, max_chars=400, overlap_chars=0)
    paths = list(dict.fromkeys(c.heading_path for c in chunks))
    assert paths == [(), ("Setup",), ("Setup", "Linux"), ("Setup", "Linux", "Debian"), ("Setup", "macOS"), ("Usage",)]
    debian = next(c for c in chunks if len(c.heading_path) == 3)
    assert debian.heading == "Setup › Linux › Debian"
    assert debian.breadcrumb == "Guide › Setup › Linux › Debian"
    assert next(c for c in chunks if c.heading_path == ("Setup", "Linux")).text.startswith("## Linux\n\n")


def test_small_sections_are_packed_under_their_common_path() -> None:
    linux, mac = "a" * 40, "b" * 40
    text = f"# Setup\n\n## Linux\n\n{linux}\n\n## macOS\n\n{mac}\n\n# Usage\n\nrun x"
    chunks = chunk("Guide", text, max_chars=100, overlap_chars=0)
    assert [(c.heading_path, c.text) for c in chunks] == [
        (("Setup",), f"# Setup\n\n## Linux\n\n{linux}"),
        ((), f"## macOS\n\n{mac}\n\n# Usage\n\nrun x"),
    ]
    [whole] = chunk("Guide", text)
    assert whole.heading_path == () and whole.text == text


def test_leading_h1_equal_to_title_is_not_repeated_in_breadcrumb() -> None:
    [only] = chunk("Runbook", "# Runbook\n\nsteps")
    assert only.heading == "Runbook"
    assert only.breadcrumb == "Runbook"


def test_long_section_splits_on_paragraphs_with_overlap() -> None:
    paragraphs = [sentences(4, seed) for seed in range(12)]
    text = "## Notes\n\n" + "\n\n".join(paragraphs)
    chunks = chunk("T", text, max_chars=500, overlap_chars=120)
    assert len(chunks) > 3
    assert all(len(c.text) <= 500 for c in chunks)
    assert all(c.heading_path == ("Notes",) for c in chunks)
    for previous, current in itertools.pairwise(chunks):
        overlap = current.text.split("\n\n", 1)[0]
        assert 0 < len(overlap) <= 120
        assert previous.text.endswith(overlap)
    assert_covers(text, chunks)


def test_overlap_zero_repeats_nothing() -> None:
    text = "\n\n".join(sentences(4, seed) for seed in range(12))
    chunks = chunk("T", text, max_chars=400, overlap_chars=0)
    assert "\n\n".join(c.text for c in chunks) == text


def test_code_fence_is_kept_whole_when_it_fits() -> None:
    code = (
        "```python\n"
        + "\n".join(f"x{i} = {i}  # \n\nsetting" if i == 3 else f"x{i} = {i}" for i in range(40))
        + "\n```"
    )
    text = "## Code\n\n" + sentences(6) + "\n\n" + code + "\n\n" + sentences(6, 1)
    chunks = chunk("T", text, max_chars=500, overlap_chars=100)
    holders = [c for c in chunks if "```python" in c.text]
    assert len(holders) == 1 and code in holders[0].text
    assert all(len(FENCE_LINE.findall(c.text)) % 2 == 0 for c in chunks)


def test_heading_like_lines_inside_code_are_not_headings() -> None:
    text = "## Script\n\n```bash\n# install\napt install x\n```"
    [only] = chunk("T", text)
    assert only.heading_path == ("Script",)


def test_oversized_fence_is_cut_between_lines_and_refenced() -> None:
    body = "\n".join(f"    print('line {i:03d}')" for i in range(200))
    text = f"```python\n{body}\n```"
    chunks = chunk("T", text, max_chars=500, overlap_chars=100)
    assert len(chunks) > 5
    for c in chunks:
        assert len(c.text) <= 500
        assert c.text.startswith("```python\n") and c.text.endswith("\n```")
    lines = [line for c in chunks for line in c.text.split("\n")[1:-1]]
    assert "\n".join(lines) == body


def test_long_unbroken_text_is_hard_cut() -> None:
    text = "数据库同步已完成" * 200 + "。終わり"
    chunks = chunk("T", text, max_chars=300, overlap_chars=50)
    assert all(len(c.text) <= 300 for c in chunks)
    assert "".join(c.text for c in chunks).replace(" ", "").count("数据库") >= 200


def test_cjk_sentences_split_at_full_stops() -> None:
    text = "。".join(f"第{i}句话讲的是数据库同步的细节" for i in range(60)) + "。"
    chunks = chunk("T", text, max_chars=200, overlap_chars=0)
    assert all(c.text.endswith("。") for c in chunks)
    assert "".join(c.text for c in chunks) == text


def test_headings_in_quoted_panels_do_not_split() -> None:
    text = "## Real\n\n> Note:\n>\n> ## Not a section\n> body"
    [only] = chunk("T", text)
    assert only.heading_path == ("Real",)


def test_is_deterministic_and_defaults_are_sane() -> None:
    text = to_text((GOLDEN / "runbook_panels_tables.xhtml").read_text(encoding="utf-8")).text
    assert chunk("Runbook", text) == chunk("Runbook", text)
    assert (DEFAULT_MAX_CHARS, DEFAULT_OVERLAP_CHARS) == (1500, 200)


@pytest.mark.parametrize(("max_chars", "overlap"), [(99, 0), (1000, -1), (1000, 501)])
def test_rejects_bad_limits(max_chars: int, overlap: int) -> None:
    with pytest.raises(ValueError):
        chunk("T", "x", max_chars=max_chars, overlap_chars=overlap)


@pytest.mark.parametrize("max_chars", [150, 400, 1500])
def test_golden_pages_chunk_within_limits_and_lose_nothing(max_chars: int) -> None:
    for path in sorted(GOLDEN.glob("*.xhtml")):
        text = to_text(path.read_text(encoding="utf-8")).text
        chunks = chunk(path.stem, text, max_chars=max_chars, overlap_chars=max_chars // 8)
        assert all(0 < len(c.text) <= max_chars for c in chunks), path.stem
        assert [c.index for c in chunks] == list(range(len(chunks)))
        assert_covers(text, chunks)


def test_fake_site_pages_chunk_within_limits() -> None:
    generator = BodyGenerator(seed=11)
    for content_id in range(1, 30):
        body = generator.render(BodyContext(content_id, 1, "P", "ENG", "G", "ENG", "a", 12000))
        text = to_text(body).text
        chunks = chunk("P", text)
        assert all(len(c.text) <= DEFAULT_MAX_CHARS for c in chunks)
        assert all(len(FENCE_LINE.findall(c.text)) % 2 == 0 for c in chunks)
        assert_covers(text, chunks)
