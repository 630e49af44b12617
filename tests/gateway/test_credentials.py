"""One credential, not one key: what binds a legacy SSE session and scopes cancellation (review #6, #7).

Bearer tokens are sealed here with the live server's own keys, as its token endpoint would seal them,
so each test can hold several credentials for the same OpenPhone key.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

import anyio
import httpx
import orjson
import pytest

from gateway.keys import ServerKeys
from oauth.endpoints import Endpoints
from oauth.sealing import Sealer, TokenType
from tests.conftest import TEST_API_KEY, LiveServer
from tests.gateway.transports.test_legacy_sse import ping
from tests.sse import EventReader

pytestmark = pytest.mark.anyio

JSON = {"content-type": "application/json", "accept": "application/json, text/event-stream"}
KEY = {"x-openphone-api-key": TEST_API_KEY}


def bearer(server: LiveServer, family: str, scopes: tuple[str, ...] = ("test",)) -> dict[str, str]:
    """The Authorization header of a fresh access token for the test key, of sign-in `family`."""
    keys = ServerKeys(server.settings.secret_key_bytes())
    endpoints = Endpoints.from_settings(server.settings)
    sealer = Sealer(keys, endpoints.issuer, time.time)
    claims = sealer.new_claims(
        TokenType.ACCESS,
        aud=endpoints.resource,
        sub=keys.fingerprint(TEST_API_KEY),
        cid="credential-test",
        scope=scopes,
        key=TEST_API_KEY,
        lifetime=3600,
        fam=family,
    )
    return {"authorization": f"Bearer {sealer.seal(claims)}"}


@asynccontextmanager
async def stream_of(
    http: httpx.AsyncClient, opener: dict[str, str]
) -> AsyncIterator[tuple[EventReader, str]]:
    async with http.stream("GET", "/sse", headers={**opener, "accept": "text/event-stream"}) as response:
        assert response.status_code == 200
        reader = EventReader(response)
        event, endpoint = await reader.next_event()
        assert event == "endpoint"
        yield reader, endpoint


class TestLegacySessionBinding:
    async def test_a_token_for_the_same_key_cannot_post_to_a_stream_opened_with_the_key(
        self, http: httpx.AsyncClient, live_server: LiveServer
    ) -> None:
        """Review #6: a narrow token once ran tools with the scopes of the raw key that opened the stream."""
        async with stream_of(http, KEY) as (_, endpoint):
            narrow = bearer(live_server, "family-a", ("messages:read",))
            response = await http.post(endpoint, content=ping(1), headers={**narrow, **JSON})
        assert response.status_code == 404
        assert response.json() == {
            "error": "not_found",
            "error_description": "Unknown or closed session; open a new SSE stream.",
        }

    async def test_the_key_cannot_post_to_a_stream_opened_with_a_token(
        self, http: httpx.AsyncClient, live_server: LiveServer
    ) -> None:
        async with stream_of(http, bearer(live_server, "family-a")) as (_, endpoint):
            response = await http.post(endpoint, content=ping(1), headers={**KEY, **JSON})
        assert response.status_code == 404

    async def test_the_refreshed_token_of_the_same_sign_in_keeps_the_stream(
        self, http: httpx.AsyncClient, live_server: LiveServer
    ) -> None:
        """A stream outlives the hour an access token lives; the next token of the sign-in still posts."""
        async with stream_of(http, bearer(live_server, "family-a")) as (reader, endpoint):
            refreshed = bearer(live_server, "family-a")
            response = await http.post(endpoint, content=ping(5), headers={**refreshed, **JSON})
            assert response.status_code == 202
            assert await reader.next_message() == {"jsonrpc": "2.0", "id": 5, "result": {}}

    @pytest.mark.parametrize(
        ("family", "scopes"),
        [
            pytest.param("family-b", ("test", "messages:read"), id="another-sign-in"),
            pytest.param("family-a", ("test",), id="fewer-scopes"),
        ],
    )
    async def test_another_token_for_the_same_key_is_refused(
        self, http: httpx.AsyncClient, live_server: LiveServer, family: str, scopes: tuple[str, ...]
    ) -> None:
        opener = bearer(live_server, "family-a", ("test", "messages:read"))
        async with stream_of(http, opener) as (_, endpoint):
            other = bearer(live_server, family, scopes)
            response = await http.post(endpoint, content=ping(1), headers={**other, **JSON})
        assert response.status_code == 404


def call(request_id: int, label: str) -> bytes:
    params = {"name": "wait-forever", "arguments": {"label": label}}
    return orjson.dumps({"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": params})


def cancel(request_id: int) -> bytes:
    params = {"requestId": request_id}
    return orjson.dumps({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": params})


async def wait_started(server: LiveServer, label: str) -> None:
    with anyio.fail_after(5):
        while label not in server.probe.started:  # noqa: ASYNC110
            await anyio.sleep(0.01)


class TestCancellationNamespace:
    async def test_another_credential_for_the_same_key_cannot_cancel_a_call(
        self, http: httpx.AsyncClient, live_server: LiveServer
    ) -> None:
        """Review #7: a read-only token for the same key once cancelled a raw-key call by guessing its id."""
        label, request_id = "namespace-key", 801
        async with anyio.create_task_group() as group:
            group.start_soon(
                partial(http.post, "/mcp", content=call(request_id, label), headers={**KEY, **JSON})
            )
            await wait_started(live_server, label)
            intruder = bearer(live_server, "family-a", ("messages:read",))
            response = await http.post("/mcp", content=cancel(request_id), headers={**intruder, **JSON})
            assert response.status_code == 202
            # One more round trip: a cancel that had reached the call would have landed by now.
            assert (await http.post("/mcp", content=ping(1), headers={**KEY, **JSON})).status_code == 200
            assert label not in live_server.probe.cancelled
            owner = await http.post("/mcp", content=cancel(request_id), headers={**KEY, **JSON})
            assert owner.status_code == 202
            assert await live_server.probe.wait_cancelled(label)

    async def test_the_refreshed_token_of_the_same_sign_in_can_cancel_its_call(
        self, http: httpx.AsyncClient, live_server: LiveServer
    ) -> None:
        label = "namespace-refreshed"
        async with anyio.create_task_group() as group:
            opener = {**bearer(live_server, "family-c"), **JSON}
            group.start_soon(partial(http.post, "/mcp", content=call(803, label), headers=opener))
            await wait_started(live_server, label)
            refreshed = bearer(live_server, "family-c")
            response = await http.post("/mcp", content=cancel(803), headers={**refreshed, **JSON})
            assert response.status_code == 202
            assert await live_server.probe.wait_cancelled(label)
