from __future__ import annotations

import pytest

from bot.errors import CommandUsageError
from handlers.commands import parse_command
from tests.harness import RunningBot


@pytest.mark.parametrize(
    ("text", "subcommand", "args"),
    [
        ("", "help", []),
        ("   ", "help", []),
        ("CREATE eng-wiki", "create", ["eng-wiki"]),
        ('search "Eng Wiki" onboarding checklist', "search", ["Eng Wiki", "onboarding", "checklist"]),
        ("search \u201cEng Wiki\u201d don't panic", "search", ["Eng Wiki", "don't", "panic"]),
        ("search wiki C:\\path\\x # not a comment", "search", ["wiki", "C:\\path\\x", "#", "not", "a", "comment"]),
    ],
)
def test_parse_command(text: str, subcommand: str, args: list[str]) -> None:
    parsed = parse_command(text)
    assert (parsed.subcommand, parsed.args) == (subcommand, args)


def test_unclosed_quote_is_a_usage_error() -> None:
    with pytest.raises(CommandUsageError, match="a quote is not closed"):
        parse_command('create "Eng Wiki')


def test_an_unexpected_failure_reaches_the_user_with_an_error_id(bot: RunningBot) -> None:
    bot.slack.fail("views.open", error="internal_error")
    assert bot.sender.slash_command("create").status == 200
    call = bot.slack.wait_for_call("response_url", timeout=5)
    text = str(call.args.get("text"))
    assert text.startswith("Something went wrong on my side (error id `")
    assert call.args.get("response_type") == "ephemeral"
