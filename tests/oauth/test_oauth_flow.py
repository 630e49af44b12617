"""The whole flow with the official SDK's OAuth client: discovery from a bare 401, registration,
consent (scripted with the sandbox key), token, tool calls on both transports, refresh, revocation."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.auth import AuthorizationCodeResult, OAuthClientProvider
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import OAuthClientInformationFull, OAuthClientMetadata, OAuthToken

from tests.conftest import LiveServer
from tests.oauth.flow import REDIRECT_URI, open_consent, submit

pytestmark = pytest.mark.anyio


class MemoryStorage:
    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client = client_info


class User:
    """Plays the person in the browser: opens the consent page and allows with the sandbox key."""

    def __init__(self, server: LiveServer) -> None:
        self.server = server
        self.location: str | None = None
        self.consents = 0

    async def redirect_handler(self, authorization_url: str) -> None:
        parts = urlsplit(authorization_url)
        params = {name: values[0] for name, values in parse_qs(parts.query).items()}
        async with httpx.AsyncClient(base_url=self.server.url, follow_redirects=False) as web:
            form = await open_consent(web, params)
            response = await submit(web, form)
        assert response.status_code == 303
        self.location = response.headers["location"]
        self.consents += 1

    async def callback_handler(self) -> AuthorizationCodeResult:
        assert self.location is not None
        query = {name: values[0] for name, values in parse_qs(urlsplit(self.location).query).items()}
        return AuthorizationCodeResult(code=query["code"], state=query.get("state"), iss=query.get("iss"))


def provider(
    server: LiveServer, storage: MemoryStorage, user: User, path: str = "/mcp"
) -> OAuthClientProvider:
    metadata = OAuthClientMetadata(
        redirect_uris=[REDIRECT_URI],
        client_name="SDK flow test",
        grant_types=["authorization_code", "refresh_token"],
        token_endpoint_auth_method="none",
    )
    return OAuthClientProvider(
        server_url=f"{server.url}{path}",
        client_metadata=metadata,
        storage=storage,
        redirect_handler=user.redirect_handler,
        callback_handler=user.callback_handler,
    )


async def test_the_sdk_client_connects_with_oauth_alone_over_both_transports(
    oauth_server: LiveServer,
) -> None:
    storage, user = MemoryStorage(), User(oauth_server)
    auth = provider(oauth_server, storage, user)
    async with (
        httpx2.AsyncClient(auth=auth, timeout=30) as http,
        Client(streamable_http_client(f"{oauth_server.url}/mcp", http_client=http), mode="legacy") as client,
    ):
        tools = await client.list_tools()
        result = await client.call_tool("list-phone-numbers", {})
    assert user.consents == 1
    assert "send-message" in {tool.name for tool in tools.tools}
    assert result.is_error is False
    assert storage.tokens is not None
    assert storage.tokens.refresh_token
    assert storage.client is not None
    async with Client(
        sse_client(f"{oauth_server.url}/sse", auth=provider(oauth_server, storage, user, "/sse")),
        mode="legacy",
    ) as client:
        legacy = await client.call_tool("list-phone-numbers", {})
    assert legacy.is_error is False
    assert user.consents == 1, "the stored token served the SSE connection too"


async def test_refresh_then_revocation(oauth_server: LiveServer) -> None:
    storage, user = MemoryStorage(), User(oauth_server)
    async with (
        httpx2.AsyncClient(auth=provider(oauth_server, storage, user), timeout=30) as http,
        Client(streamable_http_client(f"{oauth_server.url}/mcp", http_client=http), mode="legacy") as client,
    ):
        await client.list_tools()
    assert storage.tokens is not None
    assert storage.client is not None
    async with httpx.AsyncClient(base_url=oauth_server.url) as web:
        refreshed = await web.post(
            "/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": storage.tokens.refresh_token or "",
                "client_id": storage.client.client_id or "",
            },
        )
        assert refreshed.status_code == 200, refreshed.text
        access = refreshed.json()["access_token"]
        body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
        bearer = {"authorization": f"Bearer {access}", "accept": "application/json"}
        assert (await web.post("/mcp", json=body, headers=bearer)).status_code == 200
        revoked = await web.post(
            "/revoke",
            data={"token": refreshed.json()["refresh_token"], "client_id": storage.client.client_id or ""},
        )
        assert revoked.status_code == 200
        after = await web.post("/mcp", json=body, headers=bearer)
    assert after.status_code == 401
    assert after.headers["www-authenticate"].startswith('Bearer resource_metadata="')
    assert 'error="invalid_token"' in after.headers["www-authenticate"]
