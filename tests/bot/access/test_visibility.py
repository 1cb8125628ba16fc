"""Nothing in a per-person ("each") path can end up unfiltered: there is no default, no implicit
``everyone()``, and the one place a mode becomes a filter never gives "each" anything but ACL ids."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

import storage.search
from bot.access.filter import visibility_for
from bot.access.model import AccessMode
from storage.search import Visibility, count_hits, search

ROOT = Path(__file__).resolve().parents[3]
#: Every production call of Visibility.everyone(), each reviewed: the mode dispatch, and the callers that
#: serve only "everyone" datastores until per-person search lands (step 5), and the operators' CLI.
EVERYONE_CALLERS = {
    "bot/access/filter.py": 1,  # visibility_for(AccessMode.EVERYONE, ...)
    "bot/datastores/queries.py": 1,  # Slack search: every datastore is "everyone" until step 5 routes it
    "bot/cli_datastores.py": 1,  # operators see what the connecting account sees (--help says so, step 6)
}


def test_visibility_cannot_be_made_implicitly() -> None:
    with pytest.raises(TypeError):
        Visibility()  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Visibility(object(), None)
    for bad in (None, set(), [1], {1}, (1,), frozenset({"1"}), frozenset({True}), frozenset({1.0})):
        with pytest.raises(TypeError):
            Visibility.acls(bad)  # type: ignore[arg-type]
    assert Visibility.acls(frozenset()).shows_nothing and not Visibility.acls(frozenset()).is_everyone
    assert Visibility.everyone().is_everyone and not Visibility.everyone().shows_nothing
    assert not Visibility.acls(frozenset({1})).allows(None) and Visibility.everyone().allows(None)
    with pytest.raises(ValueError):
        _ = Visibility.everyone().acl_ids


@pytest.mark.parametrize("function", [search, count_hits])
def test_the_filter_is_a_required_keyword_with_no_default(function: object) -> None:
    parameter = inspect.signature(function).parameters["visible"]  # type: ignore[arg-type]
    assert parameter.kind is inspect.Parameter.KEYWORD_ONLY and parameter.default is inspect.Parameter.empty
    with pytest.raises(TypeError):
        function(None, datastore_id=1, query="x")  # type: ignore[operator]
    for bad in (None, frozenset({1}), True, "everyone"):
        with pytest.raises(TypeError):  # refused before the session is touched
            function(None, datastore_id=1, query="x", visible=bad)  # type: ignore[operator]


@pytest.mark.parametrize("mode", [AccessMode.EACH, "each"])
@pytest.mark.parametrize("ids", [None, frozenset(), frozenset({1, 2})])
def test_each_mode_never_builds_everyone(mode: AccessMode | str, ids: frozenset[int] | None) -> None:
    visible = visibility_for(mode, ids)
    assert not visible.is_everyone and visible != Visibility.everyone()
    assert visible.acl_ids == (ids or frozenset())


def test_an_unknown_mode_is_refused_not_widened() -> None:
    for mode in ("", "Everyone", "all", "EACH"):
        with pytest.raises(ValueError):
            visibility_for(mode, None)
    assert visibility_for(AccessMode.EVERYONE, None) == Visibility.everyone()


def _everyone_calls(path: Path) -> int:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return sum(
        1
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr == "everyone" and not isinstance(node.ctx, ast.Store)
    )


def test_every_everyone_call_in_the_app_is_a_reviewed_one() -> None:
    """A new ``.everyone`` reference anywhere in bot/, handlers/ or storage/ fails here until it is reviewed
    (and listed above): that is how a per-person path cannot quietly reach the unfiltered search."""
    calls = {}
    for package in ("bot", "handlers", "storage"):
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if relative == "storage/visibility.py":
                continue  # the definition
            if count := _everyone_calls(path):
                calls[relative] = count
    assert calls == EVERYONE_CALLERS
    assert storage.search.Visibility is Visibility
