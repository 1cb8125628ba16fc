"""manifest.yml validates against Slack's official app-manifest schema and describes this bot."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from referencing import Registry, Resource

from bot.app import BOT_SCOPES

ROOT = Path(__file__).resolve().parents[1]
SCHEMA_DIR = ROOT / "tests" / "specs" / "slack-manifest-schema"  # Slack's official schemas, copied
REMOTE = "https://raw.githubusercontent.com/slackapi/manifest-schema/v0.5.0/schemas/"


def _load_schema() -> tuple[dict[str, Any], Registry]:
    registry: Registry = Registry()
    for name in ("manifest.schema.1.0.0.json", "manifest.schema.2.0.0.json"):
        contents = json.loads((SCHEMA_DIR / f"slack-{name}").read_text())
        registry = registry.with_resource(REMOTE + name, Resource.from_contents(contents))
    top = json.loads((SCHEMA_DIR / "slack-manifest.schema.json").read_text())
    return top, registry


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / "manifest.yml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def test_manifest_validates_against_the_official_schema(manifest: dict[str, Any]) -> None:
    schema, registry = _load_schema()
    jsonschema.Draft7Validator(schema, registry=registry).validate(manifest)


def test_schema_validation_rejects_a_broken_manifest(manifest: dict[str, Any]) -> None:
    schema, registry = _load_schema()
    broken = json.loads(json.dumps(manifest))
    broken["features"]["slash_commands"][0]["command"] = "datastore"  # must start with "/"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft7Validator(schema, registry=registry).validate(broken)


def test_manifest_declares_what_the_bot_needs(manifest: dict[str, Any]) -> None:
    command = manifest["features"]["slash_commands"][0]
    assert command["command"] == "/datastore"
    assert command["url"].endswith("/slack/events")
    interactivity = manifest["settings"]["interactivity"]
    assert interactivity["is_enabled"] is True
    assert interactivity["request_url"].endswith("/slack/events")
    assert interactivity["message_menu_options_url"].endswith("/slack/events")
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == {
        "commands",
        "chat:write",
        "chat:write.public",
        "reactions:write",
        "users:read",
        "usergroups:read",  # datastores limited to a user group (issue #12)
        "im:write",
        "channels:history",  # reading back its own threads: is a post that timed out there already?
        "groups:history",
        "im:history",  # a datastore limited to the members of a user group
    }
    assert tuple(manifest["oauth_config"]["scopes"]["bot"]) == BOT_SCOPES
    assert manifest["oauth_config"]["redirect_urls"] == ["https://datastore-bot.example.com/slack/oauth_redirect"]
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    # user_change, tokens_revoked and app_uninstalled end person links (issue #12).
    assert manifest["settings"]["event_subscriptions"]["bot_events"] == [
        "app_home_opened",
        "user_change",
        "tokens_revoked",
        "app_uninstalled",
    ]
