from __future__ import annotations

import pytest

from bot.errors import CommandUsageError
from handlers.commands import argument_refusal, parse_command
from tests.handlers.views.slack_text import live_tokens, shown
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


@pytest.mark.parametrize(
    ("sent", "args"),
    [
        ("search eng-wiki AT&amp;T", ["eng-wiki", "AT&T"]),
        ("search eng-wiki &lt;!channel&gt; a&lt;b", ["eng-wiki", "<!channel>", "a<b"]),
        ("search eng-wiki &amp;lt; &amp;amp;", ["eng-wiki", "&lt;", "&amp;"]),  # typed as "&lt;" and "&amp;"
        ('status "R&amp;D wiki"', ["R&D wiki"]),
        ("search eng-wiki &quot;x&quot; &#60;", ["eng-wiki", "&quot;x&quot;", "&#60;"]),  # Slack sends no others
    ],
)
def test_the_entities_slack_sends_in_command_text_are_read_as_typed(sent: str, args: list[str]) -> None:
    assert parse_command(sent).args == args


@pytest.mark.parametrize(
    ("typed", "seen"),
    [
        ("status R&D", "There is no datastore named *R&D* here."),
        ("status <!channel>", "There is no datastore named *<!channel>* here."),
        ("status &lt;b&gt;", "There is no datastore named *&lt;b&gt;* here."),
        ('status "a>b"', "There is no datastore named *a>b* here."),
    ],
)
def test_a_typed_name_is_echoed_as_typed(bot: RunningBot, typed: str, seen: str) -> None:
    """Slack sends ``& < >`` typed in a command as entities: echoed back, they read as typed, never as
    ``&amp;amp;`` nor as a live mention."""
    before = len(bot.slack.calls("response_url"))
    assert bot.sender.slash_command(typed).status == 200
    text = str(bot.slack.wait_for_call("response_url", count=before + 1, timeout=5).args["text"])
    assert shown(text).startswith(seen) and not live_tokens(text), text


def test_unclosed_quote_is_a_usage_error() -> None:
    with pytest.raises(CommandUsageError, match="a quote is not closed"):
        parse_command('create "Eng Wiki')


def test_an_unclosed_quote_is_echoed_escaped() -> None:
    with pytest.raises(CommandUsageError) as caught:
        parse_command('search <!channel> "x')
    assert "&lt;!channel&gt;" in str(caught.value) and "<!channel>" not in str(caught.value)


@pytest.mark.parametrize(
    ("text", "refused"),
    [
        ("status eng-wiki", None),
        ('search eng-wiki "deploy\x00 steps\u202e"', None),  # query words are cleaned by the search, not refused
        ("search eng\u200bwiki deploy", "The datastore name contains U+200B ZERO WIDTH SPACE"),
        ("schedule eng-wiki 6\x85h", "The interval contains U+0085 NEXT LINE"),
        ("schedule eng\x7f-wiki 6h", "The datastore name contains U+007F DELETE"),
        ("sync eng-wiki --full", None),
        ("li\u2066st", "The command contains U+2066 LEFT-TO-RIGHT ISOLATE"),
        ("help \x1b[31m", "The command contains U+001B ESCAPE"),
        ('create "Eng\u00adWiki"', "The datastore name contains U+00AD SOFT HYPHEN"),
    ],
)
def test_argument_refusal(text: str, refused: str | None) -> None:
    message = argument_refusal(parse_command(text))
    assert (message is None) if refused is None else (message or "").startswith(refused), message


def test_an_unexpected_failure_reaches_the_user_with_an_error_id(bot: RunningBot) -> None:
    bot.slack.fail("views.open", error="internal_error")
    assert bot.sender.slash_command("create").status == 200
    call = bot.slack.wait_for_call("response_url", timeout=5)
    text = str(call.args.get("text"))
    assert text.startswith("Something went wrong on my side (error id `")
    assert call.args.get("response_type") == "ephemeral"
