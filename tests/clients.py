"""The official MCP SDK client, connected to a live gateway the way real hosts connect."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import httpx2
from mcp import Client
from mcp.client.session import ElicitationFnT
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from mcp_types import CallToolResult, TextContent

from tests.conftest import TEST_API_KEY, LiveServer


def connect(
    server: LiveServer, transport: str, mode: str, api_key: str = TEST_API_KEY, **headers: str
) -> AbstractAsyncContextManager[Client]:
    """An SDK client on `transport` ("streamable", or a legacy SSE path such as "/sse") in `mode`."""
    return connect_asking(server, transport, mode, None, api_key, **headers)


@asynccontextmanager
async def connect_asking(
    server: LiveServer,
    transport: str,
    mode: str,
    elicitation_callback: ElicitationFnT | None,
    api_key: str = TEST_API_KEY,
    **headers: str,
) -> AsyncIterator[Client]:
    """`connect`, answering elicitations with `elicitation_callback` (the SDK then declares form and
    URL mode; without one it declares no elicitation)."""
    all_headers = server.headers(api_key, **headers)
    if transport == "streamable":
        http = httpx2.AsyncClient(headers=all_headers, timeout=httpx2.Timeout(30, read=60))
        streams = streamable_http_client(f"{server.url}/mcp", http_client=http)
        async with http, Client(streams, mode=mode, elicitation_callback=elicitation_callback) as client:
            yield client
    else:
        legacy = sse_client(f"{server.url}{transport}", headers=all_headers)
        async with Client(legacy, mode=mode, elicitation_callback=elicitation_callback) as client:
            yield client


def text_of(result: CallToolResult) -> str:
    """The first content block, which must be text."""
    block = result.content[0]
    assert isinstance(block, TextContent)
    return block.text
