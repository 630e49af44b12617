"""Conversations over real HTTP (notes §2.11): filters, windows, inactivity and pagination."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.tools.sandbox.expect import broken_rules
from tools.sandbox.data import (
    CONVERSATION_ALPHA_ID,
    CONVERSATION_BRAVO_ID,
    CONVERSATION_CHARLIE_ID,
    CONVERSATION_DELTA_ID,
    CONVERSATION_ECHO_ID,
    CONVERSATIONS,
    SUPPORT_LINE_ID,
    SUPPORT_LINE_NUMBER,
)

pytestmark = pytest.mark.anyio

MOST_RECENT_FIRST = [
    CONVERSATION_CHARLIE_ID,
    CONVERSATION_DELTA_ID,
    CONVERSATION_ALPHA_ID,
    CONVERSATION_BRAVO_ID,
    CONVERSATION_ECHO_ID,
]
SUPPORT = [CONVERSATION_CHARLIE_ID, CONVERSATION_DELTA_ID]
MAIN = [CONVERSATION_ALPHA_ID, CONVERSATION_BRAVO_ID, CONVERSATION_ECHO_ID]


async def listed(client: httpx.AsyncClient, **params: Any) -> list[str]:
    response = await client.get("/v1/conversations", params={"maxResults": "100", **params})
    assert response.status_code == 200
    return [conversation["id"] for conversation in response.json()["data"]]


async def test_all_conversations_most_recent_activity_first(client: httpx.AsyncClient) -> None:
    """The spec: "descending order based on the most recent conversation"."""
    assert await listed(client) == MOST_RECENT_FIRST


async def test_a_conversation_in_full(client: httpx.AsyncClient) -> None:
    page = (await client.get("/v1/conversations", params={"maxResults": "1"})).json()
    assert page["data"] == [next(c for c in CONVERSATIONS if c["id"] == CONVERSATION_CHARLIE_ID)]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        pytest.param({"phoneNumbers": SUPPORT_LINE_ID}, SUPPORT, id="pn-id"),
        pytest.param({"phoneNumbers": SUPPORT_LINE_NUMBER}, SUPPORT, id="e164"),
        pytest.param({"phoneNumbers[]": SUPPORT_LINE_ID}, SUPPORT, id="brackets"),
        pytest.param({"phoneNumbers": ["PNsandboxMain", SUPPORT_LINE_ID]}, MOST_RECENT_FIRST, id="both"),
        pytest.param({"phoneNumbers": "PNelsewhere"}, [], id="unknown-number"),
        pytest.param({"phoneNumber": SUPPORT_LINE_NUMBER}, SUPPORT, id="deprecated-phone-number"),
        pytest.param(
            {"phoneNumber": SUPPORT_LINE_ID, "phoneNumbers": "PNsandboxMain"}, MAIN, id="phone-numbers-wins"
        ),
        pytest.param({"userId": "USsandboxAgent"}, MAIN, id="user"),
        pytest.param({"excludeInactive": "true"}, MOST_RECENT_FIRST[:-1], id="exclude-inactive"),
        pytest.param({"excludeInactive": "false"}, MOST_RECENT_FIRST, id="include-inactive"),
        pytest.param(
            {"createdAfter": "2026-10-20T00:00:00Z"}, [*SUPPORT, CONVERSATION_ALPHA_ID], id="created-after"
        ),
        pytest.param({"createdBefore": "2026-10-18T15:00:00Z"}, [CONVERSATION_ECHO_ID], id="created-before"),
        pytest.param({"updatedAfter": "2026-10-27T00:00:00Z"}, SUPPORT, id="updated-after"),
        pytest.param({"updatedBefore": "2026-10-20T00:00:00-07:00"}, MAIN[1:], id="updated-before-offset"),
    ],
)
async def test_filters(client: httpx.AsyncClient, params: dict[str, Any], expected: list[str]) -> None:
    assert await listed(client, **params) == expected


async def test_pagination(client: httpx.AsyncClient) -> None:
    pages, params = [], {"maxResults": "2"}
    while True:
        page = (await client.get("/v1/conversations", params=params)).json()
        pages.append([conversation["id"] for conversation in page["data"]])
        if page["nextPageToken"] is None:
            break
        params = {"maxResults": "2", "pageToken": page["nextPageToken"]}
    assert pages == [MOST_RECENT_FIRST[:2], MOST_RECENT_FIRST[2:4], MOST_RECENT_FIRST[4:]]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        pytest.param({"phoneNumbers": "support"}, [("/phoneNumbers/0", "string")], id="not-a-number"),
        pytest.param(
            {"phoneNumbers": [SUPPORT_LINE_ID] * 101}, [("/phoneNumbers", "array")], id="101-numbers"
        ),
        pytest.param({"phoneNumber": "4155550199"}, [("/phoneNumber", "string")], id="deprecated-not-e164"),
        pytest.param({"excludeInactive": "yes"}, [("/excludeInactive", "boolean")], id="not-a-boolean"),
        pytest.param({"updatedAfter": "2026-10-20 00:00"}, [("/updatedAfter", "string")], id="not-rfc3339"),
        pytest.param({"maxResults": "101"}, [("/maxResults", "integer")], id="max-results-101"),
        pytest.param({"pageToken": "bWVzc2FnZXM6Mg"}, [("/pageToken", "string")], id="messages-token"),
    ],
)
async def test_invalid_query_is_400(
    client: httpx.AsyncClient, params: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    response = await client.get("/v1/conversations", params={"maxResults": "10", **params})
    assert broken_rules(response, "1000400") == expected
