"""How large one batch's answer may grow, against a gateway with the real catalogue (second review #9)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import orjson
import pytest

from gateway.app import create_app
from gateway.protocol.core import MAX_BATCH_ANSWER_BYTES, MAX_BATCH_ITEMS
from tests.conftest import TEST_API_KEY, free_port, make_settings, serve

pytestmark = pytest.mark.anyio

HEADERS = {
    "x-openphone-api-key": TEST_API_KEY,
    "content-type": "application/json",
    "accept": "application/json",
    "mcp-protocol-version": "2025-03-26",
}


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    settings = make_settings(free_port(), sandbox=True)
    yield from serve(create_app(settings), settings.port)


@pytest.fixture
async def http(url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        yield client


def listing(request_id: int) -> dict[str, object]:
    return {"jsonrpc": "2.0", "id": request_id, "method": "tools/list"}


async def test_a_batch_stops_answering_requests_once_its_answer_is_full(http: httpx.AsyncClient) -> None:
    """32 tools/list answered 2.2 MB to a 1.8 KB request; past the budget, requests get an error unrun."""
    one = await http.post("/mcp", content=orjson.dumps(listing(0)), headers=HEADERS)
    answered = -(-MAX_BATCH_ANSWER_BYTES // len(one.content))
    assert answered < MAX_BATCH_ITEMS
    batch = [listing(i) for i in range(MAX_BATCH_ITEMS)]
    response = await http.post("/mcp", content=orjson.dumps(batch), headers=HEADERS)
    assert response.status_code == 200
    answers = response.json()
    assert [answer["id"] for answer in answers] == list(range(MAX_BATCH_ITEMS))
    assert all("result" in answer for answer in answers[:answered])
    assert {orjson.dumps(answer["error"]) for answer in answers[answered:]} == {
        orjson.dumps(
            {
                "code": -32600,
                "message": "Invalid request: this batch's answer already holds 256 KiB, the most one "
                "batch answers; send this request again in another batch",
            }
        )
    }
