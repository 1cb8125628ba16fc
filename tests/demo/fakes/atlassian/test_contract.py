"""Contract test: v2 responses validate against the official OpenAPI schemas, made strict.

The spec's schemas allow any extra property, so before validating we (1) set
``additionalProperties: false`` on every object schema that lists properties, (2) turn OpenAPI
``nullable`` into JSON-Schema null unions and (3) merge the ``allOf`` used by single-entity
responses.  Extra, misspelled or mistyped fields therefore fail the test.
"""

from __future__ import annotations

import copy
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from demo.fakes.atlassian import PERMISSION_SCOPES, AccountStatus, EmailVisibility, FakeAtlassian

SPEC_PATH = Path(__file__).resolve().parents[3] / "specs" / "confluence-cloud-openapi-v2-subset.json"
URI = "urn:confluence-v2"
ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def _strict(node: Any) -> Any:
    if isinstance(node, list):
        return [_strict(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _strict(value) for key, value in node.items()}
    if out.pop("nullable", False) and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    if out.get("type") == "object" and "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    return out


def _deref(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref", "")
    if not ref.startswith("#/"):
        return node
    target: Any = spec
    for part in ref[2:].split("/"):
        target = target[part.replace("~1", "/").replace("~0", "~")]
    return copy.deepcopy(target)


def _merge(spec: dict[str, Any], left: dict[str, Any], right: dict[str, Any]) -> dict[str, Any]:
    left, right = _deref(spec, left), _deref(spec, right)
    merged = {**left, **{k: v for k, v in right.items() if k != "properties"}}
    properties = dict(left.get("properties", {}))
    for name, schema in right.get("properties", {}).items():
        properties[name] = _merge(spec, properties[name], schema) if name in properties else schema
    merged["properties"] = properties
    return merged


def _flatten_all_of(spec: dict[str, Any], node: Any) -> Any:
    if isinstance(node, list):
        return [_flatten_all_of(spec, item) for item in node]
    if not isinstance(node, dict):
        return node
    if "allOf" in node:
        merged: dict[str, Any] = {"type": "object"}
        for branch in node["allOf"]:
            merged = _merge(spec, merged, branch)
        return merged
    return {key: _flatten_all_of(spec, value) for key, value in node.items()}


@cache
def _spec() -> dict[str, Any]:
    spec = json.loads(SPEC_PATH.read_text())
    return dict(_strict(_flatten_all_of(spec, spec)))


def _validator(path: str, method: str = "get") -> Draft202012Validator:
    spec = _spec()
    registry = Registry().with_resource(URI, Resource.from_contents(spec, default_specification=DRAFT202012))
    pointer = path.replace("~", "~0").replace("/", "~1")
    ref = f"{URI}#/paths/{pointer}/{method}/responses/200/content/application~1json/schema"
    return Draft202012Validator({"$ref": ref}, registry=registry)


def _check(path: str, payload: Any, method: str = "get") -> None:
    errors = sorted(_validator(path, method).iter_errors(payload), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:5])


def _timestamps(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [v for k, v in node.items() if k == "createdAt"] + [t for v in node.values() for t in _timestamps(v)]
    if isinstance(node, list):
        return [t for v in node for t in _timestamps(v)]
    return []


def test_strictness_catches_extra_fields() -> None:
    with pytest.raises(AssertionError):
        _check("/pages/{id}", {"id": "1", "surprise": True})
    with pytest.raises(AssertionError):
        _check("/pages/{id}", {"id": 1})


@pytest.mark.parametrize(
    ("spec_path", "url"),
    [
        ("/spaces", "/spaces?limit=2&description-format=plain"),
        ("/spaces/{id}", "/spaces/{space}"),
        ("/spaces/{id}/pages", "/spaces/{space}/pages?limit=5&body-format=storage"),
        ("/pages", "/pages?limit=5&body-format=storage"),
        ("/pages", "/pages?limit=5&body-format=atlas_doc_format&status=trashed,current"),
        ("/pages/{id}", "/pages/{page}?body-format=storage"),
        ("/pages/{id}", "/pages/{page}"),
        ("/spaces/{id}/blogposts", "/spaces/{space}/blogposts?body-format=storage"),
        ("/blogposts", "/blogposts?limit=2"),
        ("/blogposts/{id}", "/blogposts/{blog}?body-format=storage"),
    ],
)
def test_v2_responses_match_openapi(fake: FakeAtlassian, api: httpx.Client, spec_path: str, url: str) -> None:
    space = fake.site.space_by_key("ENG")
    assert space is not None and space.homepage_id is not None
    fake.site.trash_page(space.homepage_id + 1)
    blog = fake.site.ids("blogpost", space.id)[0]
    concrete = url.format(space=space.id, page=space.homepage_id + 2, blog=blog)
    response = api.get(f"/wiki/api/v2{concrete}")
    assert response.status_code == 200, response.text
    _check(spec_path, response.json())
    stamps = _timestamps(response.json())
    assert stamps and all(ISO_MS.match(s) for s in stamps)


@pytest.mark.parametrize(
    ("spec_path", "url"),
    [
        ("/spaces", "/spaces?limit=1"),
        ("/spaces/{id}/pages", "/spaces/{space}/pages?limit=5"),
        ("/spaces/{id}/blogposts", "/spaces/{space}/blogposts?limit=1"),
        ("/pages", "/pages?limit=5"),
        ("/blogposts", "/blogposts?limit=1"),
    ],
)
def test_v2_lists_send_the_link_header_the_spec_documents(
    fake: FakeAtlassian, api: httpx.Client, spec_path: str, url: str
) -> None:
    documented = _spec()["paths"][spec_path]["get"]["responses"]["200"].get("headers", {})
    assert "Link" in documented
    # The spec's example: `</wiki/api/v2/…?cursor=<opaque cursor token>>; rel="next", <https://site…>; rel="base"`
    example = re.search(r"Link: (<[^`]*)`", documented["Link"]["description"])
    assert example is not None
    shape = (
        re.escape(example.group(1))
        .replace(re.escape("<opaque cursor token>"), r"[^>]+")
        .replace(re.escape("<id>"), r"\d+")
        .replace("site", "[a-z0-9-]+")
        .replace(r"\?cursor=", r"\?(?:[^>]*&)?cursor=")  # the fake keeps the request's own parameters too
    )
    space = fake.site.space_by_key("ENG")
    assert space is not None
    response = api.get(f"/wiki/api/v2{url.format(space=space.id)}")
    following = response.json()["_links"]["next"]
    assert response.headers["link"] == f'<{following}>; rel="next", <{fake.hosted.wiki_base}>; rel="base"'
    assert re.fullmatch(shape, response.headers["link"]), (shape, response.headers["link"])


def test_permission_sync_answers_match_openapi(fake: FakeAtlassian) -> None:
    """Space permission assignments and the bulk user lookup, including hidden e-mails and odd accounts."""
    people = fake.site.people
    people.hide_email(fake.site.users[2].account_id, EmailVisibility.NULL)
    people.set_status(fake.site.users[3].account_id, AccountStatus.CLOSED)
    group = people.add_group("hr", [fake.site.users[1].account_id])
    space = fake.site.space_by_key("ENG")
    assert space is not None
    fake.site.permissions.grant(space.id, group.id)
    fake.site.permissions.grant(space.id, fake.site.users[4].account_id, [("read", "space")])
    token = fake.issue_token(PERMISSION_SCOPES)["access_token"]
    with httpx.Client(base_url=fake.wiki_url(), headers={"Authorization": f"Bearer {token}"}) as api:
        permissions = api.get(f"/api/v2/spaces/{space.id}/permissions", params={"limit": 3})
        assert permissions.status_code == 200, permissions.text
        _check("/spaces/{id}/permissions", permissions.json())
        assert permissions.json()["_links"]["next"].startswith(f"/wiki/api/v2/spaces/{space.id}/permissions?")
        ids = [u.account_id for u in fake.site.users]
        users = api.post("/api/v2/users-bulk", json={"accountIds": ids})
        assert users.status_code == 200, users.text
        _check("/users-bulk", users.json(), "post")
    kinds = {p["principal"]["type"] for p in permissions.json()["results"]}
    assert kinds <= {"user", "group"} and len(users.json()["results"]) == len(ids)
