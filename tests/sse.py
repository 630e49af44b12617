"""A raw legacy-SSE client for the tests: read `(event, data)` pairs and keep-alives off a stream."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx
import orjson

from tests.conftest import TEST_API_KEY


class EventReader:
    """Reads `(event, data)` pairs, and keep-alive comments, from a raw SSE response."""

    def __init__(self, response: httpx.Response) -> None:
        self._lines = response.aiter_lines()
        self.comments: list[str] = []

    async def next_event(self, within: float = 5) -> tuple[str, str]:
        """The next event; fails when none arrives within `within` seconds."""
        event, data = "message", []
        with anyio.fail_after(within):
            async for line in self._lines:
                if line.startswith(":"):
                    self.comments.append(line)
                elif line.startswith("event: "):
                    event = line.removeprefix("event: ")
                elif line.startswith("data: "):
                    data.append(line.removeprefix("data: "))
                elif line == "" and data:
                    return event, "\n".join(data)
        raise AssertionError("the stream ended")

    async def ends(self, within: float = 5) -> None:
        """Return once the server has ended the stream; fail if it is still open after `within` s."""
        with anyio.fail_after(within):
            async for line in self._lines:
                if line.startswith(":"):
                    self.comments.append(line)

    async def next_message(self, within: float = 5) -> Any:
        event, data = await self.next_event(within)
        assert event == "message"
        return orjson.loads(data)


@asynccontextmanager
async def open_stream(
    http: httpx.AsyncClient, path: str = "/sse", api_key: str = TEST_API_KEY, bearer: str | None = None
) -> AsyncIterator[tuple[EventReader, str]]:
    """An open legacy stream and the POST endpoint its `endpoint` event announced (opened with
    `bearer` as an OAuth access token when given, else with `api_key`)."""
    credential = {"authorization": f"Bearer {bearer}"} if bearer else {"x-openphone-api-key": api_key}
    async with http.stream("GET", path, headers={**credential, "accept": "text/event-stream"}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/event-stream"
        reader = EventReader(response)
        event, endpoint = await reader.next_event()
        assert event == "endpoint"
        yield reader, endpoint
