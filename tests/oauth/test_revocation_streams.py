"""Issue 24 #9: revoking a sign-in, or the token that opened a legacy stream, closes the stream.

Its POSTs were already refused (the Bearer is checked on each), but the stream itself stayed open.
"""

from __future__ import annotations

import httpx
import pytest

from tests.oauth.flow import exchange, tokens_for
from tests.sse import open_stream

pytestmark = pytest.mark.anyio


async def test_revoking_the_refresh_token_closes_the_sign_ins_streams(web: httpx.AsyncClient) -> None:
    client, tokens = await tokens_for(web)
    async with open_stream(web, bearer=tokens["access_token"]) as (reader, _):
        revoked = await web.post(
            "/revoke", data={"token": tokens["refresh_token"], "client_id": client["client_id"]}
        )
        assert revoked.status_code == 200
        await reader.ends()


async def test_revoking_the_access_token_closes_the_stream_it_opened(web: httpx.AsyncClient) -> None:
    client, tokens = await tokens_for(web)
    async with open_stream(web, bearer=tokens["access_token"]) as (reader, _):
        revoked = await web.post(
            "/revoke",
            data={
                "token": tokens["access_token"],
                "token_type_hint": "access_token",
                "client_id": client["client_id"],
            },
        )
        assert revoked.status_code == 200
        await reader.ends()


async def test_a_reused_refresh_token_closes_the_sign_ins_streams(web: httpx.AsyncClient) -> None:
    """OAuth 2.1 §4.3.1: a replayed refresh token revokes the family, and so its streams."""
    client, tokens = await tokens_for(web)
    first = tokens["refresh_token"]
    async with open_stream(web, bearer=tokens["access_token"]) as (reader, _):
        second = (
            await exchange(
                web, grant_type="refresh_token", refresh_token=first, client_id=client["client_id"]
            )
        ).json()
        third = await exchange(
            web,
            grant_type="refresh_token",
            refresh_token=second["refresh_token"],
            client_id=client["client_id"],
        )
        assert third.status_code == 200
        reused = await exchange(
            web, grant_type="refresh_token", refresh_token=first, client_id=client["client_id"]
        )
        assert (reused.status_code, reused.json()["error"]) == (400, "invalid_grant")
        await reader.ends()


async def test_revoking_one_sign_in_leaves_another_sign_ins_stream_open(web: httpx.AsyncClient) -> None:
    client, tokens = await tokens_for(web)
    _, other = await tokens_for(web)
    async with open_stream(web, bearer=other["access_token"]) as (reader, endpoint):
        revoked = await web.post(
            "/revoke", data={"token": tokens["refresh_token"], "client_id": client["client_id"]}
        )
        assert revoked.status_code == 200
        posted = await web.post(
            endpoint,
            content=b'{"jsonrpc":"2.0","id":1,"method":"ping"}',
            headers={"authorization": f"Bearer {other['access_token']}", "content-type": "application/json"},
        )
        assert posted.status_code == 202
        assert await reader.next_message() == {"jsonrpc": "2.0", "id": 1, "result": {}}
