"""Hypothesis against the running server: no input to /mcp yields a 5xx, a hang or an echoed key."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import TEST_API_KEY, LiveServer

HEADERS = {"x-openphone-api-key": TEST_API_KEY, "content-type": "application/json", "accept": "*/*"}
# Each request must finish well inside this; a hang surfaces as httpx.ReadTimeout, failing the test.
REQUEST_TIMEOUT_SECONDS = 5.0
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)
methods = st.sampled_from(
    [
        "initialize",
        "ping",
        "tools/list",
        "tools/call",
        "resources/read",
        "server/discover",
        "notifications/cancelled",
    ]
)
mcp_messages = st.fixed_dictionaries(
    {"jsonrpc": st.just("2.0"), "method": methods},
    optional={
        "id": st.integers(-(2**63), 2**63 - 1) | st.text(max_size=8) | st.none(),
        "params": json_values,
    },
)
revisions = st.sampled_from([None, "2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25", "2026-07-28", "x"])


@pytest.fixture(scope="module")
def client(live_server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server.url, timeout=REQUEST_TIMEOUT_SECONDS) as http:
        yield http


def assert_handled(response: httpx.Response) -> None:
    assert response.status_code < 500
    assert TEST_API_KEY not in response.text
    assert "Traceback" not in response.text


@FUZZ
@given(body=st.binary(max_size=2048))
def test_arbitrary_bytes_never_break_the_endpoint(client: httpx.Client, body: bytes) -> None:
    assert_handled(client.post("/mcp", content=body, headers=HEADERS))


@FUZZ
@given(value=json_values)
def test_arbitrary_json_never_breaks_the_endpoint(client: httpx.Client, value: Any) -> None:
    assert_handled(client.post("/mcp", content=orjson.dumps(value), headers=HEADERS))


@FUZZ
@given(message=mcp_messages, revision=revisions)
def test_mcp_shaped_messages_in_any_revision_are_answered(
    client: httpx.Client, message: dict[str, Any], revision: str | None
) -> None:
    headers = dict(HEADERS)
    if revision is not None:
        headers["mcp-protocol-version"] = revision
    response = client.post("/mcp", content=orjson.dumps(message), headers=headers)
    assert_handled(response)
    if response.status_code in (200, 400, 404) and response.content:
        body = response.json()
        assert body.get("jsonrpc") == "2.0" or "error" in body
