"""A headless MCP Apps host: each view runs in a sandboxed iframe on its own origin, under the CSP a host
applies by default, fed a real `tools/call` result from the sandbox gateway.

The host page (`host.html`) is served from one origin and the views, as `resources/read` returned them,
from another, with the MCP Apps default policy as a header (stable spec, "Security": used when
`_meta.ui.csp` declares no domain). The page reaches the gateway only through `gatewayCall`, a
function Playwright exposes, which posts a real JSON-RPC `tools/call` over HTTP: no request the
browser makes can be mistaken for one the view made.
"""

from __future__ import annotations

import json
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
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from tests.browser import OpenPage, WatchedPage
from tests.conftest import LiveServer, serve
from tools.sandbox import SANDBOX_API_KEY, SandboxState

# MCP Apps 2026-01-26, "Security": the host's policy when a view declares no domains.
DEFAULT_VIEW_CSP: Final = (
    "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; media-src 'self' data:; connect-src 'none'; object-src 'none'"
)
HOST_PAGE: Final = Path(__file__).with_name("host.html")
SCREENSHOTS: Final = Path(__file__).resolve().parents[3] / "landing" / "static" / "views"
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
def host_origin() -> Iterator[str]:
    async def host(request: Request) -> Response:
        return HTMLResponse(HOST_PAGE.read_text())

    yield from serve(Starlette(routes=[Route("/host", host)]))


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
    sandbox: SandboxState,
) -> OpenView:
    """Opens `view` in the host, fed the result of `tool` called with `arguments`, once it has rendered.

    `drop_structured` removes `structuredContent` from the result, as some hosts do. `server` is the
    gateway the host calls (the session's tool server by default), as a host declaring MCP Apps when
    `declares_apps`; `frame_sandbox` is the frame's sandbox attribute (the harness's own by default).
    """

    async def open_one(
        view: str,
        tool: str,
        arguments: dict[str, Any],
        theme: str = "light",
        variables: Any = None,
        drop_structured: bool = False,
        server: LiveServer | None = None,
        declares_apps: bool = False,
        frame_sandbox: str | None = None,
    ) -> HostedView:
        view_url = f"{view_origin}/{view}.html"
        scenario = {
            "view": view_url,
            "tool": tool,
            "arguments": arguments,
            "theme": theme,
            "variables": variables or {},
            "appTools": app_tools,
            "dropStructured": drop_structured,
            "sandbox": frame_sandbox,
        }
        call = partial(gateway_call, server or tool_server, declares_apps=declares_apps)
        watched = await open_page(
            f"{host_origin}/host?scenario={quote(json.dumps(scenario))}",
            functions={"gatewayCall": call},
            viewport={"width": 600, "height": 900},
        )
        frame = watched.page.frame_locator("#view")
        await frame.locator("#app h1, #app [role=alert]").first.wait_for()
        return HostedView(watched, frame, view_url)

    return open_one
