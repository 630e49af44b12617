"""A headless MCP Apps host: each view runs in an iframe sandboxed with `allow-scripts` alone, on its own
origin, under the CSP a host applies by default, fed a real `tools/call` result from the sandbox gateway.

The host page (`host.html`) is served from one origin and the views, as `resources/read` returned them,
from another, with the MCP Apps default policy as a header (stable spec, "Security": used when
`_meta.ui.csp` declares no domain). The page reaches the gateway only through `gatewayCall`, a
function Playwright exposes, which posts a real JSON-RPC `tools/call` over HTTP: no request the
browser makes can be mistaken for one the view made.

Every test runs under two host bridges: `minimal`, written here from the spec, and `appbridge`, the
official MCP Apps SDK's `AppBridge` (`@modelcontextprotocol/ext-apps`, pinned and installed by
`scripts/install-node-clients`), bundled for the browser once per session with esbuild.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote

import httpx
import pytest
from playwright.async_api import FrameLocator
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import Route

from tests.browser import OpenPage, WatchedPage
from tests.conftest import LiveServer, serve
from tools.sandbox import SANDBOX_API_KEY, SandboxState

# MCP Apps 2026-01-26, "Security": the host's policy when a view declares no domains.
DEFAULT_VIEW_CSP: Final = (
    "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; media-src 'self' data:; connect-src 'none'; object-src 'none'"
)
HERE: Final = Path(__file__).parent
ROOT: Final = HERE.parents[2]
HOST_PAGE: Final = HERE / "host.html"
SCREENSHOTS: Final = ROOT / "landing" / "static" / "views"
NODE_MODULES: Final = ROOT / ".tools" / "node-clients" / "node_modules"
APP_BRIDGE: Final = NODE_MODULES / "@modelcontextprotocol" / "ext-apps" / "dist" / "src" / "app-bridge.js"
ESBUILD: Final = NODE_MODULES / ".bin" / "esbuild"
BUNDLE_TIMEOUT_SECONDS: Final = 60
# The hand-written bridge, and the official SDK's, which the README's screenshots come from.
HOSTS: Final = ("minimal", "appbridge")
SCREENSHOT_HOST: Final = "appbridge"
# The strictest sandbox a host may give a view: the spec promises it scripts and nothing more.
VIEW_SANDBOX: Final = "allow-scripts"
# The last size the view reported is the height the host gave its frame.
_SIZED: Final = """() => {
  const sizes = window.__log.filter((message) => message.method === "ui/notifications/size-changed");
  const last = sizes[sizes.length - 1];
  return Boolean(last) && document.getElementById("view").style.height === `${last.params.height}px`;
}"""


@dataclass
class HostedView:
    """One view running in the harness: the watched host page, the view's frame, and its origin."""

    watched: WatchedPage
    frame: FrameLocator
    view_url: str
    host: str

    async def log(self) -> list[dict[str, Any]]:
        """Every message the view sent the host, in order."""
        messages: list[dict[str, Any]] = await self.watched.page.evaluate("window.__log")
        return messages

    async def requests(self, method: str) -> list[dict[str, Any]]:
        return [message for message in await self.log() if message.get("method") == method]

    async def evaluate(self, script: str) -> Any:
        """`script`'s value inside the view's document."""
        frame = self.watched.page.frame(url=self.view_url)
        assert frame is not None
        return await frame.evaluate(script)

    async def wait_until_sized(self) -> None:
        await self.watched.page.wait_for_function(_SIZED)

    async def change_host_context(self, update: dict[str, Any]) -> None:
        """Sends `ui/notifications/host-context-changed` through the host's bridge."""
        await self.watched.page.evaluate("(update) => window.changeHostContext(update)", update)

    async def screenshot(self, name: str) -> None:
        """Writes the README's screenshot `name`.png, from the official host only (one source per image)."""
        if self.host == SCREENSHOT_HOST:
            await self.watched.page.locator("#view").screenshot(path=SCREENSHOTS / f"{name}.png")


OpenView = Callable[..., Awaitable[HostedView]]


# A 2026-07-28 request declaring the MCP Apps extension, as a host that renders views does.
APPS_HOST_META: Final = {
    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
    "io.modelcontextprotocol/clientCapabilities": {
        "extensions": {"io.modelcontextprotocol/ui": {"mimeTypes": ["text/html;profile=mcp-app"]}}
    },
}


async def gateway_call(
    server: LiveServer, name: str, arguments: dict[str, Any], declares_apps: bool = False
) -> dict[str, Any]:
    """A real `tools/call` against the gateway, with the sandbox key; the CallToolResult.

    `declares_apps` sends it as a 2026-07-28 request from a host declaring MCP Apps.
    """
    params: dict[str, Any] = {"name": name, "arguments": arguments}
    headers = server.headers(SANDBOX_API_KEY) | {"accept": "application/json"}
    if declares_apps:
        params["_meta"] = APPS_HOST_META
        headers |= {"mcp-protocol-version": "2026-07-28", "mcp-method": "tools/call", "mcp-name": name}
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params}
    async with httpx.AsyncClient() as http:
        response = await http.post(f"{server.url}/mcp", json=body, headers=headers)
    result: dict[str, Any] = response.json()["result"]
    return result


def _rpc(server: LiveServer, method: str, params: dict[str, Any]) -> dict[str, Any]:
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
    response = httpx.post(f"{server.url}/mcp", json=body, headers=server.headers(SANDBOX_API_KEY))
    result: dict[str, Any] = response.json()["result"]
    return result


@pytest.fixture(scope="session")
def view_origin(tool_server: LiveServer) -> Iterator[str]:
    """Serves each view at `/<name>.html` exactly as the gateway's resources/read gave it."""
    documents = {}
    for resource in _rpc(tool_server, "resources/list", {})["resources"]:
        (contents,) = _rpc(tool_server, "resources/read", {"uri": resource["uri"]})["contents"]
        documents[resource["uri"].removeprefix("ui://openphone/")] = contents["text"]

    async def view(request: Request) -> Response:
        html = documents[request.path_params["name"]]
        return HTMLResponse(html, headers={"content-security-policy": DEFAULT_VIEW_CSP})

    yield from serve(Starlette(routes=[Route("/{name}", view)]))


@pytest.fixture(scope="session")
def app_bridge_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The official AppBridge and its dependencies as one ES module a browser can load."""
    if not (APP_BRIDGE.exists() and ESBUILD.exists()):
        pytest.fail("The MCP Apps SDK or esbuild is missing: run `bash scripts/install-node-clients`")
    bundle = tmp_path_factory.mktemp("app-bridge") / "app-bridge.mjs"
    command = [str(ESBUILD), str(APP_BRIDGE), "--bundle", "--format=esm", "--platform=browser"]
    subprocess.run(
        [*command, f"--outfile={bundle}", "--log-level=error"], check=True, timeout=BUNDLE_TIMEOUT_SECONDS
    )
    return bundle


@pytest.fixture(scope="session")
def host_origin(app_bridge_bundle: Path) -> Iterator[str]:
    """Serves the host page, its two bridges and the AppBridge bundle."""
    scripts = {f"{name}-host.mjs": HERE / f"{name}-host.mjs" for name in HOSTS}
    scripts["app-bridge.mjs"] = app_bridge_bundle

    async def host(request: Request) -> Response:
        return HTMLResponse(HOST_PAGE.read_text())

    async def script(request: Request) -> Response:
        return FileResponse(scripts[request.path_params["name"]], media_type="text/javascript")

    yield from serve(Starlette(routes=[Route("/host", host), Route("/{name}", script)]))


@pytest.fixture(params=HOSTS)
def view_host(request: pytest.FixtureRequest) -> str:
    """The host bridge a test runs under: each view test runs under both."""
    host: str = request.param
    return host


@pytest.fixture(scope="session")
def app_tools(tool_server: LiveServer) -> list[str]:
    """The tools a view may call: those whose `_meta.ui.visibility` includes "app"."""
    tools = _rpc(tool_server, "tools/list", {})["tools"]
    return [tool["name"] for tool in tools if "app" in tool["_meta"]["ui"]["visibility"]]


@pytest.fixture
def open_view(
    open_page: OpenPage,
    tool_server: LiveServer,
    host_origin: str,
    view_origin: str,
    app_tools: list[str],
    view_host: str,
    sandbox: SandboxState,
) -> OpenView:
    """Opens `view` in the host, fed the result of `tool` called with `arguments`, once it has rendered.

    `drop_structured` removes `structuredContent` from the result, as some hosts do;
    `refuse_messages` makes the host answer every `ui/message` with `isError: true`. `server` is the
    gateway the host calls (the session's tool server by default), as a host declaring MCP Apps when
    `declares_apps`.
    """

    async def open_one(
        view: str,
        tool: str,
        arguments: dict[str, Any],
        theme: str = "light",
        variables: Any = None,
        drop_structured: bool = False,
        refuse_messages: bool = False,
        server: LiveServer | None = None,
        declares_apps: bool = False,
    ) -> HostedView:
        view_url = f"{view_origin}/{view}.html"
        scenario = {
            "host": view_host,
            "view": view_url,
            "tool": tool,
            "arguments": arguments,
            "theme": theme,
            "variables": variables or {},
            "appTools": app_tools,
            "dropStructured": drop_structured,
            "refuseMessages": refuse_messages,
        }
        call = partial(gateway_call, server or tool_server, declares_apps=declares_apps)
        watched = await open_page(
            f"{host_origin}/host?scenario={quote(json.dumps(scenario))}",
            functions={"gatewayCall": call},
            viewport={"width": 600, "height": 900},
        )
        assert await watched.page.locator("#view").get_attribute("sandbox") == VIEW_SANDBOX
        frame = watched.page.frame_locator("#view")
        await frame.locator("#app h1, #app [role=alert]").first.wait_for()
        return HostedView(watched, frame, view_url, view_host)

    return open_one
