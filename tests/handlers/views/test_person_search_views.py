"""What per-person datastores show (issue #12 step 5), as pure views: the connect prompt, the notice that some
results could not be checked, and shares that carry only title-free links and the sharer, valid Block Kit and
escaped wherever Confluence or a person typed the text."""

from __future__ import annotations

import dataclasses

from bot.datastores.queries import PersonAccess, SearchAnswer
from demo.fakes.slack_blockkit import validate_blocks
from handlers.ids import ActionId, BlockId
from handlers.views.person_search import connect_message, shared_links_message
from handlers.views.usage import search_message
from storage.access_modes import AccessMode
from tests.handlers.views.test_access_views import _hit, _info

EACH = _info(access_mode=AccessMode.EACH, name="<!channel> wiki")


def _answer(**changes: object) -> SearchAnswer:
    base = SearchAnswer(datastore=EACH, query="deploy", hits=[_hit()], syncing=False)
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_an_unlinked_person_gets_only_a_connect_button() -> None:
    for access, words in (
        (PersonAccess.NOT_LINKED, "Connect your Confluence account once"),
        (PersonAccess.RELINK, "no longer accepts"),
    ):
        message = search_message(_answer(hits=[], access=access, connect_url="https://bot.example/link?s=1"))
        assert validate_blocks(message["blocks"], "message") == [] and message["response_type"] == "ephemeral"
        assert words in str(message) and "<!channel>" not in str(message) and "Deploy guide" not in str(message)
        (actions,) = [b for b in message["blocks"] if b.get("block_id") == BlockId.PERSON_CONNECT_ACTIONS]
        assert actions["elements"][0]["action_id"] == ActionId.CONNECT_CONFLUENCE
        assert actions["elements"][0]["url"] == "https://bot.example/link?s=1"
    broken = connect_message(_answer(connect_url="javascript:alert(1)"))
    assert "javascript" not in str(broken) and "couldn't make a connect link" in str(broken)


def test_unchecked_results_are_said_and_per_person_answers_give_no_document_total() -> None:
    message = search_message(_answer(unchecked=True))
    (notice,) = [b for b in message["blocks"] if b.get("block_id") == BlockId.SEARCH_UNCHECKED]
    assert "couldn't check your access to some results just now" in str(notice)
    empty = search_message(_answer(hits=[]))
    assert "documents searched" not in str(empty) and "1,200" not in str(empty)
    assert "1,200 documents searched" in str(search_message(_answer(hits=[], datastore=_info())))


def test_a_share_posts_links_and_the_sharer_only() -> None:
    hit = _hit()
    answer = _answer(short_links={hit.document_id: "https://acme.atlassian.net/wiki/x/AbC"})
    message = shared_links_message(answer, shared_by="U0SHARER")
    assert validate_blocks(message["blocks"], "message") == []
    text = str(message)
    assert "Deploy guide" not in text and "deploy" not in text.replace("Deploy", "") and "Engineering" not in text
    assert "<https://acme.atlassian.net/wiki/x/AbC>" in text and "<@U0SHARER>" in text
    assert "People without access in Confluence won't be able to open it." in text
    assert message["response_type"] == "in_channel" and message["unfurl_links"] is False
    assert "<!channel>" not in text
    unsafe = shared_links_message(_answer(short_links={hit.document_id: "https://x|<!here>"}), shared_by="U1")
    assert "<!here>" not in str(unsafe)
