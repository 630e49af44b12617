"""The official MCP SDK client, connected to a live gateway the way real hosts connect."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx2
from mcp import Client
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from mcp_types import CallToolResult, TextContent

from tests.conftest import TEST_API_KEY, LiveServer


@asynccontextmanager
async def connect(
    server: LiveServer, transport: str, mode: str, api_key: str = TEST_API_KEY, **headers: str
) -> AsyncIterator[Client]:
    """An SDK client on `transport` ("streamable", or a legacy SSE path such as "/sse") in `mode`."""
    all_headers = server.headers(api_key, **headers)
    if transport == "streamable":
        http = httpx2.AsyncClient(headers=all_headers, timeout=httpx2.Timeout(30, read=60))
        transport_streams = streamable_http_client(f"{server.url}/mcp", http_client=http)
        async with http, Client(transport_streams, mode=mode) as client:
            yield client
    else:
        async with Client(sse_client(f"{server.url}{transport}", headers=all_headers), mode=mode) as client:
            yield client


def text_of(result: CallToolResult) -> str:
    """The first content block, which must be text."""
    block = result.content[0]
    assert isinstance(block, TextContent)
    return block.text
