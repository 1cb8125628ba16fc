"""Drive the wizard as a person would: type the command, fill each modal, approve in the browser."""

from __future__ import annotations

from typing import Any, Protocol

import httpx

from demo.fakes.slack_api import FakeSlack
from demo.fakes.slack_requests import BotResponse, SlackRequestSender
from handlers.ids import ActionId, BlockId, CallbackId, ShareValue, TopOffValue


class _Bot(Protocol):
    @property
    def sender(self) -> SlackRequestSender: ...


class DrivenWorld(Protocol):
    """What the driver needs: the fake Slack and a sender to the bot (tests.handlers.conftest.World has both)."""

    @property
    def slack(self) -> FakeSlack: ...

    @property
    def bot(self) -> _Bot: ...


class WizardDriver:
    def __init__(
        self,
        world: DrivenWorld,
        user_id: str | None = None,
        channel_id: str | None = None,
        *,
        sender: SlackRequestSender | None = None,
    ) -> None:
        """``sender``: requests from another workspace or org (default: the world's own sender)."""
        self.world = world
        self.slack = world.slack
        self.sender = sender or world.bot.sender
        self.user_id = user_id or world.slack.default_user_id
        self.channel_id = channel_id or world.slack.default_channel_id
        self.view_id = ""

    @property
    def view(self) -> Any:
        return self.slack.view(self.view_id)

    def callback_id(self) -> str:
        return str(self.view.callback_id)

    def start(self, text: str = "create") -> None:
        before = len(self.slack.calls("views.open"))
        response = self.sender.slash_command(text, user_id=self.user_id, channel_id=self.channel_id)
        assert response.status == 200, response.body
        call = self.slack.wait_for_call("views.open", count=before + 1, timeout=5)
        self.view_id = call.response["view"]["id"]

    def submit(self, values: dict[str, Any] | None = None, user_id: str | None = None) -> BotResponse:
        response = self.sender.view_submission(self.view_id, values or {}, user_id=user_id or self.user_id)
        assert response.status == 200, response.body
        return response

    def click(
        self,
        action_id: str,
        *,
        value: Any = None,
        selected_option: Any = None,
        block_id: str | None = None,
        expect_update: bool = True,
    ) -> BotResponse:
        before = len(self.slack.calls("views.update"))
        response = self.sender.block_actions(
            action_id,
            block_id=block_id,
            value=value,
            selected_option=selected_option,
            view_id=self.view_id,
            user_id=self.user_id,
        )
        assert response.status == 200, response.body
        if expect_update:
            self.slack.wait_for_call("views.update", count=before + 1, timeout=5)
        return response

    def name(self, name: str) -> BotResponse:
        return self.submit({BlockId.NAME: {ActionId.NAME_INPUT: name}})

    def skip_top_off(self) -> BotResponse:
        self.click(ActionId.TOPOFF_CHOICE, selected_option=TopOffValue.SKIP)
        return self.submit({BlockId.TOPOFF_CHOICE: {ActionId.TOPOFF_CHOICE: TopOffValue.SKIP}})

    def site(self, site: str) -> BotResponse:
        assert self.callback_id() == CallbackId.WIZARD_REVIEW_ACCESS
        self.submit()
        return self.submit({BlockId.SITE_URL: {ActionId.SITE_URL: site}})

    def open_window_url(self) -> str:
        for block in self.view.blocks:
            for element in block.get("elements", []):
                if element.get("action_id") == ActionId.OPEN_WINDOW:
                    return str(element["url"])
        raise AssertionError("no Open window button in the view")

    def consent_in_browser(self) -> httpx.Response:
        """Click "Open window" (acked by the bot), then let the browser follow Atlassian's redirect."""
        url = self.open_window_url()
        self.click(ActionId.OPEN_WINDOW, expect_update=False)
        before = len(self.slack.calls("views.update"))
        page = httpx.get(url, follow_redirects=True, timeout=10)
        self.slack.wait_for_call("views.update", count=before + 1, timeout=5)
        return page

    def connect(self, name: str = "eng-wiki", site: str = "acme") -> httpx.Response:
        self.start(f"create {name}")
        self.name(name)
        self.skip_top_off()
        self.site(site)
        return self.consent_in_browser()

    def share_spaces(self, query: str = "") -> list[dict[str, Any]]:
        self.click(ActionId.SHARE_CHOICE, selected_option=ShareValue.SPECIFIC)
        return self.sender.block_suggestion(self.view_id, ActionId.SPACES, BlockId.SPACES, query, user_id=self.user_id)

    def grant(self, space_values: list[str] | None) -> BotResponse:
        if space_values is None:
            self.click(ActionId.SHARE_CHOICE, selected_option=ShareValue.ALL)
            return self.submit({BlockId.SHARE_CHOICE: {ActionId.SHARE_CHOICE: ShareValue.ALL}})
        return self.submit(
            {
                BlockId.SHARE_CHOICE: {ActionId.SHARE_CHOICE: ShareValue.SPECIFIC},
                BlockId.SPACES: {ActionId.SPACES: space_values},
            }
        )
