"""Made-up OpenPhone keys against a real gateway and its sandbox upstream (second review #8)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from gateway.app import create_app
from tests.conftest import free_port, make_settings, serve
from tools.sandbox import SANDBOX_API_KEY

pytestmark = pytest.mark.anyio

FAILED_CHECKS_PER_MINUTE = 3
METRICS_TOKEN = "metrics-token-for-key-checks"
CALL = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "list-phone-numbers"}}


@pytest.fixture
def url() -> Iterator[str]:
    """A fresh gateway per test: the failed-check windows live in its process."""
    settings = make_settings(
        free_port(), sandbox=True, oauth_rate_limit=FAILED_CHECKS_PER_MINUTE, metrics_token=METRICS_TOKEN
    )
    yield from serve(create_app(settings), settings.port)


@pytest.fixture
async def http(url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        yield client


async def call_with(http: httpx.AsyncClient, api_key: str) -> httpx.Response:
    headers = {
        "x-openphone-api-key": api_key,
        "accept": "application/json",
        "mcp-protocol-version": "2025-11-25",
    }
    return await http.post("/mcp", json=CALL, headers=headers)


def rejection_text(response: httpx.Response) -> str:
    assert response.status_code == 200
    result = response.json()["result"]
    assert result["isError"] is True
    text: str = result["content"][0]["text"]
    return text


async def upstream_rejections(http: httpx.AsyncClient) -> int:
    """How many requests OpenPhone (the sandbox) answered 401, from the gateway's own metrics."""
    metrics = await http.get("/metrics", headers={"authorization": f"Bearer {METRICS_TOKEN}"})
    found = re.search(
        r'gateway_upstream_request_seconds_count\{method="GET",status="401"\} (\d+)', metrics.text
    )
    return int(float(found.group(1))) if found else 0


async def test_an_address_whose_keys_openphone_keeps_rejecting_gets_429(http: httpx.AsyncClient) -> None:
    """Each made-up key went to OpenPhone, and its answer told a guess from a real key, without bound."""
    for guess in range(FAILED_CHECKS_PER_MINUTE):
        text = rejection_text(await call_with(http, f"made-up-key-{guess}"))
        assert text.startswith("OpenPhone rejected the API key.")
    refused = await call_with(http, "made-up-key-next")
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert refused.json() == {
        "error": "too_many_requests",
        "error_description": "OpenPhone rejected too many API keys from this address; try again later.",
    }
    assert await upstream_rejections(http) == FAILED_CHECKS_PER_MINUTE


async def test_a_key_openphone_rejected_is_not_sent_to_it_again(http: httpx.AsyncClient) -> None:
    first = rejection_text(await call_with(http, "made-up-key"))
    again = [
        rejection_text(await call_with(http, "made-up-key")) for _ in range(2 * FAILED_CHECKS_PER_MINUTE)
    ]
    assert {text.split(" (")[0] for text in again} == {first.split(" (")[0]}
    assert await upstream_rejections(http) == 1


async def test_a_good_key_is_served_while_a_bad_key_is_being_repeated(http: httpx.AsyncClient) -> None:
    """A client looping on one bad key counts once: its neighbours behind the same address go on."""
    for _ in range(2 * FAILED_CHECKS_PER_MINUTE):
        rejection_text(await call_with(http, "made-up-key"))
    assert rejection_free(await call_with(http, SANDBOX_API_KEY))


async def test_a_key_openphone_accepted_is_served_from_an_address_held_back(http: httpx.AsyncClient) -> None:
    """Only unproven keys are held back: a neighbour guessing keys does not lock out a working one."""
    assert rejection_free(await call_with(http, SANDBOX_API_KEY))
    for guess in range(FAILED_CHECKS_PER_MINUTE):
        rejection_text(await call_with(http, f"made-up-key-{guess}"))
    assert (await call_with(http, "made-up-key-next")).status_code == 429
    assert rejection_free(await call_with(http, SANDBOX_API_KEY))


def rejection_free(response: httpx.Response) -> bool:
    return response.status_code == 200 and response.json()["result"].get("isError") is not True
