"""The wizard's "Grant access" choice (issue #12 step 6) over HTTP: "each person" is the default; "everyone"
is stored only after a confirmation that names the connecting account; the choice is audited as the wizard's."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from handlers.ids import ActionId, BlockId, CallbackId, ShareValue
from storage.access_audit import AccessAudit
from storage.access_modes import AccessMode
from storage.models import Connection, Datastore, Wizard
from tests.handlers.conftest import World
from tests.handlers.wizard_driver import WizardDriver

ACCOUNT = "Ada <!here> Lovelace"


def _block(driver: WizardDriver, block_id: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [b for b in driver.view.blocks if b.get("block_id") == block_id]
    (block,) = found
    return block


def _connected(world: World, name: str) -> WizardDriver:
    driver = WizardDriver(world)
    driver.connect(name)
    with world.bot.services.sessions.begin() as session:
        session.scalars(select(Connection)).one().account_name = ACCOUNT
    driver.click(ActionId.SHARE_CHOICE, selected_option=ShareValue.ALL)  # redraws with the account's name
    return driver


def _grant(driver: WizardDriver, mode: str | None) -> None:
    values: dict[str, Any] = {BlockId.SHARE_CHOICE: {ActionId.SHARE_CHOICE: ShareValue.ALL}}
    if mode is not None:
        values[BlockId.ACCESS_MODE] = {ActionId.ACCESS_MODE: mode}
    assert driver.submit(values).errors is None


def _stored(world: World) -> tuple[Datastore, list[AccessAudit]]:
    with world.bot.services.sessions() as session:
        datastore = session.scalars(select(Datastore)).one()
        audit = list(session.scalars(select(AccessAudit)))
        session.expunge_all()
        return datastore, audit


def test_each_person_is_the_default_and_is_stored(world: World) -> None:
    driver = _connected(world, "eng-wiki")
    element = _block(driver, BlockId.ACCESS_MODE)["element"]
    assert [o["value"] for o in element["options"]] == [AccessMode.EACH, AccessMode.EVERYONE]
    assert element["initial_option"]["value"] == AccessMode.EACH
    assert "Everyone in this workspace sees what Ada <!here> Lovelace can see" in element["options"][1]["text"]["text"]
    _grant(driver, None)  # submitted as shown: the initial option
    assert driver.callback_id() == CallbackId.WIZARD_SUMMARY
    assert "Each person sees what they can see in Confluence" in str(driver.view.blocks)
    assert driver.submit().json == {"response_action": "clear"}
    datastore, (audit,) = _stored(world)
    assert (datastore.access_mode, datastore.access_offer) == (AccessMode.EACH, None)
    assert (audit.source, audit.old_value, audit.new_value, audit.account_name) == ("wizard", None, "each", ACCOUNT)


def test_everyone_needs_the_confirmation_naming_the_account(world: World) -> None:
    driver = _connected(world, "eng-wiki")
    _grant(driver, AccessMode.EVERYONE)
    assert driver.callback_id() == CallbackId.WIZARD_CONFIRM_ACCESS
    warning = str(_block(driver, BlockId.ACCESS_CONFIRM)["text"]["text"])
    assert "*Everyone in this Slack workspace* who searches *eng-wiki* will see what" in warning
    assert "*Ada &lt;!here&gt; Lovelace*" in warning and "<!here>" not in warning
    with world.bot.services.sessions() as session:
        assert session.scalars(select(Wizard.access_mode)).one() is None  # nothing chosen until confirmed

    driver.click(ActionId.ACCESS_BACK)  # "Back": the choice again
    assert driver.callback_id() == CallbackId.WIZARD_GRANT_ACCESS
    assert _block(driver, BlockId.ACCESS_MODE)["element"]["initial_option"]["value"] == AccessMode.EACH

    _grant(driver, AccessMode.EVERYONE)
    assert driver.submit().errors is None  # "Yes, everyone"
    assert driver.callback_id() == CallbackId.WIZARD_SUMMARY
    assert "Everyone in this workspace sees what *Ada &lt;!here&gt; Lovelace* can see" in str(driver.view.blocks)
    assert driver.submit().json == {"response_action": "clear"}
    datastore, (audit,) = _stored(world)
    assert (datastore.access_mode, datastore.access_account_name, datastore.access_offer) == (
        AccessMode.EVERYONE,
        ACCOUNT,
        None,
    )
    assert (audit.source, audit.new_value, audit.account_name) == ("wizard", "everyone", ACCOUNT)
