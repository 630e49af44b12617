"""The authorization server over real HTTP: discovery, registration, authorize, consent, token, revoke.

Each refusal is checked where it matters: the status, the RFC error code, and whether a redirect
happened at all (an error about the client or its redirect URI must never redirect).
"""

from __future__ import annotations

import html
import re
import secrets
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mcp import Client
from mcp.client.sse import sse_client

from gateway.app import create_app
from gateway.keys import ServerKeys
from oauth.consent import CSRF_COOKIE
from oauth.registration import MAX_URI_CHARS
from oauth.sealing import Sealer, TokenType
from tests.clients import text_of
from tests.conftest import LiveServer, free_port, make_settings, serve
from tests.oauth.flow import (
    REDIRECT_URI,
    Pkce,
    authorize_params,
    code_for,
    exchange,
    open_consent,
    redirect_query,
    register,
    submit,
    tokens_for,
)
from tools.catalog import TOOL_NAMES

pytestmark = pytest.mark.anyio


def sealer_for(server: LiveServer, clock: Any = time.time) -> Sealer:
    return Sealer(ServerKeys(server.settings.secret_key_bytes()), server.settings.public_url, clock)


def access_token(server: LiveServer, *scopes: str) -> str:
    """A valid access token for the sandbox key, granting exactly `scopes`."""
    sealer = sealer_for(server)
    claims = sealer.new_claims(
        TokenType.ACCESS, aud=f"{server.url}/mcp", sub="f" * 16, cid="c", scope=scopes,
        key="sandbox-demo-key", lifetime=3600,
    )  # fmt: skip
    return sealer.seal(claims)


# discovery ------------------------------------------------------------------------------------------


async def test_authorization_server_metadata(web: httpx.AsyncClient, oauth_server: LiveServer) -> None:
    response = await web.get("/.well-known/oauth-authorization-server")
    document = response.json()
    base = oauth_server.url
    assert response.headers["access-control-allow-origin"] == "*"
    assert document["issuer"] == base
    assert (document["authorization_endpoint"], document["token_endpoint"]) == (
        f"{base}/authorize",
        f"{base}/token",
    )
    assert (document["registration_endpoint"], document["revocation_endpoint"]) == (
        f"{base}/register",
        f"{base}/revoke",
    )
    assert document["code_challenge_methods_supported"] == ["S256"]
    assert document["grant_types_supported"] == ["authorization_code", "refresh_token"]
    assert document["token_endpoint_auth_methods_supported"] == [
        "none",
        "client_secret_post",
        "client_secret_basic",
    ]
    assert document["client_id_metadata_document_supported"] is True
    assert document["authorization_response_iss_parameter_supported"] is True
    assert set(document["scopes_supported"]) == {
        "messages:read",
        "messages:write",
        "contacts:read",
        "contacts:write",
        "calls:read",
        "users:read",
    }
    assert (await web.get("/.well-known/openid-configuration")).json() == document


@pytest.mark.parametrize("path", ["/mcp", "/sse"])
async def test_protected_resource_metadata_names_each_endpoint(
    web: httpx.AsyncClient, oauth_server: LiveServer, path: str
) -> None:
    document = (await web.get(f"/.well-known/oauth-protected-resource{path}")).json()
    assert document["resource"] == f"{oauth_server.url}{path}"
    assert document["authorization_servers"] == [oauth_server.url]
    assert document["bearer_methods_supported"] == ["header"]
    root = (await web.get("/.well-known/oauth-protected-resource")).json()
    assert root["resource"] == f"{oauth_server.url}/mcp"


# registration ---------------------------------------------------------------------------------------


async def test_registration_of_a_confidential_client_returns_a_derived_secret(web: httpx.AsyncClient) -> None:
    client = await register(web, token_endpoint_auth_method="client_secret_post")
    assert client["client_secret"]
    assert client["client_secret_expires_at"] == 0
    assert client["redirect_uris"] == [REDIRECT_URI]
    public = await register(web)
    assert "client_secret" not in public


@pytest.mark.parametrize(
    ("uris", "error"),
    [
        pytest.param(["http://app.example.test/cb"], "invalid_redirect_uri", id="http-not-loopback"),
        pytest.param(["https://app.example.test/cb#frag"], "invalid_redirect_uri", id="fragment"),
        pytest.param(["javascript:alert(1)"], "invalid_redirect_uri", id="javascript"),
        pytest.param(["data:text/html,hi"], "invalid_redirect_uri", id="data"),
        pytest.param(["https://user:pw@app.example.test/cb"], "invalid_redirect_uri", id="userinfo"),
        pytest.param([], "invalid_redirect_uri", id="none"),
        pytest.param(
            [f"https://app.example.test/{index}" for index in range(11)], "invalid_redirect_uri", id="eleven"
        ),
    ],
)
async def test_registration_refuses_bad_redirect_uris(
    web: httpx.AsyncClient, uris: list[str], error: str
) -> None:
    response = await web.post("/register", json={"redirect_uris": uris})
    assert response.status_code == 400
    assert response.json()["error"] == error


@pytest.mark.parametrize(
    ("uri", "description"),
    [
        pytest.param(
            "https://evil.example.test;sandbox/cb",
            "the host of a redirect URI must be a DNS name or an IP address",
            id="csp-directive",
        ),
        pytest.param(
            "https://*/cb",
            "the host of a redirect URI must be a DNS name or an IP address",
            id="wildcard",
        ),
        pytest.param(
            "https://[fe80::1%25eth0]/cb",
            "the host of a redirect URI must be a DNS name or an IP address",
            id="ipv6-zone",
        ),
        pytest.param(
            "https://\u0435vil.example.test/cb",
            "a redirect URI may hold only RFC 3986 characters; write a non-ASCII host "
            "in its IDNA form (xn--)",
            id="cyrillic-host",
        ),
        pytest.param(
            "https://a\u202e.example.test/",
            "a redirect URI may hold only RFC 3986 characters; write a non-ASCII host "
            "in its IDNA form (xn--)",
            id="bidi-override",
        ),
        pytest.param(
            'https://a.example.test/"><svg',
            "a redirect URI may hold only RFC 3986 characters; write a non-ASCII host "
            "in its IDNA form (xn--)",
            id="markup",
        ),
    ],
)
async def test_registration_refuses_a_redirect_host_that_is_not_a_host(
    web: httpx.AsyncClient, uri: str, description: str
) -> None:
    """Review #5: such hosts were copied raw into the consent page's CSP (or crashed it, non-Latin-1)."""
    response = await web.post(
        "/register", json={"redirect_uris": [uri], "token_endpoint_auth_method": "none"}
    )
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_redirect_uri", "error_description": description}


async def test_an_idna_redirect_host_is_shown_as_registered(web: httpx.AsyncClient) -> None:
    """The punycode form registers, and the consent page and its CSP name exactly that host."""
    uri = "https://xn--vil-jed.example.test/cb"
    client = await register(web, redirect_uris=[uri])
    params = authorize_params(client["client_id"], Pkce.new(), redirect_uri=uri)
    response = await web.get("/authorize", params=params)
    assert response.status_code == 200
    assert response.headers["content-security-policy"].split("; ")[4] == (
        "form-action 'self' https://xn--vil-jed.example.test"
    )
    assert "(returning to <code>xn--vil-jed.example.test</code>)" in response.text


async def test_a_client_id_validates_under_its_exact_spelling_only(web: httpx.AsyncClient) -> None:
    """Review #14: the signature's last base64 character has unused bits, so four spellings validated."""
    client_id = (await register(web))["client_id"]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(client_id[-1])
    twins = [client_id[:-1] + alphabet[(last & ~3) | low] for low in range(4)]
    statuses = [
        (await web.get("/authorize", params=authorize_params(twin, Pkce.new()))).status_code for twin in twins
    ]
    assert statuses == [200 if twin == client_id else 400 for twin in twins]


async def test_registration_refuses_bad_metadata(web: httpx.AsyncClient) -> None:
    response = await web.post(
        "/register", json={"redirect_uris": [REDIRECT_URI], "grant_types": ["password"]}
    )
    assert (response.status_code, response.json()["error"]) == (400, "invalid_client_metadata")
    not_json = await web.post("/register", content=b"{", headers={"content-type": "application/json"})
    assert (not_json.status_code, not_json.json()["error"]) == (400, "invalid_request")


# sizes: what is accepted fits in the sealed tokens (review #4) --------------------------------------------


async def test_registration_refuses_metadata_too_large_for_one_client_id(web: httpx.AsyncClient) -> None:
    """Five incompressible 400-character URIs once registered, and /authorize then answered 500."""
    uris = [f"https://a.example.test/{secrets.token_urlsafe(300)[:400]}" for _ in range(5)]
    response = await web.post("/register", json={"redirect_uris": uris, "token_endpoint_auth_method": "none"})
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_client_metadata",
        "error_description": "too much metadata for one client: use fewer or shorter redirect URIs",
    }


async def test_the_largest_accepted_request_gets_the_consent_page(web: httpx.AsyncClient) -> None:
    uri = f"https://a.example.test/{secrets.token_urlsafe(400)[: MAX_URI_CHARS - 23]}"
    assert len(uri) == MAX_URI_CHARS
    client = await register(web, redirect_uris=[uri], client_name="n" * 200)
    params = authorize_params(client["client_id"], Pkce.new(), redirect_uri=uri, state='"\\' * 256)
    response = await web.get("/authorize", params=params)
    assert response.status_code == 200


@pytest.mark.parametrize(
    "state",
    [pytest.param("s" * 513, id="too-long"), pytest.param("caf\u00e9", id="not-vschar")],
)
async def test_a_state_the_tokens_cannot_carry_gets_the_error_page(
    web: httpx.AsyncClient, state: str
) -> None:
    """RFC 6749 Appendix A.5: state is VSCHAR; it is sealed into the consent request, so it is bounded."""
    client = await register(web)
    response = await web.get(
        "/authorize", params=authorize_params(client["client_id"], Pkce.new(), state=state)
    )
    assert response.status_code == 400
    assert "location" not in response.headers
    assert "The request&#39;s state parameter must be at most 512 visible ASCII characters." in response.text


# authorize: errors about the client never redirect ------------------------------------------------------


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"client_id": "forged-client"}, id="unknown-client"),
        pytest.param({"redirect_uri": "https://evil.example.test/cb"}, id="unregistered-redirect"),
        pytest.param({"redirect_uri": REDIRECT_URI + "/../evil"}, id="path-trick"),
        pytest.param(
            {"redirect_uri": "http://127.0.0.1:9/callback?next=https://evil.example.test"}, id="query-added"
        ),
        pytest.param({"client_id": "https://127.0.0.1/client.json"}, id="cimd-loopback"),
        pytest.param({"client_id": "https://169.254.169.254/latest/meta-data"}, id="cimd-metadata-address"),
    ],
)
async def test_a_doubtful_client_or_redirect_gets_a_page_and_no_redirect(
    web: httpx.AsyncClient, overrides: dict[str, str]
) -> None:
    client = await register(web)
    params = {**authorize_params(client["client_id"], Pkce.new()), **overrides}
    response = await web.get("/authorize", params=params)
    assert response.status_code == 400
    assert "location" not in response.headers
    assert response.headers["content-type"].startswith("text/html")
    assert "Cannot connect this application" in response.text


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        pytest.param({"code_challenge": None}, "invalid_request", id="pkce-missing"),
        pytest.param({"code_challenge_method": "plain"}, "invalid_request", id="pkce-plain"),
        pytest.param({"response_type": "token"}, "unsupported_response_type", id="implicit"),
        pytest.param({"resource": "https://other.example.test/mcp"}, "invalid_target", id="foreign-resource"),
        pytest.param(
            {"resource": "http://127.0.0.1:{port}/mcp//"}, "invalid_target", id="resource-two-slashes"
        ),
        pytest.param({"scope": "messages:read admin"}, "invalid_scope", id="unknown-scope"),
    ],
)
async def test_other_errors_are_shown_and_go_back_only_when_the_user_follows_the_link(
    web: httpx.AsyncClient, oauth_server: LiveServer, overrides: dict[str, str | None], error: str
) -> None:
    """Review #3, RFC 9700 §4.11.1: a registered client is no trusted redirect target, so no automatic 303.

    The page's one link carries the error back to the client, with `state` and `iss` (RFC 9207 §2).
    """
    client = await register(web)
    port = oauth_server.settings.port
    resolved = {name: value.format(port=port) if value else value for name, value in overrides.items()}
    params = authorize_params(client["client_id"], Pkce.new(), **resolved)
    response = await web.get("/authorize", params=params)
    assert response.status_code == 400
    assert "location" not in response.headers
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    (link,) = re.findall(r'<a class="return" href="([^"]*)" rel="noreferrer">', response.text)
    target = urlsplit(html.unescape(link))
    assert f"{target.scheme}://{target.netloc}{target.path}" == REDIRECT_URI
    query = {name: values[0] for name, values in parse_qs(target.query).items()}
    assert (query["error"], query["state"], query["iss"]) == (error, params["state"], oauth_server.url)
    assert "Return to <code>127.0.0.1:9</code>" in response.text


async def test_the_consent_page_is_never_cached_framed_or_shared(web: httpx.AsyncClient) -> None:
    client = await register(web)
    response = await web.get("/authorize", params=authorize_params(client["client_id"], Pkce.new()))
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert "form-action 'self' http://127.0.0.1:9" in response.headers["content-security-policy"]
    assert "access-control-allow-origin" not in response.headers
    assert 'type="password" id="api_key" name="api_key"' in response.text
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie


# consent ----------------------------------------------------------------------------------------------


async def test_consent_without_the_csrf_cookie_is_refused(
    web: httpx.AsyncClient, oauth_server: LiveServer
) -> None:
    client = await register(web)
    form = await open_consent(web, authorize_params(client["client_id"], Pkce.new()))
    async with httpx.AsyncClient(base_url=oauth_server.url) as stranger:
        response = await submit(stranger, form)
    assert response.status_code == 403
    assert "location" not in response.headers


async def test_consent_with_a_wrong_csrf_token_is_refused(web: httpx.AsyncClient) -> None:
    client = await register(web)
    form = await open_consent(web, authorize_params(client["client_id"], Pkce.new()))
    response = await submit(web, form, csrf="x" * 43)
    assert response.status_code == 403


async def test_a_stale_consent_submission_is_refused(
    web: httpx.AsyncClient, oauth_server: LiveServer
) -> None:
    client = await register(web)
    form = await open_consent(web, authorize_params(client["client_id"], Pkce.new()))
    old = sealer_for(oauth_server, clock=lambda: time.time() - 3600)
    claims = old.new_claims(
        TokenType.CONSENT,
        aud=f"{oauth_server.url}/mcp",
        sub="",
        cid=client["client_id"],
        scope=("messages:read",),
        key="",
        lifetime=600,
        redirect_uri=REDIRECT_URI,
        code_challenge=Pkce.new().challenge,
    )
    stale = old.seal(claims.model_copy(update={"jti": web.cookies[CSRF_COOKIE]}))
    form.request = stale
    response = await submit(web, form)
    assert response.status_code == 400
    assert "expired" in response.text


async def test_a_consent_form_mints_one_code_only(web: httpx.AsyncClient) -> None:
    """Review #13: the same form, csrf and cookie posted again within 10 minutes minted a second code."""
    client = await register(web)
    form = await open_consent(web, authorize_params(client["client_id"], Pkce.new()))
    cookie = web.cookies[CSRF_COOKIE]
    first = await submit(web, form)
    web.cookies.set(CSRF_COOKIE, cookie, path="/authorize")
    again = await submit(web, form)
    assert first.status_code == 303
    assert again.status_code == 400
    assert "location" not in again.headers
    assert "This consent form was already used. Start connecting again from your app." in again.text


async def test_deny_returns_access_denied(web: httpx.AsyncClient, oauth_server: LiveServer) -> None:
    client = await register(web)
    params = authorize_params(client["client_id"], Pkce.new())
    query = redirect_query(await submit(web, await open_consent(web, params), action="deny"))
    assert (query["error"], query["state"], query["iss"]) == (
        "access_denied",
        params["state"],
        oauth_server.url,
    )


async def test_a_key_openphone_rejects_shows_the_page_again(web: httpx.AsyncClient) -> None:
    client = await register(web)
    form = await open_consent(web, authorize_params(client["client_id"], Pkce.new()))
    response = await submit(web, form, api_key="op-not-a-real-key")
    assert response.status_code == 400
    assert "location" not in response.headers
    assert "OpenPhone rejected this API key" in response.text
    assert "op-not-a-real-key" not in response.text


# token --------------------------------------------------------------------------------------------------


async def test_a_wrong_verifier_is_invalid_grant_and_does_not_burn_the_code(web: httpx.AsyncClient) -> None:
    client = await register(web)
    pkce = Pkce.new()
    code = await code_for(web, client["client_id"], pkce)
    common = {"grant_type": "authorization_code", "code": code, "client_id": client["client_id"]}
    wrong = await exchange(web, **common, code_verifier=Pkce.new().verifier)
    assert (wrong.status_code, wrong.json()["error"]) == (400, "invalid_grant")
    assert wrong.headers["cache-control"] == "no-store"
    right = await exchange(web, **common, code_verifier=pkce.verifier)
    assert right.status_code == 200


async def test_a_reused_code_is_refused_and_revokes_what_it_gave(web: httpx.AsyncClient) -> None:
    client = await register(web)
    pkce = Pkce.new()
    code = await code_for(web, client["client_id"], pkce)
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": client["client_id"],
        "code_verifier": pkce.verifier,
    }
    first = await exchange(web, **form)
    second = await exchange(web, **form)
    assert (second.status_code, second.json()["error"]) == (400, "invalid_grant")
    refresh = await exchange(
        web,
        grant_type="refresh_token",
        refresh_token=first.json()["refresh_token"],
        client_id=client["client_id"],
    )
    assert (refresh.status_code, refresh.json()["error"]) == (400, "invalid_grant")


async def test_a_code_used_by_another_client_is_refused(web: httpx.AsyncClient) -> None:
    owner, thief = await register(web), await register(web)
    pkce = Pkce.new()
    code = await code_for(web, owner["client_id"], pkce)
    response = await exchange(
        web,
        grant_type="authorization_code",
        code=code,
        code_verifier=pkce.verifier,
        client_id=thief["client_id"],
    )
    assert (response.status_code, response.json()["error"]) == (400, "invalid_grant")


async def test_a_redirect_uri_mismatch_at_the_token_endpoint_is_refused(web: httpx.AsyncClient) -> None:
    client = await register(web, redirect_uris=[REDIRECT_URI, "http://127.0.0.1:9/other"])
    pkce = Pkce.new()
    code = await code_for(web, client["client_id"], pkce)
    response = await exchange(
        web,
        grant_type="authorization_code",
        code=code,
        code_verifier=pkce.verifier,
        client_id=client["client_id"],
        redirect_uri="http://127.0.0.1:9/other",
    )
    assert (response.status_code, response.json()["error"]) == (400, "invalid_grant")


async def test_an_unknown_client_is_401_invalid_client(web: httpx.AsyncClient) -> None:
    response = await exchange(web, grant_type="refresh_token", refresh_token="x", client_id="forged")
    assert (response.status_code, response.json()["error"]) == (401, "invalid_client")


async def test_a_confidential_client_with_a_wrong_secret_is_refused(web: httpx.AsyncClient) -> None:
    client = await register(web, token_endpoint_auth_method="client_secret_basic")
    response = await web.post(
        "/token",
        data={"grant_type": "refresh_token", "refresh_token": "x"},
        auth=(client["client_id"], "wrong"),
    )
    assert (response.status_code, response.json()["error"]) == (401, "invalid_client")
    assert response.headers["www-authenticate"] == 'Basic realm="token"'


async def test_a_refresh_narrowing_scope_is_honoured_and_widening_refused(web: httpx.AsyncClient) -> None:
    client, tokens = await tokens_for(web)
    narrowed = await exchange(
        web,
        grant_type="refresh_token",
        refresh_token=tokens["refresh_token"],
        client_id=client["client_id"],
        scope="messages:read",
    )
    assert narrowed.json()["scope"] == "messages:read"
    wider = await exchange(
        web,
        grant_type="refresh_token",
        refresh_token=narrowed.json()["refresh_token"],
        client_id=client["client_id"],
        scope="messages:read calls:read",
    )
    assert (wider.status_code, wider.json()["error"]) == (400, "invalid_scope")


async def test_a_concurrent_refresh_within_the_grace_window_succeeds(web: httpx.AsyncClient) -> None:
    client, tokens = await tokens_for(web)
    form = {
        "grant_type": "refresh_token",
        "refresh_token": tokens["refresh_token"],
        "client_id": client["client_id"],
    }
    assert (await exchange(web, **form)).status_code == 200
    assert (await exchange(web, **form)).status_code == 200


async def test_refresh_reuse_after_the_grace_window_revokes_the_family() -> None:
    settings = make_settings(free_port(), sandbox=True, refresh_grace_seconds=0, oauth_rate_limit=1000)
    for url in serve(create_app(settings), settings.port):
        async with httpx.AsyncClient(base_url=url) as web:
            client, tokens = await tokens_for(web)
            form = {
                "grant_type": "refresh_token",
                "refresh_token": tokens["refresh_token"],
                "client_id": client["client_id"],
            }
            rotated = await exchange(web, **form)
            assert rotated.status_code == 200
            reused = await exchange(web, **form)
            assert (reused.status_code, reused.json()["error"]) == (400, "invalid_grant")
            newest = await exchange(web, **{**form, "refresh_token": rotated.json()["refresh_token"]})
            assert (newest.status_code, newest.json()["error"]) == (400, "invalid_grant")
            body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
            bearer = {"authorization": f"Bearer {rotated.json()['access_token']}"}
            assert (await web.post("/mcp", json=body, headers=bearer)).status_code == 401


# the gate -----------------------------------------------------------------------------------------------


async def mcp(
    web: httpx.AsyncClient, token: str, method: str, params: dict[str, Any] | None = None
) -> httpx.Response:
    body: dict[str, Any] = {"jsonrpc": "2.0", "id": 1, "method": method}
    if params is not None:
        body["params"] = params
    return await web.post(
        "/mcp", json=body, headers={"authorization": f"Bearer {token}", "accept": "application/json"}
    )


async def listed_names(web: httpx.AsyncClient, token: str) -> set[str]:
    return {tool["name"] for tool in (await mcp(web, token, "tools/list")).json()["result"]["tools"]}


async def refusal(web: httpx.AsyncClient, token: str, tool: str) -> str:
    """The WWW-Authenticate of the 403 a call of `tool` gets."""
    refused = await mcp(web, token, "tools/call", {"name": tool, "arguments": {}})
    assert refused.status_code == 403
    return refused.headers["www-authenticate"]


def insufficient(server: LiveServer, scope: str) -> str:
    return (
        f'Bearer error="insufficient_scope", scope="{scope}", '
        f'resource_metadata="{server.url}/.well-known/oauth-protected-resource/mcp"'
    )


async def test_unticked_write_scopes_hide_tools_and_calls_get_403(
    web: httpx.AsyncClient, oauth_server: LiveServer
) -> None:
    tokens = await narrow_tokens(web)
    assert set(tokens["scope"].split()) == {"messages:read", "contacts:read", "calls:read"}
    names = await listed_names(web, tokens["access_token"])
    assert "fetch-messages" in names
    assert "send-message" not in names
    assert "delete-contact" not in names
    assert await refusal(web, tokens["access_token"], "send-message") == insufficient(
        oauth_server, "messages:write"
    )


async def test_unticking_users_read_hides_the_team_directory(
    web: httpx.AsyncClient, oauth_server: LiveServer
) -> None:
    """A person may connect messaging without exposing the team: users:read is optional on consent."""
    _, tokens = await tokens_for(web, ticked=("messages:write", "contacts:write"))
    assert "users:read" not in tokens["scope"].split()
    names = await listed_names(web, tokens["access_token"])
    assert {"list-users", "get-user"} & names == set()
    assert {"get-phone-number", "list-calls", "get-call"} <= names
    assert await refusal(web, tokens["access_token"], "list-users") == insufficient(
        oauth_server, "users:read"
    )


async def test_a_token_granted_before_users_read_existed_still_calls_its_tools(
    web: httpx.AsyncClient, oauth_server: LiveServer
) -> None:
    """Existing grants name only the five older scopes; every tool they cover keeps working."""
    older = ("messages:read", "messages:write", "contacts:read", "contacts:write", "calls:read")
    claims = sealer_for(oauth_server).new_claims(
        TokenType.ACCESS, aud=f"{oauth_server.url}/mcp", sub="f" * 16, cid="c", scope=older,
        key="sandbox-demo-key", lifetime=3600,
    )  # fmt: skip
    token = sealer_for(oauth_server).seal(claims)
    assert await listed_names(web, token) == set(TOOL_NAMES) - {"list-users", "get-user"}
    answer = await mcp(web, token, "tools/call", {"name": "list-phone-numbers", "arguments": {}})
    assert (answer.status_code, answer.json()["result"]["isError"]) == (200, False)


async def test_the_app_only_helper_follows_the_scope_rules_of_every_tool(
    web: httpx.AsyncClient, oauth_server: LiveServer
) -> None:
    """read-thread needs messages:read like fetch-messages: unlisted and 403 without it, whoever calls."""
    token = access_token(oauth_server, "contacts:read")
    names = {tool["name"] for tool in (await mcp(web, token, "tools/list")).json()["result"]["tools"]}
    arguments = {"inbox": "PNsandboxMain", "participant": "+14155550123"}
    refused = await mcp(web, token, "tools/call", {"name": "read-thread", "arguments": arguments})
    assert names == {"get-contact", "list-contacts", "list-contact-custom-fields"}
    assert refused.status_code == 403
    assert refused.headers["www-authenticate"] == (
        'Bearer error="insufficient_scope", scope="messages:read", '
        f'resource_metadata="{oauth_server.url}/.well-known/oauth-protected-resource/mcp"'
    )


@pytest.mark.parametrize("kind", ["refresh-as-access", "expired", "wrong-audience", "code-as-access"])
async def test_tokens_that_are_not_valid_access_tokens_get_401(
    web: httpx.AsyncClient, oauth_server: LiveServer, kind: str
) -> None:
    _, tokens = await tokens_for(web)
    resource = f"{oauth_server.url}/mcp"
    if kind == "refresh-as-access":
        token = tokens["refresh_token"]
    else:
        age = 7200 if kind == "expired" else 0
        sealer = sealer_for(oauth_server, clock=lambda: time.time() - age)
        claims = sealer.new_claims(
            TokenType.CODE if kind == "code-as-access" else TokenType.ACCESS,
            aud="https://other.example.test/mcp" if kind == "wrong-audience" else resource,
            sub="f" * 16,
            cid="c",
            scope=("messages:read",),
            key="sandbox-demo-key",
            lifetime=3600,
        )
        token = sealer.seal(claims)
    response = await mcp(web, token, "tools/list")
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


async def test_a_registration_flood_from_one_address_gets_429() -> None:
    settings = make_settings(free_port(), sandbox=True, oauth_rate_limit=3)
    for url in serve(create_app(settings), settings.port):
        async with httpx.AsyncClient(base_url=url) as web:
            statuses = [
                (await web.post("/register", json={"redirect_uris": [REDIRECT_URI]})).status_code
                for _ in range(4)
            ]
            last = await web.post("/register", json={"redirect_uris": [REDIRECT_URI]})
    assert statuses == [201, 201, 201, 429]
    assert last.status_code == 429
    assert int(last.headers["retry-after"]) >= 1


async def test_metadata_document_sign_ins_from_one_address_are_throttled() -> None:
    """Review #8: each CIMD client_id was a fetch of any public URL, with no limit per address.

    A metadata-document sign-in costs what a registration does, so it counts in the same window; a
    registered client's sign-in fetches nothing and is not counted. The 429 page carries Retry-After.
    """
    settings = make_settings(free_port(), sandbox=True, oauth_rate_limit=2)
    cimd = {"client_id": "https://127.0.0.1/client.json", "response_type": "code"}
    for url in serve(create_app(settings), settings.port):
        async with httpx.AsyncClient(base_url=url) as web:
            client = await register(web)
            registered = await web.get("/authorize", params=authorize_params(client["client_id"], Pkce.new()))
            statuses = [(await web.get("/authorize", params=cimd)).status_code for _ in range(2)]
            last = await web.get("/authorize", params=cimd)
    assert registered.status_code == 200
    assert statuses == [400, 429]
    assert last.status_code == 429
    assert last.headers["content-type"] == "text/html; charset=utf-8"
    assert int(last.headers["retry-after"]) >= 1


async def test_an_ipv6_client_cannot_escape_the_limit_by_rotating_its_64() -> None:
    """Review #15: limits counted single addresses, and an IPv6 host holds a whole /64 of them."""
    settings = make_settings(free_port(), sandbox=True, oauth_rate_limit=2)
    body = {"redirect_uris": [REDIRECT_URI]}
    for url in serve(create_app(settings), settings.port):
        async with httpx.AsyncClient(base_url=url) as web:
            statuses = [
                (await web.post("/register", json=body, headers={"x-forwarded-for": f"2001:db8:1:2::{n}"}))
                for n in range(1, 4)
            ]
            elsewhere = await web.post("/register", json=body, headers={"x-forwarded-for": "2001:db8:1:3::1"})
    assert [response.status_code for response in statuses] == [201, 201, 429]
    assert elsewhere.status_code == 201


async def narrow_tokens(web: httpx.AsyncClient) -> dict[str, Any]:
    """Tokens of a consent that left every optional scope (both writes, users:read) unticked."""
    return (await tokens_for(web, ticked=()))[1]


async def test_legacy_sse_reports_a_missing_scope_as_a_tool_error(
    web: httpx.AsyncClient, oauth_server: LiveServer
) -> None:
    tokens = await narrow_tokens(web)
    headers = {"authorization": f"Bearer {tokens['access_token']}"}
    async with Client(sse_client(f"{oauth_server.url}/sse", headers=headers), mode="legacy") as client:
        result = await client.call_tool("send-message", {})
    assert result.is_error is True
    assert text_of(result) == (
        "This connection was not granted the messages:write scope this tool needs; reconnect and allow it."
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_tampering_with_an_access_token_gets_401(oauth_server: LiveServer, data: st.DataObject) -> None:
    token = access_token(oauth_server, "messages:read")
    position = data.draw(st.integers(0, len(token) - 1))
    edit = data.draw(st.sampled_from(["replace", "truncate", "append"]))
    if edit == "replace":
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."
        tampered = token[:position] + data.draw(st.sampled_from(alphabet)) + token[position + 1 :]
    elif edit == "truncate":
        tampered = token[:position]
    else:
        tampered = token + data.draw(st.text("ABCxyz019-_.", min_size=1, max_size=8))
    if tampered == token or not tampered.strip():
        return
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    response = httpx.post(
        f"{oauth_server.url}/mcp", json=body, headers={"authorization": f"Bearer {tampered}"}, timeout=10
    )
    assert response.status_code == 401


async def test_an_unreachable_openphone_shows_the_page_again_with_a_retry_hint() -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    settings = make_settings(free_port(), openphone_api_base=closed, oauth_rate_limit=1000)
    for url in serve(create_app(settings), settings.port):
        async with httpx.AsyncClient(base_url=url, follow_redirects=False) as web:
            client = await register(web)
            form = await open_consent(web, authorize_params(client["client_id"], Pkce.new()))
            response = await submit(web, form, api_key="op-some-real-looking-key")
    assert response.status_code == 400
    assert "location" not in response.headers
    assert "OpenPhone could not be reached to check the key. Wait a moment and try again." in response.text
