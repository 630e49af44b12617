"""The apps the gateway is measured against, and the fake OpenPhone they all call.

* `upstream_app`: OpenPhone's `GET /v1/phone-numbers`, answered with the sandbox's own response (which
  the spec tests hold to OpenPhone's OpenAPI document), as fixed bytes.
* `sdk_app` / `sdk_sse_app`: the official `mcp` SDK's `MCPServer` with an equivalent `list-phone-numbers`
  tool, Streamable HTTP in its stateless JSON mode or its legacy SSE app.
* `bare_app`: the ceiling of this stack: a Starlette endpoint making the same upstream call and wrapping
  the body in a JSON-RPC result, with no MCP, validation or auth at all.

Every peer reaches the upstream through one pooled `aiohttp` session, the client the gateway uses, so
the comparison weighs the server and not the HTTP client. The bare endpoint can also use httpx, for the
comparison that chose aiohttp as the gateway's upstream client.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any, Final

import aiohttp
import httpx
import orjson
from httpx_aiohttp import AiohttpTransport
from mcp.server.mcpserver import MCPServer
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from tools.sandbox import SANDBOX_API_KEY, create_sandbox_app

PHONE_NUMBERS_PATH: Final = "/v1/phone-numbers"
POOL_SIZE: Final = 100


async def phone_numbers_body() -> bytes:
    """The sandbox's answer to `GET /v1/phone-numbers`: spec-shaped by the sandbox's own tests."""
    transport = httpx.ASGITransport(app=create_sandbox_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
        response = await client.get(PHONE_NUMBERS_PATH, headers={"authorization": SANDBOX_API_KEY})
    response.raise_for_status()
    return response.content


def upstream_app(body: bytes) -> Any:
    """A bare ASGI app answering every request with `body`: the cheapest possible OpenPhone."""
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    start = {"type": "http.response.start", "status": 200, "headers": headers}
    payload = {"type": "http.response.body", "body": body}

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await send(start)
            await send(payload)

    return app


class Upstream:
    """One pooled client session to the fake OpenPhone, opened on first use in the serving loop.

    `client` is `aiohttp` (what the gateway and every peer use), or, for the client comparison,
    `httpx` with its default transport or `httpx-aiohttp` (httpx over aiohttp's transport). All get
    the same pool of up to 100 connections, all of which may stay alive.
    """

    def __init__(self, base_url: str, client: str = "aiohttp") -> None:
        self._url = f"{base_url}{PHONE_NUMBERS_PATH}"
        self._client = client
        self._session: aiohttp.ClientSession | None = None
        self._httpx: httpx.AsyncClient | None = None

    async def phone_numbers(self) -> bytes:
        headers = {"authorization": SANDBOX_API_KEY}
        if self._client != "aiohttp":
            response = await self._open_httpx().get(self._url, headers=headers)
            response.raise_for_status()
            return response.content
        if self._session is None:
            self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=POOL_SIZE))
        async with self._session.get(self._url, headers=headers) as answer:
            answer.raise_for_status()
            return await answer.read()

    def _open_httpx(self) -> httpx.AsyncClient:
        if self._httpx is None:
            limits = httpx.Limits(max_connections=POOL_SIZE, max_keepalive_connections=POOL_SIZE)
            transport = AiohttpTransport(limits=limits) if self._client == "httpx-aiohttp" else None
            self._httpx = httpx.AsyncClient(limits=limits, transport=transport)
        return self._httpx

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
        if self._httpx is not None:
            await self._httpx.aclose()


def _sdk_server(upstream: Upstream) -> MCPServer:
    # WARNING, not the SDK's default INFO: the peer is spared any per-request logging cost.
    server = MCPServer("sdk-peer", log_level="WARNING")

    @server.tool(name="list-phone-numbers", description="List your workspace's OpenPhone numbers.")
    async def list_phone_numbers() -> dict[str, Any]:
        data = orjson.loads(await upstream.phone_numbers())
        return {"phoneNumbers": data["data"]}

    return server


def sdk_app(upstream_url: str) -> Starlette:
    """The SDK's Streamable HTTP app, stateless with JSON responses: its fastest configuration."""
    upstream = Upstream(upstream_url)
    return _sdk_server(upstream).streamable_http_app(stateless_http=True, json_response=True)


def sdk_sse_app(upstream_url: str) -> Starlette:
    """The SDK's legacy HTTP+SSE app (`GET /sse`, `POST /messages/`)."""
    upstream = Upstream(upstream_url)
    return _sdk_server(upstream).sse_app()


def bare_app(upstream_url: str, client: str = "aiohttp") -> Starlette:
    """The ceiling: POST a JSON-RPC request, get the upstream body back as a tool result."""
    upstream = Upstream(upstream_url, client)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await upstream.close()

    async def call(request: Request) -> Response:
        message = orjson.loads(await request.body())
        body = await upstream.phone_numbers()
        result = {"content": [{"type": "text", "text": body.decode()}], "isError": False}
        answer = orjson.dumps({"jsonrpc": "2.0", "id": message["id"], "result": result})
        return Response(answer, media_type="application/json")

    async def healthz(request: Request) -> Response:
        return Response(b"ok")

    return Starlette(
        routes=[Route("/mcp", call, methods=["POST"]), Route("/healthz", healthz)], lifespan=lifespan
    )
