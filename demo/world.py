"""The demo's world: a local Confluence site, a local Slack stand-in and a real `serve` wired to both.

`serve` gets an environment of its own (nothing from the caller's but PATH, HOME and LANG), runs in a
temporary folder (so no ``.env`` of the caller's is read) with ``DATA_DIR`` there: the embedded SQLite default
and a key file of its own. Its signing secret is random, its port free; Slack and Atlassian are the fakes.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import demo
from demo.fakes.atlassian import FakeAtlassian, OAuthApp, SiteConfig, SiteSpec
from demo.fakes.slack_api import FakeSlack
from demo.fakes.slack_requests import SlackRequestSender
from demo.serve import Served, free_port, serve

__all__ = ["SITE", "SPACES", "DemoWorld", "demo_environment", "demo_world"]

CLIENT_ID, CLIENT_SECRET = "datastore-bot-demo", secrets.token_urlsafe(16)
SITE = "acme"
SPACES = 2
#: The bot must answer Slack within 3 s; a loaded machine gets more before the demo calls it a failure.
ACK_SECONDS = 10.0
#: Where the packages live, for a `serve` started from a source checkout that is not installed.
SOURCE_ROOT = Path(demo.__file__).resolve().parents[1]
#: Seconds the local Confluence takes to list a space's pages and to send a batch of page bodies: a real site's
#: pace, so the progress message is seen moving (the bot updates it at most every 3 s).
LATENCY = {"GET /wiki/api/v2/spaces/{id}/pages": 1.0, "GET /wiki/api/v2/pages": 2.0}
SECOND_SPACE_LATENCY = 4.0


@dataclass
class DemoWorld:
    slack: FakeSlack
    atlassian: FakeAtlassian
    served: Served
    sender: SlackRequestSender  # plays Slack: signed requests to serve's POST /slack/events
    folder: Path


def demo_environment(
    slack: FakeSlack, atlassian: FakeAtlassian, *, port: int, folder: Path, signing_secret: str
) -> dict[str, str]:
    """The whole environment of the demo's `serve`: the fakes' URLs, a random secret, DATA_DIR in ``folder``."""
    env = {name: value for name, value in os.environ.items() if name in ("PATH", "HOME", "LANG", "SYSTEMROOT")}
    python_path = [str(SOURCE_ROOT), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    env.update(
        PYTHONPATH=os.pathsep.join(python_path),
        SLACK_BOT_TOKEN=sorted(slack.bot_tokens)[0],
        SLACK_SIGNING_SECRET=signing_secret,
        SLACK_API_URL=slack.api_url,
        DATA_DIR=str(folder / "data"),
        PUBLIC_URL=f"http://127.0.0.1:{port}",
        ATLASSIAN_CLIENT_ID=CLIENT_ID,
        ATLASSIAN_CLIENT_SECRET=CLIENT_SECRET,
        ATLASSIAN_AUTH_URL=atlassian.auth_url,
        ATLASSIAN_API_URL=atlassian.api_url,
        LOG_LEVEL="INFO",
        METRICS_PORT="0",  # no /metrics listener: a `serve` of the user's may hold the default port
    )
    return env


def site_spec(pages: int) -> SiteSpec:
    """``pages`` pages (at least one per space) in two spaces, with short readable bodies."""
    per_space = max(1, -(-pages // SPACES))
    return SiteSpec(spaces=SPACES, pages_per_space=per_space, blogposts_per_space=0, body_bytes=1200, users=4)


@contextmanager
def demo_world(pages: int, folder: Path, *, approve_consent: bool = True) -> Iterator[DemoWorld]:
    """Both fakes started, `serve` healthy on a free port against them; everything stopped afterwards.
    ``approve_consent=False``: the person clicks *Cancel* on Atlassian's consent screen."""
    port = free_port()
    callback = f"http://127.0.0.1:{port}/oauth/confluence/callback"
    apps = [OAuthApp(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, redirect_uris=(callback,))]
    (folder / "data").mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        slack = stack.enter_context(FakeSlack())
        atlassian = stack.enter_context(FakeAtlassian(sites=[SiteConfig(name=SITE, spec=site_spec(pages))], apps=apps))
        atlassian.set_consent(approve=approve_consent, site_ids=(atlassian.cloud_id,))
        for endpoint, seconds in LATENCY.items():  # a sync long enough to watch
            atlassian.set_latency(seconds, endpoint)
        second_space = sorted(atlassian.site.spaces)[-1]  # listed later: the first space's pages are processed
        atlassian.set_latency(SECOND_SPACE_LATENCY, f"GET */spaces/{second_space}/pages")
        secret = secrets.token_hex(32)
        env = demo_environment(slack, atlassian, port=port, folder=folder, signing_secret=secret)
        served = stack.enter_context(serve(env, port, folder / "serve.log"))
        events = f"http://127.0.0.1:{port}/slack/events"
        sender = stack.enter_context(SlackRequestSender(events, secret, slack, ack_timeout=ACK_SECONDS))
        yield DemoWorld(slack, atlassian, served, sender, folder)
