"""demo.render: Block Kit read as the text a person sees in Slack (pure functions, on the bot's real views)."""

from __future__ import annotations

from demo.render import blocks_lines, blocks_text, mrkdwn_text
from handlers.views.wizard import name_step_view


def test_a_wizard_view_shows_its_step_and_context_lines_not_its_inputs() -> None:
    view = name_step_view(wizard_id="w-demo", name="demo-wiki", notice="Names are <unique> & short")
    assert blocks_lines(view["blocks"]) == [
        "Step 1 of 5 · Set data source name & type",
        "⚠️ Names are <unique> & short",
        "Source: Confluence (Atlassian Cloud)",
    ]


def test_a_search_hit_shows_the_link_label_the_quote_and_the_entities_as_characters() -> None:
    blocks = [
        {"type": "section", "text": {"type": "mrkdwn", "text": "*1 result* for “lantern” in *demo-wiki*"}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": ":eyes: Everyone sees it :sparkles:"}]},
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": "*<https://acme.atlassian.net/wiki/x?a=1&amp;b=2|Cobalt lantern ENG-2>*\n"
                "Engineering · updated 13 Jun\n>a &lt;b&gt; &amp; c",
            },
        },
        {"type": "actions", "elements": [{"type": "button", "text": {"type": "plain_text", "text": "Share"}}]},
    ]
    assert blocks_text(blocks).split("\n") == [
        "1 result for “lantern” in demo-wiki",
        "👀 Everyone sees it :sparkles:",  # an emoji code the renderer does not know stays as Slack's code
        "Cobalt lantern ENG-2",
        "Engineering · updated 13 Jun",
        "  │ a <b> & c",
    ]


def test_progress_reply_text() -> None:
    blocks = [
        {
            "type": "section",
            "block_id": "sync-progress",
            "text": {"type": "mrkdwn", "text": "*Processing* `▰▰▰▰▰▱▱▱▱▱ 50%` 150 of 300 · 0 failed · 75 pages/s"},
        },
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "150 documents searchable now"}]},
    ]
    assert blocks_text(blocks) == (
        "Processing ▰▰▰▰▰▱▱▱▱▱ 50% 150 of 300 · 0 failed · 75 pages/s\n150 documents searchable now"
    )


def test_mentions_channels_and_plain_text_objects() -> None:
    text = ":books: *demo-wiki* — created by <@U0TESTER> in <#C0GENERAL|general> · <!here>"
    assert mrkdwn_text(text, {"U0TESTER": "tester"}) == "📚 demo-wiki — created by @tester in #general · @here"
    header = {"type": "header", "text": {"type": "plain_text", "text": "*not bold* <not a link>"}}
    assert blocks_lines([header]) == ["*not bold* <not a link>"]


def test_snake_case_and_lone_marks_are_left_alone() -> None:
    assert mrkdwn_text("run `sync_runs` for a*b and 2 * 3 _x_") == "run sync_runs for a*b and 2 * 3 x"


def test_blocks_without_text_fall_back_to_the_message_text() -> None:
    assert blocks_text([{"type": "divider"}], "✅ *done* &amp; ready") == "✅ done & ready"
    assert blocks_text(["not a block", {"type": "section"}]) == ""
