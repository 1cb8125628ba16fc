"""End to end over HTTP, with a fake Confluence site whose space and page titles are mrkdwn attacks:

* class 7 — synced, searched and shared in channel, the messages show the attacks as text: no live
  ``@channel``/``@here``, mention or disguised link, only the bot's own links to the synced pages;
* class 8 — a 334-character CJK query (whose ``\\uXXXX`` JSON once made the Share button's value 2,004
  characters) and a query far longer than the 500-character cap are searched and shared; every message is
  within Slack's limits (the fake Slack refuses anything over, counting UTF-16 units);
* class 3 — hidden characters in a query (NUL, which PostgreSQL refuses; bidi overrides; line breaks) are
  cleaned: the search answers as for the clean words, in the slash command and in the Share re-run.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from demo.fakes.atlassian import SiteSpec
from demo.fakes.slack_api import FakeSlack
from demo.fakes.slack_blockkit import slack_length
from handlers.ids import ActionId, BlockId
from storage.documents import Document
from tests.bot.sync.conftest import TEAM, SyncWorld, make_world
from tests.handlers.views.slack_text import live_tokens, mrkdwn_texts, shown
from tests.harness import RunningBot, running_bot
from tests.hostile import BIDI, CONTROL_CHARACTERS, MRKDWN_ATTACKS

WORD = "zebracorn"
HOSTILE_SPACE = "<!channel> <https://evil.example|login>"
TITLES = [
    f"<!here> {WORD} <https://evil.example|Reset your password>",
    f"{WORD} <@U0BOSS> &amp; <#C0GENERAL> *bold*",
    f"{WORD} x|y>z< <!subteam^S0123ABCD> <!date^1392734382^{{date}}|Feb 18>",
]
_rng = random.Random(334)
CJK = "".join(chr(_rng.randrange(0x4E00, 0x9FFF)) for _ in range(334))
CJK_WORD = CJK[:64]  # search keeps 64 characters of a word: the page is titled with exactly those


@pytest.fixture
def hostile_site(database_url: str) -> Iterator[tuple[SyncWorld, RunningBot]]:
    spec = SiteSpec(spaces=1, pages_per_space=3, blogposts_per_space=0, body_bytes=1500)
    with FakeSlack(team_id=TEAM) as slack:
        for world in make_world(database_url, spec):
            site = world.atlassian.site
            space = site.add_space(key="EVIL", name=HOSTILE_SPACE, pages=len(TITLES))
            for page_id, title in zip(site.ids("page", space.id), TITLES, strict=True):
                site.update_page(page_id, title=title)
            site.add_page("EVIL", title=f"漢字 {CJK_WORD} {MRKDWN_ATTACKS[0]}")
            world.queue(kind="full")
            world.worker().run_until_idle()
            settings = world.services.settings
            assert settings.encryption_key is not None
            with running_bot(slack, database_url, encryption_key=settings.encryption_key.get_secret_value()) as bot:
                yield world, bot
                bot.sender.close()


def _reply(bot: RunningBot, text: str, user_id: str | None = None) -> dict[str, Any]:
    before = len(bot.slack.calls("response_url"))
    response = bot.sender.slash_command(text, user_id=user_id)
    assert response.status == 200 and not response.body.strip(), response.body
    call = bot.slack.wait_for_call("response_url", count=before + 1, timeout=5)
    assert call.status == 200, call.response  # the fake refuses a message over Slack's limits
    return dict(call.args)


def _share(bot: RunningBot, reply: dict[str, Any]) -> Any:
    value = reply["blocks"][-1]["elements"][0]["value"]
    assert slack_length(value) <= 2000
    channel = bot.slack.default_channel_id
    before = len(bot.slack.calls("response_url"))
    assert bot.sender.click_in_ephemeral(ActionId.SHARE_RESULTS, BlockId.SEARCH_ACTIONS, value, channel).status == 200
    call = bot.slack.wait_for_call("response_url", count=before + 1, timeout=5)
    assert call.status == 200, call.response
    posted = bot.slack.messages(channel)[-1]
    assert [b.get("text") for b in posted.blocks] == [b.get("text") for b in call.args["blocks"]]
    return posted


def _document_urls(world: SyncWorld) -> set[str]:
    with world.services.sessions() as session:
        return {url.replace("&", "&amp;") for url in session.scalars(select(Document.url))}


def _assert_no_live_attack(texts: list[str], urls: set[str], sharer: str | None) -> None:
    for text in texts:
        for token in live_tokens(text):
            target, bar, label = token.partition("|")
            if sharer is not None and token == f"@{sharer}":
                continue
            assert bar and target in urls and "<" not in label, (token, text)


def test_hostile_titles_are_shown_as_text_when_searched_and_shared(
    hostile_site: tuple[SyncWorld, RunningBot], caplog: pytest.LogCaptureFixture
) -> None:
    world, bot = hostile_site
    reply = _reply(bot, f"search eng-wiki {WORD}")
    texts = mrkdwn_texts("message", reply)
    urls = _document_urls(world)
    _assert_no_live_attack(texts, urls, sharer=None)
    seen = " ".join(shown(text) for text in texts)
    assert HOSTILE_SPACE in seen
    for title in TITLES:
        assert title in seen, title  # every character still there, escaped (a label's "|" shown as "∣")
    links = [token for text in texts for token in live_tokens(text) if token.partition("|")[0] in urls]
    assert len(links) >= len(TITLES)  # the bot's own links to the synced pages stay
    posted = _share(bot, reply)
    assert "shared by" in str(posted.blocks)
    shared_texts = [*mrkdwn_texts("message", {"blocks": posted.blocks}), posted.text]
    _assert_no_live_attack(shared_texts, urls, sharer=bot.slack.default_user_id)
    assert HOSTILE_SPACE in " ".join(shown(text) for text in shared_texts)
    assert not [record for record in caplog.records if record.levelno >= logging.WARNING]


def test_share_a_334_character_cjk_query(hostile_site: tuple[SyncWorld, RunningBot]) -> None:
    _world, bot = hostile_site
    assert len(json.dumps({"d": 1, "q": CJK})) > 2000  # what the old value was
    reply = _reply(bot, f"search eng-wiki {CJK}")
    assert "1 result" in reply["text"] and "漢字" in str(reply["blocks"])
    value = reply["blocks"][-1]["elements"][0]["value"]
    assert json.loads(value)["q"] == CJK and slack_length(value) < 400
    posted = _share(bot, reply)
    assert posted.text.startswith("1 result for “") and CJK[:100] in posted.text


@pytest.mark.parametrize("words", [200, 1400])
def test_share_a_query_far_longer_than_the_cap(hostile_site: tuple[SyncWorld, RunningBot], words: int) -> None:
    _world, bot = hostile_site
    query = " ".join(
        [CJK_WORD, WORD, "\U0001f600" * 3] * (words // 3)
    )  # 36,813 characters for 1,400: under /datastore's 40,000
    reply = _reply(bot, f"search eng-wiki {query}")
    assert "Your query was long: only its first 500 characters were searched." in str(reply["blocks"])
    value = json.loads(reply["blocks"][-1]["elements"][0]["value"])
    assert len(value["q"]) <= 500 and query.startswith(value["q"])
    posted = _share(bot, reply)
    assert "shared by" in str(posted.blocks) and slack_length(posted.text) <= 3000


HIDDEN_IN_QUERIES = ["\x00", "\t", "\n", "\r", "\x0b", "\x85", "\u2028", "\u2029", *BIDI[:6], "\u200b", "\ufeff"]
HIDDEN_IN_QUERIES += random.Random(7).sample([c for c in CONTROL_CHARACTERS if c not in HIDDEN_IN_QUERIES], 6)


@pytest.mark.postgresql_sample(every=4)
@pytest.mark.parametrize("char", HIDDEN_IN_QUERIES, ids=[f"U+{ord(c):04X}" for c in HIDDEN_IN_QUERIES])
def test_hidden_characters_in_a_query_are_cleaned(
    hostile_site: tuple[SyncWorld, RunningBot], char: str, caplog: pytest.LogCaptureFixture
) -> None:
    _world, bot = hostile_site
    clean = _reply(bot, f"search eng-wiki {WORD}")
    reply = _reply(bot, f'search eng-wiki "{char}{WORD}{char}"')
    assert reply["text"] == clean["text"] and reply["text"].endswith(f"results for “{WORD}” in eng-wiki")
    assert [b.get("text") for b in reply["blocks"]] == [b.get("text") for b in clean["blocks"]]
    assert char not in json.dumps(reply, ensure_ascii=False)
    assert not [record for record in caplog.records if record.levelno >= logging.WARNING or record.exc_info]


def test_the_share_rerun_cleans_a_forged_query(hostile_site: tuple[SyncWorld, RunningBot]) -> None:
    world, bot = hostile_site
    channel = bot.slack.default_channel_id
    value = json.dumps({"d": world.datastore_id, "q": f"\x00{WORD}\u202e\n"})
    before = len(bot.slack.calls("response_url"))
    assert bot.sender.click_in_ephemeral(ActionId.SHARE_RESULTS, BlockId.SEARCH_ACTIONS, value, channel).status == 200
    call = bot.slack.wait_for_call("response_url", count=before + 1, timeout=5)
    assert call.status == 200 and call.args["text"].endswith(f"results for “{WORD}” in eng-wiki")
