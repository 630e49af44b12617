"""`gateway/` is laid out by what each part does, and imports point one way: down.

A request enters at the edge, meets a transport, then the protocol core, then a tool. Each folder may
import the folders below it, operations (which every layer uses) and the foundation (settings, keys,
errors), never one above it; the foundation imports none of them. The app factory, the CLI and the
wiring of shared state (`shared_state`, `redis/`) sit on top and may import anything.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

GATEWAY = Path(__file__).resolve().parents[2] / "gateway"
# Lower numbers are lower layers.
LAYERS = {"foundation": 0, "operations": 1, "protocol": 2, "transports": 3, "edge": 4}
FOUNDATION = frozenset({"settings", "keys", "errors"})
WIRING = frozenset({"app", "cli", "shared_state", "__main__", "__init__", "redis"})


def layer_of(module: str) -> str:
    """The layer of a dotted module under `gateway` (`gateway.edge.auth` -> "edge")."""
    parts = module.split(".")
    name = parts[1] if len(parts) > 1 else "__init__"
    if name in FOUNDATION:
        return "foundation"
    if name in WIRING:
        return "wiring"
    return name


def gateway_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("gateway"):
            found |= {
                f"{node.module}.{alias.name}" if node.module == "gateway" else node.module
                for alias in node.names
            }
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("gateway.")}
    return found


MODULES = sorted(GATEWAY.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=[str(path.relative_to(GATEWAY)) for path in MODULES])
def test_imports_point_down(path: Path) -> None:
    module = ".".join(("gateway", *path.relative_to(GATEWAY).with_suffix("").parts))
    own = layer_of(module)
    if own == "wiring":
        return
    upward = sorted(
        imported
        for imported in gateway_imports(path)
        if (other := layer_of(imported)) == "wiring" or (other != own and LAYERS[other] >= LAYERS[own])
    )
    assert upward == []


def test_every_folder_is_a_known_layer() -> None:
    folders = {path.name for path in GATEWAY.iterdir() if path.is_dir() and not path.name.startswith("__")}
    assert folders == {"edge", "transports", "protocol", "operations", "redis"}
