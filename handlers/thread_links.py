"""A datastore thread's permalink: looked up once with chat.getPermalink, then kept on the datastore (it is
cleared when the thread moves), for `/datastore status` and App Home's "Open thread"."""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.datastores.queries import DatastoreInfo
from bot.datastores.threads import remember_thread_url
from bot.services import Services

__all__ = ["ThreadLinks"]

logger = logging.getLogger(__name__)


class ThreadLinks:
    def __init__(self, services: Services) -> None:
        self.services = services

    def link(self, client: WebClient, info: DatastoreInfo) -> str | None:
        """The stored permalink, or a new lookup (then stored); None when there is no thread or Slack says no."""
        if info.thread_url is not None or info.channel_id is None or info.parent_ts is None:
            return info.thread_url
        try:
            link = str(client.chat_getPermalink(channel=info.channel_id, message_ts=info.parent_ts)["permalink"])
        except SlackApiError as exc:
            logger.info("no permalink for the thread of %s: %s", info.name, exc.response.get("error"))
            return None
        remember_thread_url(self.services, datastore_id=info.id, parent_ts=info.parent_ts, url=link)
        return link

    def links(self, client: WebClient, infos: list[DatastoreInfo], *, lookups: int) -> dict[int, str]:
        """Permalinks of these datastores' threads, looking up at most ``lookups`` that are not stored yet."""
        found: dict[int, str] = {}
        for info in infos:
            if info.thread_url is None:
                if lookups <= 0:
                    continue
                lookups -= 1
            link = self.link(client, info)
            if link is not None:
                found[info.id] = link
        return found
