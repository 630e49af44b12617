"""The daily allowance on Redis (issue 23): exact across machines, never bypassed when Redis is down."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import orjson
import pytest

from tests.clients import connect, text_of
from tests.cluster import cluster
from tests.conftest import LiveServer, free_port, make_settings
from tests.redis_server import RedisServer
from tests.spec_check import SpecCheck
from tests.tools.conftest import serve_gateway
from tools.sandbox import SANDBOX_API_KEY, SandboxState
from tools.sandbox import data as seed

pytestmark = pytest.mark.anyio

JSON = {
    "content-type": "application/json",
    "accept": "application/json",
    "mcp-protocol-version": "2025-06-18",
}
SEND = {"from": seed.MAIN_LINE_NUMBER, "to": seed.JORDAN_NUMBER, "content": "Counted once"}


def send_call(request_id: int) -> bytes:
    params: dict[str, Any] = {"name": "send-message", "arguments": SEND}
    return orjson.dumps({"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": params})


async def test_thirty_concurrent_sends_on_three_machines_against_an_allowance_of_ten_send_ten(
    redis_url: str, tmp_path: Path
) -> None:
    allowance = {"SEND_POLICY": "allow", "SEND_DAILY_LIMIT": "10", "SEND_NEW_NUMBERS": "true"}
    with cluster(redis_url, tmp_path, 3, **allowance) as machines:
        clients = [
            httpx.AsyncClient(base_url=gateway.url, headers=machines.host, timeout=30)
            for gateway in machines.gateways
        ]
        answers: list[dict[str, Any]] = []

        async def send(index: int) -> None:
            headers = {**JSON, "x-openphone-api-key": SANDBOX_API_KEY}
            response = await clients[index % 3].post("/mcp", content=send_call(index), headers=headers)
            answers.append(response.json()["result"])

        try:
            async with anyio.create_task_group() as group:
                for index in range(30):
                    group.start_soon(send, index)
        finally:
            for client in clients:
                await client.aclose()
        sent = [answer for answer in answers if not answer["isError"]]
        assert (len(sent), len(machines.upstream.state.sent_messages)) == (10, 10)
        refusals = {
            answer["content"][0]["text"].split(" 0 left")[0] for answer in answers if answer["isError"]
        }
        assert refusals == {
            "Nothing was sent: this connection may text 10 recipients in any 24 hours without asking."
        }


@pytest.fixture
def redis_gateway(spec: SpecCheck, redis_url: str) -> Iterator[LiveServer]:
    """A gateway whose shared state is on Redis, sending as a script (SEND_POLICY=allow)."""
    settings = make_settings(
        free_port(),
        sandbox=True,
        redis_url=redis_url,
        send_policy="allow",
        send_daily_limit=10,
        send_new_numbers=True,
    )
    yield from serve_gateway(settings, spec)


async def test_with_redis_down_a_counted_send_is_refused_as_retryable_and_reads_keep_working(
    redis_gateway: LiveServer, redis_server: RedisServer, sandbox: SandboxState
) -> None:
    async with connect(redis_gateway, "streamable", "legacy", api_key=SANDBOX_API_KEY) as client:
        redis_server.stop()
        try:
            refused = await client.call_tool("send-message", SEND)
            numbers = await client.call_tool("list-phone-numbers", {})
        finally:
            redis_server.ensure_running()
    assert (refused.is_error, text_of(refused)) == (
        True,
        "Nothing was sent: the daily send count cannot be reached right now, and no text is sent "
        "uncounted. This is temporary; try again in a few seconds.",
    )
    assert sandbox.sent_messages == []
    assert numbers.is_error is False
