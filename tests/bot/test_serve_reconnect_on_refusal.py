"""Issue #11, class 10, end to end through `datastore-bot serve`: every permanent refusal by Atlassian pauses the sync
for reconnect, with the Reconnect button in the thread, and nothing retries the dead token.

A datastore is created through the real wizard and synced. Then Atlassian turns the connection down — its token
endpoint refuses the refresh (``invalid_grant``, ``unauthorized_client``, ``invalid_client``, ``access_denied``,
a bare 401 or 403), or the connection was revoked and the gateway answers its token with 404 on ``/spaces`` — and
a resync is typed in Slack. It must end Paused for reconnect, the connection marked ``needs_reconnect``, the
progress reply showing why and the Reconnect button, after exactly one call to the token endpoint. A transient
token-endpoint failure instead is retried and the resync finishes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from demo.fakes.atlassian import FakeAtlassian, FaultKind, FaultRule, SiteSpec
from demo.fakes.slack_api import FakeSlack
from handlers.ids import ActionId
from tests.bot.served_datastore import ServedDatastore, served_datastore
from tests.harness import wait_until

SPEC = SiteSpec(spaces=2, pages_per_space=40, blogposts_per_space=2, body_bytes=800)
DOCUMENTS = 2 * (40 + 2)
TOKEN = "POST /oauth/token"


def _refused_with(kind: FaultKind, **details: Any) -> Callable[[FakeAtlassian], list[FaultRule]]:
    def inject(atlassian: FakeAtlassian) -> list[FaultRule]:
        rule = atlassian.inject(TOKEN, kind, times=None, description="<!channel> go to https://evil.example", **details)
        atlassian.expire_access_tokens()  # the resync's first request gets 401: the token must be refreshed
        return [rule]

    return inject


def _revoked_answered_with_404(atlassian: FakeAtlassian) -> list[FaultRule]:
    atlassian.answer_refused_tokens_with(v2=404, v1=403)
    (family,) = {atlassian.oauth.family_of(token) for token in atlassian.oauth.issued_tokens()}
    assert family is not None
    atlassian.oauth.revoke_family(family)
    return []


REFUSALS: dict[str, tuple[Callable[[FakeAtlassian], list[FaultRule]], str]] = {
    "invalid_grant": (_refused_with(FaultKind.OAUTH_ERROR, error="invalid_grant"), "(invalid_grant)"),
    "unauthorized_client": (
        _refused_with(FaultKind.OAUTH_ERROR, error="unauthorized_client"),
        "(unauthorized_client)",
    ),
    "invalid_client": (_refused_with(FaultKind.OAUTH_ERROR, error="invalid_client"), "(invalid_client)"),
    "access_denied": (_refused_with(FaultKind.OAUTH_ERROR, error="access_denied"), "(access_denied)"),
    "token-endpoint-401": (_refused_with(FaultKind.UNAUTHORIZED), "(HTTP 401)"),
    "token-endpoint-403": (_refused_with(FaultKind.FORBIDDEN), "(HTTP 403)"),
    "revoked-token-answered-404-on-spaces": (_revoked_answered_with_404, "(invalid_grant)"),
}


def _reconnect_button(world: ServedDatastore) -> dict[str, object] | None:
    message = world.slack.message(world.channel, world.progress_ts)
    buttons = [e for b in message.blocks if b.get("type") == "actions" for e in b.get("elements", [])]
    return next((b for b in buttons if b.get("action_id") == ActionId.RECONNECT), None)


#: Every refusal on SQLite; a spread of them on PostgreSQL too (the same code path: mark, pause, no retry).
@pytest.mark.postgresql_sample(every=4)
@pytest.mark.parametrize("refusal", sorted(REFUSALS))
def test_a_permanent_refusal_pauses_the_resync_for_reconnect_with_the_button(
    fake_slack: FakeSlack, database_url: str, tmp_path: Path, refusal: str
) -> None:
    inject, code = REFUSALS[refusal]
    with served_datastore(fake_slack, database_url, tmp_path, SPEC) as world:
        atlassian = world.atlassian
        atlassian.log.clear()
        rules = inject(atlassian)
        posted = len(world.thread_posts())
        run_id = world.resync()
        run = world.wait_for(run_id, lambda r: r.state not in ("queued", "running"))
        wait_until(lambda: _reconnect_button(world) is not None, timeout=15)

        # The fault was hit: the refusal was served (or the gateway's 404 to the revoked token, then invalid_grant).
        assert all(rule.hits == 1 for rule in rules)
        if refusal.startswith("revoked"):
            assert atlassian.log.count("GET /wiki/api/v2/spaces", status=404, note="token refused") == 1
            assert atlassian.log.count(TOKEN, status=403) == 1
        assert atlassian.log.count(TOKEN) == 1  # the token endpoint was asked exactly once
        assert (run.state, run.pause_kind) == ("paused", "reconnect")
        assert run.reason == f"Atlassian refused to renew the Confluence connection {code}."
        assert world.connection().status == "needs_reconnect"
        assert world.datastore().document_count == DOCUMENTS  # nothing lost meanwhile

        # The thread: the progress reply says why and offers the button; no completion reply for a paused run.
        button = _reconnect_button(world)
        assert button is not None and button.get("value") == str(world.datastore().id)
        progress = world.progress_text()
        assert "*Paused*" in progress and f"Atlassian refused to renew the Confluence connection {code}" in progress
        assert "<!channel>" not in progress and "evil.example" not in progress  # Atlassian's text never echoed
        assert world.thread_posts()[posted:] == []

        # No retry storm: worker polls, progress ticks and another resync request ask Atlassian nothing more.
        calls = len(atlassian.log)
        refused = world.sender.slash_command("sync eng-wiki")
        assert refused.status == 200
        time.sleep(3)
        assert len(atlassian.log) == calls and atlassian.log.count(TOKEN) == 1
        assert [r.id for r in world.runs()][-1] == run_id and world.run(run_id).state == "paused"


def test_a_transient_token_endpoint_failure_is_retried_and_the_resync_finishes(
    fake_slack: FakeSlack, database_url: str, tmp_path: Path
) -> None:
    with served_datastore(fake_slack, database_url, tmp_path, SPEC) as world:
        atlassian = world.atlassian
        atlassian.log.clear()
        changed = sorted(atlassian.site.ids("page"))[3]
        atlassian.site.update_page(changed)
        unavailable = atlassian.inject(TOKEN, FaultKind.UNAVAILABLE, times=1, retry_after=1)
        failing = atlassian.inject(TOKEN, FaultKind.SERVER_ERROR, times=1)
        atlassian.expire_access_tokens()
        posted = len(world.thread_posts())
        run = world.announced(world.resync())
        assert unavailable.hits == 1 and failing.hits == 1  # both failures were served …
        assert atlassian.log.count(TOKEN) == 3 and atlassian.log.refresh_count() == 1  # … then the refresh worked
        assert (run.outcome, run.processed) == ("synced", 1)
        assert world.connection().status == "active"
        (completion,) = world.thread_posts()[posted:]
        assert str(completion.args["text"]).startswith("✅ *eng-wiki* is ready")
        assert _reconnect_button(world) is None
