"""The README's "Create the Atlassian app" section lists exactly the scopes the consent URL asks for."""

from __future__ import annotations

import re
from pathlib import Path

from bot.atlassian.oauth import READ_SCOPES

README = Path(__file__).resolve().parents[3] / "README.md"


def _atlassian_section() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("## Create the Atlassian app")
    end = text.index("\n## ", start + 1)
    return text[start:end]


def test_the_readme_names_every_scope_the_bot_requests_and_no_other() -> None:
    named = set(re.findall(r"`([a-z_.\-]+:[a-z_.\-:]+|offline_access)`", _atlassian_section()))
    assert named == set(READ_SCOPES)
