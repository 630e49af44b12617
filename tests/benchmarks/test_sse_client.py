"""The benchmark's legacy SSE clients, against a real gateway: answers matched, POSTs on one connection."""

from __future__ import annotations

import aiohttp
import pytest

from tests.benchmarks.sse_client import KeepAliveSSESession, SSESession, UnexpectedStatus
from tests.conftest import TEST_API_KEY, LiveServer

pytestmark = pytest.mark.anyio

KEY = {"x-openphone-api-key": TEST_API_KEY}


@pytest.mark.parametrize("kind", [SSESession, KeepAliveSSESession])
async def test_each_request_gets_its_own_answer_off_the_stream(
    live_server: LiveServer, kind: type[SSESession]
) -> None:
    async with aiohttp.ClientSession() as http:
        client = kind(http, live_server.url, KEY)
        await client.open()
        try:
            await client.initialize()
            answers = [await client.request("ping") for _ in range(5)]
        finally:
            await client.close()
    assert [answer["id"] for answer in answers] == [2, 3, 4, 5, 6]
    assert [answer["result"] for answer in answers] == [{}] * 5
    assert client.unmatched == 0


async def test_the_keep_alive_client_posts_every_message_on_one_connection(live_server: LiveServer) -> None:
    async with aiohttp.ClientSession() as http:
        client = KeepAliveSSESession(http, live_server.url, KEY)
        await client.open()
        try:
            await client.initialize()
            first = client._connection
            for _ in range(3):
                await client.request("ping")
            assert first is not None
            assert (client._connection is first, first.closed) == (True, False)
        finally:
            await client.close()
    assert first.closed


async def test_the_keep_alive_client_reports_a_refused_post(live_server: LiveServer) -> None:
    async with aiohttp.ClientSession() as http:
        client = KeepAliveSSESession(http, live_server.url, KEY)
        await client.open()
        client._post_headers["x-openphone-api-key"] = "op-another-key-0000000000"
        try:
            with pytest.raises(UnexpectedStatus) as refused:
                await client.request("ping")
        finally:
            await client.close()
    assert refused.value.status == 404
