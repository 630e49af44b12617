"""A legacy HTTP+SSE MCP client for load: `GET /sse`, then `POST` to the announced endpoint, with every
answer read off the stream. Built on aiohttp so thousands of sessions fit in one process.

`KeepAliveSSESession` posts over a connection of its own instead, written and read directly: the
round-trip benchmark shares its core with the fake OpenPhone, and aiohttp's POST alone cost the client
more CPU than a round trip costs the gateway, so the client, not the server, set the pace.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from typing import Any, cast
from urllib.parse import urljoin, urlsplit

import aiohttp
import httptools
import orjson

INITIALIZE_PARAMS: dict[str, Any] = {
    "protocolVersion": "2024-11-05",
    "capabilities": {},
    "clientInfo": {"name": "benchmark", "version": "1"},
}


class UnexpectedStatus(RuntimeError):
    """The server answered a stream's GET or a message's POST with a status other than expected."""

    def __init__(self, request: str, status: int) -> None:
        super().__init__(f"{request} answered {status}")
        self.status = status


class SSESession:
    """One open stream and the endpoint its messages go to; answers are matched to requests by id.

    `unmatched` counts answers that matched no waiting request: duplicates, or answers that came after
    their request gave up waiting.
    """

    def __init__(
        self, http: aiohttp.ClientSession, base_url: str, headers: dict[str, str], post_url: str | None = None
    ) -> None:
        """`post_url`: where the POSTs go, when not to the stream's own server (another machine)."""
        self._http = http
        self._base_url = base_url
        self._post_url = post_url or base_url
        self._headers = headers
        # Another machine behind the same public URL: the POST carries the stream's Host, as a proxy's would.
        self._post_headers = {
            **headers,
            "content-type": "application/json",
            "host": urlsplit(base_url).netloc,
        }
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._ids = itertools.count(1)
        self._endpoint: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._reader: asyncio.Task[None] | None = None
        self._response: aiohttp.ClientResponse | None = None
        self.keepalives = 0
        self.unmatched = 0

    async def open(self, path: str = "/sse") -> None:
        """Open the stream and wait for its `endpoint` event."""
        headers = {**self._headers, "accept": "text/event-stream"}
        self._response = await self._http.get(f"{self._base_url}{path}", headers=headers)
        if self._response.status != 200:
            raise UnexpectedStatus(f"GET {path}", self._response.status)
        self._reader = asyncio.create_task(self._read(self._response))
        await asyncio.wait_for(asyncio.shield(self._endpoint), timeout=30)

    async def initialize(self) -> None:
        await self.request("initialize", INITIALIZE_PARAMS)
        await self.notify("notifications/initialized")

    async def request(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """Post a request and wait for its answer on the stream."""
        request_id = next(self._ids)
        answer = asyncio.get_running_loop().create_future()
        self._pending[request_id] = answer
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": method}
        if params is not None:
            message["params"] = params
        try:
            await self._post(message)
            return await asyncio.wait_for(answer, timeout=30)
        finally:
            self._pending.pop(request_id, None)

    async def notify(self, method: str) -> None:
        await self._post({"jsonrpc": "2.0", "method": method})

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if self._response is not None:
            self._response.close()

    async def _post(self, message: dict[str, Any]) -> None:
        endpoint = await self._endpoint
        async with self._http.post(
            endpoint, data=orjson.dumps(message), headers=self._post_headers
        ) as response:
            await response.read()
            if response.status != 202:
                raise UnexpectedStatus(f"POST {urlsplit(endpoint).path}", response.status)

    async def _read(self, response: aiohttp.ClientResponse) -> None:
        event, data = "message", b""
        async for raw in response.content:
            line = raw.rstrip(b"\r\n")
            if line.startswith(b":"):
                self.keepalives += 1
            elif line.startswith(b"event:"):
                event = line[6:].strip().decode()
            elif line.startswith(b"data:"):
                data += line[5:].strip()
            elif not line:
                if data:
                    self._dispatch(event, data)
                event, data = "message", b""

    def _dispatch(self, event: str, data: bytes) -> None:
        if event == "endpoint":
            if not self._endpoint.done():
                self._endpoint.set_result(urljoin(f"{self._post_url}/", data.decode()))
            return
        message = orjson.loads(data)
        request_id = message.get("id") if isinstance(message, dict) else None
        answer = self._pending.get(request_id) if isinstance(request_id, int) else None
        if answer is not None and not answer.done():
            answer.set_result(message)
        elif request_id is not None:
            self.unmatched += 1


class KeepAliveSSESession(SSESession):
    """An `SSESession` whose POSTs go over one keep-alive connection of its own (one at a time)."""

    def __init__(
        self, http: aiohttp.ClientSession, base_url: str, headers: dict[str, str], post_url: str | None = None
    ) -> None:
        super().__init__(http, base_url, headers, post_url)
        self._connection: _PostConnection | None = None
        self._request_head = b""

    async def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
        await super().close()

    async def _post(self, message: dict[str, Any]) -> None:
        endpoint = await self._endpoint
        if self._connection is None or self._connection.closed:
            parts = urlsplit(endpoint)
            target = f"{parts.path}?{parts.query}" if parts.query else parts.path
            headers = (f"{name}: {value}" for name, value in self._post_headers.items())
            lines = [f"POST {target} HTTP/1.1", *headers]
            self._request_head = ("\r\n".join(lines) + "\r\n").encode()
            _, self._connection = await asyncio.get_running_loop().create_connection(
                _PostConnection, parts.hostname or "127.0.0.1", parts.port or 80
            )
        body = orjson.dumps(message)
        request = self._request_head + b"content-length: %d\r\n\r\n" % len(body) + body
        status = await self._connection.send(request)
        if status != 202:
            raise UnexpectedStatus(f"POST {urlsplit(endpoint).path}", status)


class _PostConnection(asyncio.Protocol):
    """One HTTP/1.1 connection: a request at a time, its response's status once the response ended."""

    def __init__(self) -> None:
        self._parser = httptools.HttpResponseParser(self)
        self._transport: asyncio.Transport | None = None
        self._answer: asyncio.Future[int] | None = None
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without deriving from it.
        self._transport = cast(asyncio.Transport, transport)

    async def send(self, request: bytes) -> int:
        if self._transport is None or self._answer is not None:
            raise RuntimeError("one request at a time, on an open connection")
        self._answer = asyncio.get_running_loop().create_future()
        self._transport.write(request)
        try:
            return await self._answer
        finally:
            self._answer = None

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(RuntimeError(f"unreadable response: {exc}"))
            self.close()

    def on_message_complete(self) -> None:
        if self._answer is not None and not self._answer.done():
            self._answer.set_result(self._parser.get_status_code())

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._fail(RuntimeError("the connection closed before the response ended"))

    def close(self) -> None:
        self.closed = True
        if self._transport is not None:
            self._transport.close()

    def _fail(self, error: Exception) -> None:
        if self._answer is not None and not self._answer.done():
            self._answer.set_exception(error)
