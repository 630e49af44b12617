"""Raw HTTP against the legacy HTTP+SSE transport: the endpoint event, session binding and refusals."""

from __future__ import annotations

import asyncio
from typing import Any

import anyio
import httpx
import orjson
import pytest
from starlette.datastructures import QueryParams

from gateway.protocol.core import MAX_BATCH_ITEMS
from gateway.transports.legacy_sse import SESSION_QUERY_PARAMS, _session_id
from gateway.transports.legacy_stream import HANDLERS_PER_SESSION, Handlers
from gateway.transports.session_bus import INBOX_CAPACITY
from tests.conftest import OTHER_API_KEY, TEST_API_KEY, LiveServer
from tests.sse import open_stream

pytestmark = pytest.mark.anyio

JSON = {"content-type": "application/json"}


def ping(request_id: int = 1) -> bytes:
    return orjson.dumps({"jsonrpc": "2.0", "id": request_id, "method": "ping"})


async def test_the_stream_announces_its_post_endpoint(http: httpx.AsyncClient) -> None:
    """2024-11-05: the first event is `endpoint`, naming the POST URL with the session id."""
    async with open_stream(http) as (_, endpoint):
        path, _, query = endpoint.partition("?")
        assert path == "/messages"
        assert query.startswith("sessionId=")
        assert len(query.removeprefix("sessionId=")) > 40


async def test_the_stream_at_mcp_posts_to_mcp_messages(http: httpx.AsyncClient) -> None:
    """GET /mcp with Accept: text/event-stream and no session header is the same legacy pair."""
    async with open_stream(http, "/mcp") as (reader, endpoint):
        assert endpoint.startswith("/mcp/messages?sessionId=")
        response = await http.post(
            endpoint, content=ping(3), headers={"x-openphone-api-key": TEST_API_KEY, **JSON}
        )
        assert response.status_code == 202
        assert await reader.next_message() == {"jsonrpc": "2.0", "id": 3, "result": {}}


async def test_a_posted_request_is_answered_on_the_stream(http: httpx.AsyncClient) -> None:
    async with open_stream(http) as (reader, endpoint):
        response = await http.post(
            endpoint, content=ping(7), headers={"x-openphone-api-key": TEST_API_KEY, **JSON}
        )
        assert response.status_code == 202
        assert response.text == "Accepted"
        assert await reader.next_message() == {"jsonrpc": "2.0", "id": 7, "result": {}}


async def test_an_octet_stream_post_is_read_as_json(http: httpx.AsyncClient) -> None:
    """ChatGPT's scanner labels JSON as application/octet-stream (openai-apps-sdk-examples#183)."""
    async with open_stream(http) as (reader, endpoint):
        octet = {"x-openphone-api-key": TEST_API_KEY, "content-type": "application/octet-stream"}
        response = await http.post(endpoint, content=ping(5), headers=octet)
        assert response.status_code == 202
        assert await reader.next_message() == {"jsonrpc": "2.0", "id": 5, "result": {}}


@pytest.mark.parametrize(
    "content_type",
    [
        pytest.param("text/plain", id="text-plain"),
        pytest.param("application/x-www-form-urlencoded", id="form"),
        pytest.param("multipart/form-data; boundary=x", id="multipart"),
    ],
)
async def test_a_cors_safelisted_post_is_415(http: httpx.AsyncClient, content_type: str) -> None:
    """A type a cross-site page may POST without a preflight is never read (Fetch §2.2.2)."""
    async with open_stream(http) as (_, endpoint):
        refused = {"x-openphone-api-key": TEST_API_KEY, "content-type": content_type}
        response = await http.post(endpoint, content=ping(6), headers=refused)
    assert response.status_code == 415
    assert response.json()["error"] == "unsupported_media_type"


async def test_the_snake_case_session_parameter_is_accepted(http: httpx.AsyncClient) -> None:
    """The Python SDK's own server spells it session_id; clients configured for it still work."""
    async with open_stream(http) as (reader, endpoint):
        snake = endpoint.replace("sessionId=", "session_id=")
        response = await http.post(
            snake, content=ping(8), headers={"x-openphone-api-key": TEST_API_KEY, **JSON}
        )
        assert response.status_code == 202
        assert await reader.next_message() == {"jsonrpc": "2.0", "id": 8, "result": {}}


async def test_keep_alive_comments_flow_while_idle(http: httpx.AsyncClient, live_server: LiveServer) -> None:
    """Comments keep proxies from cutting an idle stream (every 0.2 s on the test server)."""
    async with open_stream(http) as (reader, endpoint):
        await anyio.sleep(0.5)
        await http.post(endpoint, content=ping(9), headers={"x-openphone-api-key": TEST_API_KEY, **JSON})
        await reader.next_message()
    assert reader.comments[0] == ": keep-alive"


async def test_a_batch_is_answered_as_a_batch_before_initialize(http: httpx.AsyncClient) -> None:
    """A session starts at 2024-11-05, which never forbade batches."""
    async with open_stream(http) as (reader, endpoint):
        batch = b"[" + ping(1) + b"," + ping(2) + b"]"
        await http.post(endpoint, content=batch, headers={"x-openphone-api-key": TEST_API_KEY, **JSON})
        assert await reader.next_message() == [
            {"jsonrpc": "2.0", "id": 1, "result": {}},
            {"jsonrpc": "2.0", "id": 2, "result": {}},
        ]


@pytest.mark.parametrize(
    ("batch", "answer"),
    [
        pytest.param(
            b'[{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}]',
            [
                {
                    "jsonrpc": "2.0",
                    "id": 1,
                    "error": {"code": -32600, "message": "initialize must not be part of a batch"},
                }
            ],
            id="initialize-inside",
        ),
        pytest.param(
            b"[]",
            {
                "jsonrpc": "2.0",
                "id": None,
                "error": {"code": -32600, "message": "Invalid request: empty batch"},
            },
            id="empty",
        ),
    ],
)
async def test_batches_follow_the_same_rules_as_on_mcp(
    http: httpx.AsyncClient, batch: bytes, answer: Any
) -> None:
    """One batch rule set for both transports: no initialize inside, an empty batch is one error."""
    async with open_stream(http) as (reader, endpoint):
        await http.post(endpoint, content=batch, headers={"x-openphone-api-key": TEST_API_KEY, **JSON})
        assert await reader.next_message() == answer


async def test_a_batch_over_the_maximum_size_is_one_invalid_request(http: httpx.AsyncClient) -> None:
    """Review #1: the item cap holds on the legacy stream too, so one answer event stays small."""
    async with open_stream(http) as (reader, endpoint):
        batch = b"[" + b",".join(ping(i) for i in range(MAX_BATCH_ITEMS + 1)) + b"]"
        await http.post(endpoint, content=batch, headers={"x-openphone-api-key": TEST_API_KEY, **JSON})
        assert await reader.next_message() == {
            "jsonrpc": "2.0",
            "id": None,
            "error": {
                "code": -32600,
                "message": "Invalid request: a batch may hold at most 32 messages, this one has 33",
            },
        }


async def test_a_batch_is_refused_once_the_session_negotiated_2025_11_25(http: httpx.AsyncClient) -> None:
    async with open_stream(http) as (reader, endpoint):
        init = {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t"}}
        body = orjson.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": init})
        await http.post(endpoint, content=body, headers={"x-openphone-api-key": TEST_API_KEY, **JSON})
        assert (await reader.next_message())["result"]["protocolVersion"] == "2025-11-25"
        await http.post(
            endpoint, content=b"[" + ping(2) + b"]", headers={"x-openphone-api-key": TEST_API_KEY, **JSON}
        )
        assert (await reader.next_message())["error"] == {
            "code": -32600,
            "message": "JSON-RPC batches are not allowed in protocol revision 2025-11-25",
        }


async def test_an_invalid_message_is_answered_on_the_stream(http: httpx.AsyncClient) -> None:
    async with open_stream(http) as (reader, endpoint):
        body = orjson.dumps({"jsonrpc": "2.0", "id": 4, "method": 12})
        await http.post(endpoint, content=body, headers={"x-openphone-api-key": TEST_API_KEY, **JSON})
        assert await reader.next_message() == {
            "jsonrpc": "2.0",
            "id": 4,
            "error": {"code": -32600, "message": "Invalid request: method: Input should be a valid string"},
        }


async def test_a_post_with_another_credential_is_404(http: httpx.AsyncClient) -> None:
    """The session is bound to the credential that opened it; another cannot even learn it exists."""
    async with open_stream(http) as (_, endpoint):
        response = await http.post(
            endpoint, content=ping(), headers={"x-openphone-api-key": OTHER_API_KEY, **JSON}
        )
    assert response.status_code == 404
    assert response.json()["error_description"] == "Unknown or closed session; open a new SSE stream."


async def test_a_forged_session_id_is_404(http: httpx.AsyncClient) -> None:
    async with open_stream(http) as (_, endpoint):
        forged = endpoint[:-3] + ("AAA" if not endpoint.endswith("AAA") else "BBB")
        response = await http.post(
            forged, content=ping(), headers={"x-openphone-api-key": TEST_API_KEY, **JSON}
        )
    assert response.status_code == 404


async def test_a_closed_session_is_404(http: httpx.AsyncClient) -> None:
    async with open_stream(http) as (_, endpoint):
        pass
    with anyio.fail_after(5):
        while True:
            response = await http.post(
                endpoint, content=ping(), headers={"x-openphone-api-key": TEST_API_KEY, **JSON}
            )
            if response.status_code != 202:
                break
            await anyio.sleep(0.05)
    assert response.status_code == 404


async def test_a_post_without_a_session_id_is_400(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/messages", content=ping(), headers={"x-openphone-api-key": TEST_API_KEY, **JSON}
    )
    assert response.status_code == 400
    assert response.json()["error_description"] == (
        "Add the sessionId query parameter given in the stream's endpoint event."
    )


async def test_an_unparsable_post_is_400_parse_error(http: httpx.AsyncClient) -> None:
    async with open_stream(http) as (_, endpoint):
        response = await http.post(
            endpoint, content=b"{nope", headers={"x-openphone-api-key": TEST_API_KEY, **JSON}
        )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == -32700


async def test_opening_a_stream_needs_a_credential(http: httpx.AsyncClient, live_server: LiveServer) -> None:
    response = await http.get("/sse", headers={"accept": "text/event-stream"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == (
        f'Bearer resource_metadata="{live_server.url}/.well-known/oauth-protected-resource/sse"'
    )


async def test_posts_beyond_what_a_session_may_hold_are_429_with_retry_after(http: httpx.AsyncClient) -> None:
    """Review 2026-12-07 #1: 8 calls run and 24 wait; the rest is refused, not accepted to pile up."""
    async with open_stream(http) as (_, endpoint):
        answers = [await _post_held_call(http, endpoint, f"full-{n}") for n in range(INBOX_CAPACITY + 2)]
    assert [answer.status_code for answer in answers] == [202] * INBOX_CAPACITY + [429, 429]
    assert answers[-1].headers["retry-after"] == "1"
    assert answers[-1].json()["error"] == "too_many_requests"


async def test_a_full_session_whose_client_leaves_cancels_its_running_calls(
    http: httpx.AsyncClient, live_server: LiveServer
) -> None:
    """The stream waits for a free handler with a message in hand; its client leaving still ends it."""
    async with open_stream(http) as (_, endpoint):
        for n in range(HANDLERS_PER_SESSION + 1):
            assert (await _post_held_call(http, endpoint, f"left-{n}")).status_code == 202
    cancelled = [await live_server.probe.wait_cancelled(f"left-{n}") for n in range(HANDLERS_PER_SESSION)]
    assert cancelled == [True] * HANDLERS_PER_SESSION


async def _post_held_call(http: httpx.AsyncClient, endpoint: str, label: str) -> httpx.Response:
    """POST a `wait-forever` call: it runs until cancelled."""
    call = {"name": "wait-forever", "arguments": {"label": label}}
    body = orjson.dumps({"jsonrpc": "2.0", "id": label, "method": "tools/call", "params": call})
    return await http.post(endpoint, content=body, headers={"x-openphone-api-key": TEST_API_KEY, **JSON})


async def test_a_streams_handlers_run_side_by_side_and_stop_with_the_stream() -> None:
    stops: list[str] = []
    handlers = Handlers(lambda: stops.append("stream ended"), asyncio.Semaphore(4))
    finished: list[str] = []

    async def slow() -> None:
        await anyio.sleep(30)
        finished.append("slow")

    async def quick() -> None:
        finished.append("quick")

    assert await handlers.reserve()
    handlers.start(slow())
    assert await handlers.reserve()
    handlers.start(quick())
    await anyio.sleep(0.01)
    assert finished == ["quick"]
    with anyio.fail_after(1):
        await handlers.cancel()
    assert finished == ["quick"]
    assert stops == []


async def test_a_failing_handler_is_logged_and_ends_the_stream(caplog: pytest.LogCaptureFixture) -> None:
    stops: list[str] = []
    handlers = Handlers(lambda: stops.append("stream ended"), asyncio.Semaphore(4))

    async def broken() -> None:
        raise RuntimeError("a bug")

    assert await handlers.reserve()
    handlers.start(broken())
    await anyio.sleep(0.01)
    assert stops == ["stream ended"]
    (record,) = [record for record in caplog.records if record.name == "gateway.transports.legacy_stream"]
    assert record.getMessage() == "answering a legacy SSE message failed"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param(b"sessionId=abc", "abc", id="sessionId"),
        pytest.param(b"session_id=abc", "abc", id="session_id"),
        pytest.param(b"session_id=b&sessionId=a", "a", id="sessionId-first"),
        pytest.param(b"sessionId=a&sessionId=b", "b", id="repeated-keeps-the-last-as-starlette"),
        pytest.param(b"sessionId=a%2Eb%3D", "a.b=", id="percent-decoded"),
        pytest.param(b"sessionId=", "", id="blank"),
        pytest.param(b"other=1", "", id="absent"),
        pytest.param(b"", "", id="no-query"),
    ],
)
def test_the_session_id_is_read_from_the_query_as_starlette_reads_it(query: bytes, expected: str) -> None:
    assert _session_id(query) == expected
    assert (
        next((QueryParams(query)[p] for p in SESSION_QUERY_PARAMS if p in QueryParams(query)), "") == expected
    )
