"""The /datastore create wizard driven as a person drives it in Slack, from what each view shows.

Every step reads the modal the bot opened or updated in the fake Slack and answers it with the block and
action ids of *that* view: the text input labelled "Name", the radio option labelled "Skip for now", the
button that opens Atlassian's consent page, and so on. What a step does not find is a DemoError naming the
step, so a changed view fails the demo (and its test) instead of being driven blind.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx

from demo.errors import DemoError
from demo.fakes.slack_api import FakeSlack
from demo.fakes.slack_blockkit import iter_elements
from demo.fakes.slack_requests import BotResponse, SlackRequestSender
from demo.fakes.slack_state import View
from demo.render import blocks_text
from handlers.ids import BlockId, CallbackId

__all__ = ["WizardRun"]

Say = Callable[[str], None]
STEPS = 12  # the wizard has eight views; more means it is going round in circles


def _label(item: Any) -> str:
    return str(item.get("text", "")) if isinstance(item, dict) else ""


class WizardRun:
    """One run of the wizard by the fake Slack's default user in its default channel."""

    def __init__(self, slack: FakeSlack, sender: SlackRequestSender, *, timeout: float = 15.0) -> None:
        self.slack, self.sender, self.timeout = slack, sender, timeout
        self.view_id = ""

    # ---- what the person sees ----------------------------------------------------------------
    @property
    def view(self) -> View:
        return self.slack.view(self.view_id)

    def _inputs(self) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
        for block, element in iter_elements(self.view.blocks):
            if block.get("type") == "input":
                yield block, element

    def _input(self, kind: str, label: str) -> tuple[str, str, dict[str, Any]]:
        """(block_id, action_id, element) of the input of this element type whose label contains ``label``."""
        for block, element in self._inputs():
            if element.get("type") == kind and label.lower() in _label(block.get("label")).lower():
                return str(block["block_id"]), str(element["action_id"]), element
        raise DemoError(f"the wizard's {self.view.callback_id} step shows no {kind} “{label}”")

    def _option(self, element: dict[str, Any], text: str) -> str:
        for option in element.get("options") or []:
            if _label(option.get("text")).startswith(text):
                return str(option["value"])
        raise DemoError(f"the wizard's {self.view.callback_id} step offers no “{text}”")

    # ---- what the person does ----------------------------------------------------------------
    def _wait(self, method: str, count: int, what: str) -> Any:
        try:
            return self.slack.wait_for_call(method, count=count, timeout=self.timeout)
        except AssertionError as exc:
            raise DemoError(f"the bot never {what} (no {method} within {self.timeout:.0f} s)") from exc

    def submit(self, values: dict[str, dict[str, Any]] | None = None) -> BotResponse:
        step = self.view.callback_id
        response = self.sender.view_submission(self.view_id, values or {})
        if response.status != 200:
            raise DemoError(f"the bot answered HTTP {response.status} to the {step} step")
        if response.errors:
            raise DemoError(f"the {step} step refused: {'; '.join(response.errors.values())}")
        return response

    def choose(self, kind_label: str, option_text: str) -> tuple[str, str, str]:
        """Select a radio option that the bot answers at once (``dispatch_action``); returns its ids and value."""
        block_id, action_id, element = self._input("radio_buttons", kind_label)
        value = self._option(element, option_text)
        before = len(self.slack.calls("views.update"))
        response = self.sender.block_actions(action_id, block_id=block_id, selected_option=value, view_id=self.view_id)
        if response.status != 200:
            raise DemoError(f"the bot answered HTTP {response.status} to “{option_text}”")
        self._wait("views.update", before + 1, f"updated the wizard after “{option_text}”")
        return block_id, action_id, value

    # ---- the steps -----------------------------------------------------------------------------
    def start(self, text: str) -> None:
        before = len(self.slack.calls("views.open"))
        response = self.sender.slash_command(text)
        if response.status != 200:
            raise DemoError(f"the bot answered HTTP {response.status} to /datastore {text}")
        call = self._wait("views.open", before + 1, f"opened the wizard for /datastore {text}")
        self.view_id = str(call.response["view"]["id"])

    def name(self, name: str) -> str:
        block_id, action_id, _element = self._input("plain_text_input", "Name")
        method_block, method_action, method = self._input("radio_buttons", "Method")
        third_party = self._option(method, "Third-Party Connection")
        self.submit({block_id: {action_id: name}, method_block: {method_action: third_party}})
        return f"name “{name}”, method Third-Party Connection"

    def connection_setup(self) -> str:
        block_id, action_id, value = self.choose("Auto top-off", "Skip for now")
        self.submit({block_id: {action_id: value}})
        return "auto top-off: Skip for now"

    def site_url(self, site: str) -> str:
        block_id, action_id, _element = self._input("plain_text_input", "site URL")
        self.submit({block_id: {action_id: site}})
        return f"site {site}"

    def _refuse_connect_error(self) -> None:
        error = [b for b in self.view.blocks if b.get("block_id") == BlockId.CONNECT_ERROR]
        if error:
            raise DemoError(f"connecting Confluence failed: {blocks_text(error)}")

    def connect(self) -> str:
        """Click "Open window", and let the browser follow Atlassian's consent to the bot's callback."""
        found = [
            (block, element)
            for block, element in iter_elements(self.view.blocks)
            if element.get("type") == "button" and element.get("url") and _label(element.get("text")) == "Open window"
        ]
        if not found:
            raise DemoError(f"the Connect Confluence step shows no Open window button: {blocks_text(self.view.blocks)}")
        block, element = found[0]
        url = str(element["url"])
        self.sender.block_actions(str(element["action_id"]), block_id=str(block["block_id"]), view_id=self.view_id)
        before = len(self.slack.calls("views.update"))
        try:
            page = httpx.get(url, follow_redirects=True, timeout=self.timeout)
        except httpx.HTTPError as exc:
            raise DemoError(f"the browser could not follow the consent link: {exc}") from exc
        self._wait("views.update", before + 1, "moved the wizard on after Atlassian's consent")
        self._refuse_connect_error()
        return f"Open window → Atlassian consent → {page.url.path}: {page.status_code}"

    def grant(self) -> str:
        connected = blocks_text(b for b in self.view.blocks if b.get("type") == "section")
        block_id, action_id, value = self.choose("What should this datastore contain", "Share all content")
        mode_block, mode_action, modes = self._input("radio_buttons", "Who sees what")
        everyone = self._option(modes, "Everyone in this workspace")
        self.submit({block_id: {action_id: value}, mode_block: {mode_action: everyone}})
        shown = connected.splitlines()[0] if connected else "connected"
        return f"{shown} · Share all content · everyone sees what the connecting account can see"

    def title(self) -> str:
        """The step as the view names it (its "Step 2 of 5 · Connection Setup" context line)."""
        for block in self.view.blocks:
            if block.get("block_id") == BlockId.WIZARD_STEP:
                return blocks_text([block])
        return str(self.view.callback_id)

    def act(self, name: str, site: str) -> str | None:
        """Answer the step the view shows; what was done, or None once *Create* closed the wizard."""
        step = self.view.callback_id
        if step == CallbackId.WIZARD_NAME:
            return self.name(name)
        if step == CallbackId.WIZARD_CONNECTION_SETUP:
            return self.connection_setup()
        if step == CallbackId.WIZARD_REVIEW_ACCESS:
            self.submit()
            return "read-only access reviewed — Next"
        if step == CallbackId.WIZARD_SITE_URL:
            return self.site_url(site)
        if step == CallbackId.WIZARD_CONNECT:
            self._refuse_connect_error()
            return self.connect()
        if step == CallbackId.WIZARD_GRANT_ACCESS:
            return self.grant()
        if step == CallbackId.WIZARD_CONFIRM_ACCESS:
            self.submit()
            return "Yes, everyone"
        if step == CallbackId.WIZARD_SUMMARY:
            answer = self.submit().json or {}
            if answer.get("response_action") != "clear":
                raise DemoError(f"Create did not close the wizard: {answer}")
            return None
        raise DemoError(f"the wizard showed an unexpected {step} step: {blocks_text(self.view.blocks)[:200]}")

    def run(self, name: str, site: str, say: Say) -> None:
        """From `/datastore create NAME` to *Create*: each step answered from the view it shows."""
        self.start(f"create {name}")
        for _step in range(STEPS):
            if self.view.closed:
                raise DemoError(f"the wizard closed at its {self.view.callback_id} step")
            title = self.title()
            done = self.act(name, site)
            say(f"{title} — {done or 'Create'}")
            if done is None:
                return
        raise DemoError(f"the wizard did not reach Create in {STEPS} steps")
