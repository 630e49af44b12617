"""Held sends across three gateway processes on one Redis (issue 23): made on one machine, confirmed on
another, sent once whichever machines the confirmations and replays reach; and refused, retryably,
when the shared state cannot be reached."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any, Final
from urllib.parse import urlsplit

import httpx
import pytest

from tests.cluster import Cluster, cluster
from tests.conftest import free_port, make_settings
from tests.redis_server import RedisServer
from tests.tools.conftest import serve_gateway
from tests.tools.person import csrf_of, link_in
from tools.sandbox import SANDBOX_API_KEY, SandboxState, create_sandbox_app
from tools.sandbox import data as seed

pytestmark = pytest.mark.anyio

SEND: Final = {"from": seed.MAIN_LINE_NUMBER, "to": seed.PRIYA_NUMBER, "content": "Table for two at 8."}
KEYED: Final = {
    "content-type": "application/json",
    "accept": "application/json",
    "x-openphone-api-key": SANDBOX_API_KEY,
}
MODERN: Final = {"mcp-protocol-version": "2026-07-28", "mcp-method": "tools/call", "mcp-name": "send-message"}
FORM_ONLY: Final[dict[str, Any]] = {"elicitation": {"form": {}}}
YES: Final[dict[str, Any]] = {"confirm": {"action": "accept", "content": {"confirm": True}}}


@pytest.fixture(scope="module")
def machines(redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    redis_server.ensure_running()
    with cluster(
        redis_server.url,
        tmp_path_factory.mktemp("confirming"),
        SEND_POLICY="confirm",
        OAUTH_RATE_LIMIT="10000",
    ) as running:
        yield running


@pytest.fixture
async def web(machines: Cluster) -> AsyncIterator[list[httpx.AsyncClient]]:
    """One client per machine, each keeping its own cookies as a browser would."""
    async with machines.clients() as clients:
        yield clients


def sent(machines: Cluster, before: int) -> list[str]:
    """The texts the machines sent since `before` texts had been sent."""
    return [message["text"] for message in machines.upstream.state.sent_messages[before:]]


async def call(client: httpx.AsyncClient, capabilities: dict[str, Any] | None = None, **extra: Any) -> Any:
    """send-message: a 2026-07-28 request when `capabilities` are given, else a plain one."""
    params: dict[str, Any] = {"name": "send-message", "arguments": SEND, **extra}
    headers = dict(KEYED)
    if capabilities is not None:
        params["_meta"] = {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": capabilities,
        }
        headers |= MODERN
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params}
    return (await client.post("/mcp", json=body, headers=headers)).json()


async def test_a_send_held_on_one_machine_is_confirmed_on_another(
    machines: Cluster, web: list[httpx.AsyncClient]
) -> None:
    before = len(machines.upstream.state.sent_messages)
    held = (await call(web[0]))["result"]
    path = urlsplit(link_in(held["content"][0]["text"])).path
    page = await web[1].get(path)
    answer = await web[1].post(
        path, data={"csrf": csrf_of(page.text), "action": "send", "api_key": SANDBOX_API_KEY}
    )
    assert (page.status_code, answer.status_code) == (200, 200)
    assert sent(machines, before) == ["Table for two at 8."]


async def test_a_form_answer_replayed_on_every_machine_at_once_sends_once(
    machines: Cluster, web: list[httpx.AsyncClient]
) -> None:
    before = len(machines.upstream.state.sent_messages)
    state = (await call(web[0], FORM_ONLY))["result"]["requestState"]
    answers = await asyncio.gather(
        *(call(web[i % 3], FORM_ONLY, inputResponses=YES, requestState=state) for i in range(9))
    )
    assert sorted(answer["result"]["isError"] for answer in answers) == [False] + [True] * 8
    assert sent(machines, before) == ["Table for two at 8."]


async def test_with_redis_unreachable_a_send_to_confirm_is_refused_retryably() -> None:
    """REDIS_URL names a port nothing listens on: the held send cannot be recorded, so nothing is sent."""
    sandbox = SandboxState()
    settings = make_settings(
        free_port(), sandbox=True, send_policy="confirm", redis_url=f"redis://127.0.0.1:{free_port()}/0"
    )
    for server in serve_gateway(settings, create_sandbox_app(sandbox)):
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            answer = await call(client)
    assert answer["result"] == {
        "content": [
            {
                "type": "text",
                "text": "Nothing was sent: this send needs a person's confirmation, and confirmations cannot "
                "be recorded right now. Try again in a moment.",
            }
        ],
        "isError": True,
    }
    assert sandbox.sent_messages == []
