"""The one DM offering per-person access to the creators of datastores older than access modes (issue #12
step 6): one message per datastore, exactly once — across passes, restarts, two processes and answers Slack
applied but never sent back — and its button switches to "each", audited as the offer's."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from bot.jobs import ACCESS_OFFERS_JOB_ID, Jobs, access_offers_tick
from demo.fakes.slack_faults import FaultMode
from handlers.ids import ActionId, BlockId
from storage.access_modes import AccessMode, AccessOffer
from storage.models import Datastore
from tests.handlers.access_world import CREATOR, OTHER, AccessWorld, access_world
from tests.harness import running_bot


@pytest.fixture
def world(database_url: str) -> Iterator[AccessWorld]:
    for world in access_world(database_url):
        _set_offer(world, AccessOffer.PENDING)  # as migration 0007 left every existing datastore
        yield world


def _set_offer(world: AccessWorld, offer: AccessOffer | None, *, creator: str = CREATOR) -> None:
    with world.bot.services.sessions.begin() as session:
        datastore = session.get(Datastore, world.sync.datastore_id)
        assert datastore is not None
        datastore.access_offer, datastore.created_by = offer, creator


def _send(world: AccessWorld) -> None:
    offers = world.bot.app.access_offers
    assert offers is not None
    offers()


def _offers(world: AccessWorld) -> list[Any]:
    return [m for m in world.slack.dms(CREATOR) if ActionId.ACCESS_OFFER_SWITCH in str(m.blocks)]


def test_one_dm_per_datastore_exactly_once_and_its_button_switches(world: AccessWorld) -> None:
    _send(world)
    (offer,) = _offers(world)
    assert "Your datastore *eng-wiki* is searched as *Ada &lt;!channel&gt; Lovelace*" in offer.text
    assert world.datastore().access_offer == AccessOffer.SENT
    _send(world)
    _set_offer(world, AccessOffer.PENDING)  # a crash after the post, before it was marked sent
    _send(world)
    assert len(_offers(world)) == 1 and world.datastore().access_offer == AccessOffer.SENT

    dm = world.slack.dm_channel_id(CREATOR)
    before = len(world.slack.calls("response_url"))
    clicked = world.bot.sender.block_actions(
        ActionId.ACCESS_OFFER_SWITCH, BlockId.ACCESS_OFFER_ACTIONS, message=(dm, offer.ts), user_id=CREATOR
    )
    assert clicked.status == 200
    answer = world.slack.wait_for_call("response_url", count=before + 1, timeout=5).args
    assert answer["replace_original"] is True
    assert "Each person sees only what they can see in Confluence" in answer["text"]
    datastore = world.datastore()
    assert (datastore.access_mode, datastore.access_offer) == (AccessMode.EACH, AccessOffer.ANSWERED)
    assert world.audit() == [(CREATOR, "offer", "mode", "everyone", "each")]
    _send(world)
    (replaced,) = world.slack.dms(CREATOR)  # the offer, answered in place; nothing new
    assert replaced.ts == offer.ts and ActionId.ACCESS_OFFER_SWITCH not in str(replaced.blocks)


def test_the_button_of_someone_who_may_not_change_it_changes_nothing(world: AccessWorld) -> None:
    _send(world)
    (offer,) = _offers(world)
    dm = world.slack.dm_channel_id(CREATOR)
    before = len(world.slack.calls("response_url"))
    world.bot.sender.block_actions(
        ActionId.ACCESS_OFFER_SWITCH, BlockId.ACCESS_OFFER_ACTIONS, message=(dm, offer.ts), user_id=OTHER
    )
    answer = world.slack.wait_for_call("response_url", count=before + 1, timeout=5).args
    assert f"Only <@{CREATOR}> or a workspace admin can change who sees what in *eng-wiki*" in answer["text"]
    assert world.datastore().access_mode == AccessMode.EVERYONE and world.audit() == []


def test_two_processes_send_it_once(world: AccessWorld, database_url: str) -> None:
    key = world.bot.services.settings.encryption_key
    assert key is not None
    with running_bot(world.slack, database_url, encryption_key=key.get_secret_value()) as second:
        senders = [send for send in (world.bot.app.access_offers, second.app.access_offers) if send is not None]
        assert len(senders) == 2
        start = threading.Barrier(len(senders))

        def run(send: Any) -> None:
            start.wait()
            send()

        threads = [threading.Thread(target=run, args=(send,)) for send in senders]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        second.sender.close()
        for send in senders:  # whichever was busy sees the post on its next pass
            send()
    assert len(_offers(world)) == 1 and world.datastore().access_offer == AccessOffer.SENT


@pytest.mark.parametrize("mode", [FaultMode.APPLY_THEN_DROP, FaultMode.APPLY_THEN_ERROR])
def test_a_post_slack_applied_without_answering_is_found_not_repeated(world: AccessWorld, mode: FaultMode) -> None:
    world.slack.fail("chat.postMessage", "internal_error", mode=mode)
    _send(world)  # applied, but the answer was lost: not known to be sent
    assert len(_offers(world)) == 1 and world.datastore().access_offer == AccessOffer.PENDING
    _send(world)  # looked for in the DM first: found there
    assert len(_offers(world)) == 1 and world.datastore().access_offer == AccessOffer.SENT
    assert world.slack.calls("conversations.history")


def test_a_creator_who_cannot_get_a_dm_is_not_tried_for_ever(world: AccessWorld) -> None:
    _set_offer(world, AccessOffer.PENDING, creator="U0GONE")  # Slack knows no such user any more
    _send(world)
    assert world.datastore().access_offer == AccessOffer.SENT and not world.slack.calls("chat.postMessage")


def test_no_offer_once_the_datastore_was_switched_to_each(world: AccessWorld) -> None:
    world.reply("access eng-wiki each", user_id=CREATOR)
    assert world.datastore().access_offer == AccessOffer.ANSWERED
    _send(world)
    assert _offers(world) == []


def test_the_scheduler_runs_it_as_a_fixed_job(world: AccessWorld) -> None:
    ran: list[str] = []
    jobs = Jobs(world.bot.services, context="test-access-offers")
    try:
        jobs.start(lambda: None, offers=lambda: ran.append("offers"))
        assert jobs.scheduler.get_job(ACCESS_OFFERS_JOB_ID) is not None
        access_offers_tick("test-access-offers")
        assert ran[-1] == "offers"
    finally:
        jobs.stop()
    access_offers_tick("test-access-offers")  # after stop: nothing registered, nothing runs
    assert ran.count("offers") >= 1
