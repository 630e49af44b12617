"""The lock (uv.lock, exported to requirements/*.txt) against pyproject.toml, and what it installs.

pyproject.toml's ranges say what should work; the lock says what was tested, and every install (the
tests, the quick start, the image) takes exactly the lock. These tests fail when the two drift apart,
when an export no longer is what the lock gives, or when the runtime set alone cannot run the
gateway. They run offline: `scripts/install` has already fetched every locked file, hash-checked,
into .cache/wheels/.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = ROOT / "requirements"
WHEELS = ROOT / ".cache" / "wheels"
VENV_BIN = Path(sys.executable).parent
EXPORTS = sorted(path.stem for path in REQUIREMENTS.glob("*.txt"))
PACKAGES = ("gateway", "oauth", "tools", "landing")


def _toml(path: Path) -> dict[str, Any]:
    with path.open("rb") as file:
        return tomllib.load(file)


PROJECT = _toml(ROOT / "pyproject.toml")
LOCKED = {canonicalize_name(package["name"]): package for package in _toml(ROOT / "uv.lock")["package"]}
DIRECT = [
    *PROJECT["build-system"]["requires"],
    *PROJECT["project"]["dependencies"],
    *(spec for specs in PROJECT["project"]["optional-dependencies"].values() for spec in specs),
    *(spec for specs in PROJECT["dependency-groups"].values() for spec in specs),
]


def _body(text: str) -> list[str]:
    """An export without its header comment (which names the file it was written to)."""
    return [line for line in text.splitlines() if not line.startswith("#")]


def _name(spec: str) -> str:
    return canonicalize_name(Requirement(spec).name)


def _pinned(path: Path) -> dict[str, str]:
    """The `name==version` pins of an export that apply to this interpreter, by canonical name."""
    pins: dict[str, str] = {}
    for line in path.read_text().splitlines():
        if "==" in line and not line.startswith((" ", "#")):
            requirement = Requirement(line.removesuffix("\\").strip())
            if requirement.marker is None or requirement.marker.evaluate():
                pins[canonicalize_name(requirement.name)] = str(requirement.specifier).removeprefix("==")
    return pins


@pytest.mark.parametrize("spec", DIRECT, ids=DIRECT)
def test_every_direct_dependency_is_locked_within_its_range(spec: str) -> None:
    """Each requirement pyproject.toml states (runtime, test extra, build) has a locked version in range."""
    requirement = Requirement(spec)
    package = LOCKED.get(canonicalize_name(requirement.name))
    assert package is not None, f"{requirement.name} is not in uv.lock: run scripts/upgrade-deps"
    assert requirement.specifier.contains(package["version"], prereleases=True), (
        f"uv.lock has {requirement.name} {package['version']}, outside {requirement.specifier}"
    )


def test_the_lock_pins_redis_where_the_type_checker_was_run() -> None:
    """mypy passes with the locked redis-py (8.2 annotates PubSub.aclose, which 8.1 did not)."""
    assert LOCKED[canonicalize_name("redis")]["version"].startswith("8.2.")


@pytest.mark.parametrize("name", EXPORTS)
def test_each_export_is_what_the_lock_gives(name: str) -> None:
    """requirements/<name>.txt is exactly what its recorded `uv export` command makes of uv.lock."""
    path = REQUIREMENTS / f"{name}.txt"
    command = shlex.split(path.read_text().splitlines()[1].lstrip("# "))
    assert command[:2] == ["uv", "export"]
    assert command[-2:] == ["-o", f"requirements/{name}.txt"]
    assert {"--frozen", "--offline"} <= set(command), "an export must not resolve again"
    made = subprocess.run(
        [str(VENV_BIN / "uv"), *command[1:-2]],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert _body(made.stdout) == _body(path.read_text())


@pytest.mark.parametrize("name", EXPORTS)
def test_every_pin_carries_its_hashes(name: str) -> None:
    """pip's --require-hashes refuses a pin without a hash: each `name==version` line has one."""
    lines = (REQUIREMENTS / f"{name}.txt").read_text().splitlines()
    pins = [index for index, line in enumerate(lines) if "==" in line and not line.startswith((" ", "#"))]
    assert pins
    for index in pins:
        assert lines[index + 1].strip().startswith("--hash=sha256:"), lines[index]


def test_the_runtime_set_holds_no_test_tool() -> None:
    """The image gets the runtime set: the test extra's tools stay out of it."""
    runtime = _pinned(REQUIREMENTS / "runtime.txt")
    test_only = {_name(spec) for spec in PROJECT["project"]["optional-dependencies"]["test"]}
    assert test_only & runtime.keys() == set()
    assert {_name(spec) for spec in PROJECT["project"]["dependencies"]} <= runtime.keys()


def test_the_test_set_runs_this_suite() -> None:
    """This interpreter's packages are the locked versions (scripts/install installed the lock)."""
    from importlib.metadata import version

    for name, pinned in _pinned(REQUIREMENTS / "test.txt").items():
        assert version(name) == pinned, name


@pytest.mark.timeout(600)
def test_a_fresh_virtualenv_given_only_the_runtime_lock_imports_the_gateway(tmp_path: Path) -> None:
    """The runtime lock alone, --no-deps, is complete: `pip check` passes and every module imports."""
    assert WHEELS.is_dir(), "run `bash scripts/install test` first: it fetches the locked files"
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for package in PACKAGES:
        shutil.copytree(ROOT / package, source / package, ignore=shutil.ignore_patterns("__pycache__"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = str(venv / "bin" / "python")
    offline = ["-m", "pip", "--disable-pip-version-check", "install", "--no-index", "--no-deps", "--quiet"]
    lock = ["--require-hashes", *(f"-r{REQUIREMENTS / name}.txt" for name in ("runtime", "build"))]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False)

    installed = run(python, *offline, "--find-links", str(WHEELS), *lock)
    assert installed.returncode == 0, installed.stderr[-2000:]
    built = run(python, *offline, "--no-build-isolation", str(source))
    assert built.returncode == 0, built.stderr[-2000:]
    checked = run(python, "-m", "pip", "--disable-pip-version-check", "check")
    assert checked.returncode == 0, checked.stdout
    imports = (
        "import importlib, pkgutil\n"
        f"for package in {PACKAGES!r}:\n"
        "    module = importlib.import_module(package)\n"
        "    for info in pkgutil.walk_packages(module.__path__, package + '.'):\n"
        "        importlib.import_module(info.name)\n"
        "print('imported')\n"
    )
    imported = run(python, "-c", imports)
    assert (imported.returncode, imported.stdout) == (0, "imported\n"), imported.stderr[-2000:]
    tools = run(str(venv / "bin" / "openphone-mcp"), "tools")
    assert tools.returncode == 0, tools.stderr[-2000:]
    assert "| `send-message` |" in tools.stdout
