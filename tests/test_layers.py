"""States are StrEnums, not strings: no bare state literal is compared with, assigned to or passed as a state
field anywhere in bot/, handlers/ or storage/ (the enum definitions and the migrations excepted).

The import contracts (handlers -> bot -> storage, slack_bolt only in bot.app, the demo imported by nothing that
serves) are checked by `lint-imports` in .ci/run, configured in pyproject.toml's [tool.importlinter].
"""

from __future__ import annotations

import ast
from enum import StrEnum
from pathlib import Path

import pytest

from storage import states

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "handlers", "storage")
#: Where state values are spelled out on purpose: the enums themselves, and migrations (frozen in time).
EXEMPT = ("storage/states.py", "storage/access_modes.py", "storage/migrations/")

#: Every value of every stored state enum.
STATE_ENUMS: tuple[type[StrEnum], ...] = (
    states.RunState,
    states.RunPhase,
    states.RunOutcome,
    states.PauseKind,
    states.RunTrigger,
    states.RunKind,
    states.ItemState,
    states.DatastoreStatus,
    states.WizardStatus,
    states.WizardPurpose,
    states.ConnectionStatus,
)
STATE_VALUES = frozenset(member.value for enum in STATE_ENUMS for member in enum)
#: Names of the fields (columns, snapshot fields, parameters) that hold one of those states.
STATE_FIELDS = frozenset({"state", "phase", "outcome", "pause_kind", "trigger", "status", "kind", "purpose"})
#: Run states: what the engine's entry points return.
RUN_STATES = frozenset(member.value for member in states.RunState)


def _is_state(node: ast.AST | None, values: frozenset[str] = STATE_VALUES) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in values


def _states_in(node: ast.AST) -> bool:
    """A state literal, or a tuple/list/set holding one (``status in ("open", ...)``)."""
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return any(_is_state(element) for element in node.elts)
    return _is_state(node)


def _is_field(node: ast.AST) -> bool:
    if isinstance(node, ast.Attribute):
        return node.attr in STATE_FIELDS
    return isinstance(node, ast.Name) and node.id in STATE_FIELDS


def _assigned(target: ast.AST, value: ast.AST) -> list[ast.AST]:
    """The state literals assigned to state fields (``run.state, run.outcome = "finished", outcome``)."""
    if isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple) and len(target.elts) == len(value.elts):
        return [found for t, v in zip(target.elts, value.elts, strict=True) for found in _assigned(t, v)]
    return [value] if _is_field(target) and _is_state(value) else []


def state_literals(source: str) -> list[tuple[int, str]]:
    """(line, literal) of every bare state literal the source compares with, assigns, passes or returns."""
    found: list[ast.AST] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            if any(_is_field(o) for o in operands):
                found += [o for o in operands if _states_in(o)]
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                found += _assigned(target, node.value)
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            found += _assigned(node.target, node.value)
        elif isinstance(node, ast.keyword):
            if node.arg in STATE_FIELDS and _states_in(node.value):
                found.append(node.value)
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and key.value in STATE_FIELDS and _states_in(value):
                    found.append(value)
        elif isinstance(node, ast.Return) and node.value is not None and _is_state(node.value, RUN_STATES):
            found.append(node.value)
    return sorted((getattr(n, "lineno", 0), ast.unparse(n)) for n in found)


def _sources() -> list[Path]:
    paths = [path for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py"))]
    return [path for path in paths if not path.relative_to(ROOT).as_posix().startswith(EXEMPT)]


@pytest.mark.parametrize(
    "source",
    [
        'if run.state == "paused": pass',
        'done = s.phase in ("initializing", "syncing_metadata")',
        'wizard.status = "abandoned"',
        'run.state, run.reason = "running", None',
        'queue_run(session, kind="incremental", trigger="schedule")',
        'update(SyncRun).values(state="queued")',
        'values = {"status": "needs_reconnect"}',
        'def run(self):\n    return "finished"',
        'ok = "synced" == outcome',
    ],
)
def test_the_check_finds_a_bare_state_literal(source: str) -> None:
    assert state_literals(source)


@pytest.mark.parametrize(
    "source",
    [
        "if run.state == RunState.PAUSED: pass",
        'if parsed.subcommand == "schedule": pass',  # a command's name, not a state
        'action = "retry" if trigger == RunTrigger.RETRY else "sync"',
        'refusal(name=name, action="reconnect")',
        'SPACE_KINDS = {"page": 1}',
    ],
)
def test_the_check_leaves_other_strings_alone(source: str) -> None:
    assert state_literals(source) == []


def test_no_bare_state_literal_is_left() -> None:
    sources = _sources()
    assert len(sources) > 100  # the tree was found
    left = [
        f"{path.relative_to(ROOT)}:{line}: {literal}"
        for path in sources
        for line, literal in state_literals(path.read_text(encoding="utf-8"))
    ]
    assert left == [], "use the StrEnums of storage/states.py (bot.states in handlers):\n" + "\n".join(left)


def sessions_opened(source: str) -> list[int]:
    """Lines that reach for a database session (``services.sessions``, ``session.get``/``add``...)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr in ("sessions", "engine"):
            found.append(node.lineno)
        elif isinstance(node, ast.Name) and node.id == "session":
            found.append(node.lineno)
    return sorted(found)


def test_the_session_check_finds_a_session() -> None:
    assert sessions_opened("with self.services.sessions.begin() as session:\n    session.add(row)") == [1, 1, 2]
    assert sessions_opened("self.queries.get(team_id, datastore_id)") == []


def test_no_handler_opens_a_session() -> None:
    """Every read and write from Slack goes through a typed function of bot/ (the import contract keeps
    storage and sqlalchemy out of handlers/; this keeps ``services.sessions`` out too)."""
    handlers = sorted((ROOT / "handlers").rglob("*.py"))
    assert handlers
    opened = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in handlers
        for line in sessions_opened(path.read_text(encoding="utf-8"))
    ]
    assert opened == [], "move these behind a function of bot/:\n" + "\n".join(opened)
