"""DNS-rebinding defence and CORS on the MCP endpoints (`gateway/edge/origin_guard.py`)."""

from __future__ import annotations

from collections.abc import Iterable

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from gateway.edge.entry import Edge
from gateway.settings import is_loopback_host
from tests.gateway.edge.around import edge_around

LOCAL_URL = "http://127.0.0.1:8000"
PUBLIC_URL = "https://mcp.example.test"
APP_ORIGIN = "https://app.example.test"
EXPOSED = "mcp-protocol-version, mcp-session-id, www-authenticate"
FORBIDDEN = {"error": "forbidden", "error_description": "Requests from this browser origin are not allowed."}
MISDIRECTED = {
    "error": "misdirected_request",
    "error_description": "This server does not answer for that Host.",
}
CORS_HEADERS = ("access-control-allow-origin", "access-control-expose-headers", "vary")


async def reached(request: Request) -> PlainTextResponse:
    return PlainTextResponse("reached")


async def reached_varying(request: Request) -> PlainTextResponse:
    return PlainTextResponse("reached", headers={"vary": "Accept"})


def guarded(public_url: str, allowed_origins: Iterable[str] = ()) -> Edge:
    """A tiny app whose /mcp is guarded and whose /health is not."""
    app = Starlette(
        routes=[
            Route("/mcp", reached, methods=["GET", "POST"]),
            Route("/vary", reached_varying),
            Route("/health", reached),
        ]
    )
    return edge_around(app, public_url=public_url, allowed_origins=allowed_origins, guarded={"/mcp", "/vary"})


async def get(
    public_url: str, headers: dict[str, str], path: str = "/mcp", allowed_origins: Iterable[str] = ()
) -> httpx.Response:
    """GET `path` on a guarded app served at `public_url`."""
    transport = httpx.ASGITransport(app=guarded(public_url, allowed_origins))
    async with httpx.AsyncClient(transport=transport, base_url=public_url) as client:
        return await client.get(path, headers=headers)


def cors_headers(response: httpx.Response) -> dict[str, str]:
    return {name: response.headers[name] for name in CORS_HEADERS if name in response.headers}


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        pytest.param("localhost", True, id="localhost"),
        pytest.param("LOCALHOST", True, id="localhost-upper"),
        pytest.param("app.localhost", True, id="localhost-subdomain"),
        pytest.param("127.0.0.1", True, id="ipv4"),
        pytest.param("127.8.9.10", True, id="ipv4-loopback-net"),
        pytest.param("::1", True, id="ipv6"),
        pytest.param("[::1]", True, id="ipv6-bracketed"),
        pytest.param("0.0.0.0", False, id="unspecified"),  # noqa: S104
        pytest.param("10.0.0.1", False, id="private"),
        pytest.param("mcp.example.test", False, id="public-name"),
        pytest.param("localhost.example.test", False, id="localhost-prefix"),
        pytest.param("127.0.0.1.example.test", False, id="loopback-lookalike"),
        pytest.param("", False, id="empty"),
    ],
)
def test_is_loopback_host(host: str, expected: bool) -> None:
    assert is_loopback_host(host) is expected


@pytest.mark.anyio
async def test_request_without_origin_passes_untouched() -> None:
    response = await get(PUBLIC_URL, {})
    assert (response.status_code, response.text, cors_headers(response)) == (200, "reached", {})


@pytest.mark.anyio
async def test_own_origin_passes() -> None:
    response = await get(PUBLIC_URL, {"origin": PUBLIC_URL})
    assert (response.status_code, response.text) == (200, "reached")


@pytest.mark.anyio
async def test_allowed_origin_passes_with_cors_headers() -> None:
    response = await get(PUBLIC_URL, {"origin": APP_ORIGIN}, allowed_origins=[APP_ORIGIN])
    assert (response.status_code, response.text, cors_headers(response)) == (
        200,
        "reached",
        {
            "access-control-allow-origin": APP_ORIGIN,
            "access-control-expose-headers": EXPOSED,
            "vary": "Origin",
        },
    )


@pytest.mark.anyio
async def test_allowed_origin_matches_case_and_trailing_slash_insensitively() -> None:
    response = await get(PUBLIC_URL, {"origin": "https://App.Example.test/"}, allowed_origins=[APP_ORIGIN])
    assert response.status_code == 200


@pytest.mark.anyio
async def test_cors_adds_origin_to_an_existing_vary() -> None:
    response = await get(PUBLIC_URL, {"origin": APP_ORIGIN}, path="/vary", allowed_origins=[APP_ORIGIN])
    assert response.headers["vary"] == "Accept, Origin"


@pytest.mark.anyio
@pytest.mark.parametrize(
    "origin",
    [
        pytest.param("https://evil.test", id="foreign"),
        pytest.param("null", id="opaque"),
        pytest.param("http://mcp.example.test", id="other-scheme"),
        pytest.param("https://mcp.example.test:8443", id="other-port"),
        pytest.param("https://app.example.test.evil.test", id="suffix"),
    ],
)
async def test_foreign_origin_is_forbidden(origin: str) -> None:
    response = await get(PUBLIC_URL, {"origin": origin}, allowed_origins=[APP_ORIGIN])
    assert (response.status_code, response.json()) == (403, FORBIDDEN)


@pytest.mark.anyio
@pytest.mark.parametrize(
    "host",
    [
        pytest.param("evil.test", id="foreign"),
        pytest.param("mcp.example.test.evil.test", id="suffix"),
        pytest.param("localhost:8000", id="loopback-on-a-public-server"),
    ],
)
async def test_foreign_host_is_misdirected(host: str) -> None:
    response = await get(PUBLIC_URL, {"host": host})
    assert (response.status_code, response.json()) == (421, MISDIRECTED)


@pytest.mark.anyio
async def test_host_is_checked_before_origin() -> None:
    response = await get(PUBLIC_URL, {"host": "evil.test", "origin": "https://evil.test"})
    assert (response.status_code, response.json()) == (421, MISDIRECTED)


@pytest.mark.anyio
@pytest.mark.parametrize(
    "host",
    [
        pytest.param("127.0.0.1:8000", id="own"),
        pytest.param("127.0.0.1:8000".upper(), id="own-upper"),
    ],
)
async def test_loopback_server_answers_its_own_host(host: str) -> None:
    response = await get(LOCAL_URL, {"host": host})
    assert (response.status_code, response.text) == (200, "reached")


@pytest.mark.anyio
@pytest.mark.parametrize(
    "host",
    [
        pytest.param("localhost:8000", id="localhost"),
        pytest.param("127.0.0.1:9999", id="other-port"),
        pytest.param("[::1]:8000", id="ipv6"),
        pytest.param("localhost", id="no-port"),
    ],
)
async def test_loopback_server_names_its_own_url_to_another_loopback_host(host: str) -> None:
    """Item 17: its OAuth metadata names PUBLIC_URL, which clients compare with the URL they used.

    Answering `localhost` with 127.0.0.1 metadata made the TypeScript SDK and the Inspector stop with
    "Protected resource ... does not match"; a 421 that names the right URL says what to do instead.
    """
    response = await get(LOCAL_URL, {"host": host})
    assert (response.status_code, response.json()) == (
        421,
        {
            "error": "misdirected_request",
            "error_description": "This server answers as http://127.0.0.1:8000: connect to that address "
            "(for example http://127.0.0.1:8000/mcp), or set PUBLIC_URL to the address you use.",
        },
    )


@pytest.mark.anyio
async def test_an_explicit_default_port_names_the_same_host_and_origin() -> None:
    """Review #16: some non-browser clients send `:443`; it is the same authority (RFC 3986 §6.2.3)."""
    headers = {"host": "mcp.example.test:443", "origin": "https://app.example.test:443"}
    response = await get(PUBLIC_URL, headers, allowed_origins=[APP_ORIGIN])
    assert (response.status_code, response.headers["access-control-allow-origin"]) == (
        200,
        "https://app.example.test:443",
    )


@pytest.mark.anyio
@pytest.mark.parametrize(
    "origin",
    [
        pytest.param("http://localhost:3000", id="localhost"),
        pytest.param("http://127.0.0.1:5173", id="ipv4-other-port"),
        pytest.param("http://[::1]:8000", id="ipv6"),
        pytest.param("https://localhost", id="https"),
    ],
)
async def test_loopback_server_allows_any_loopback_origin(origin: str) -> None:
    response = await get(LOCAL_URL, {"origin": origin})
    assert (response.status_code, response.headers["access-control-allow-origin"]) == (200, origin)


@pytest.mark.anyio
async def test_loopback_server_refuses_a_foreign_host() -> None:
    """DNS rebinding: a foreign name resolving to 127.0.0.1 still names another server."""
    response = await get(LOCAL_URL, {"host": "evil.test"})
    assert (response.status_code, response.json()) == (421, MISDIRECTED)


@pytest.mark.anyio
async def test_loopback_server_refuses_a_foreign_origin() -> None:
    response = await get(LOCAL_URL, {"origin": "https://evil.test"})
    assert (response.status_code, response.json()) == (403, FORBIDDEN)


@pytest.mark.anyio
@pytest.mark.parametrize(
    "origin",
    [
        pytest.param("http://localhost:3000", id="localhost"),
        pytest.param("http://127.0.0.1:8000", id="ipv4"),
        pytest.param("http://[::1]:8000", id="ipv6"),
    ],
)
async def test_public_server_refuses_loopback_origins(origin: str) -> None:
    response = await get(PUBLIC_URL, {"origin": origin})
    assert (response.status_code, response.json()) == (403, FORBIDDEN)


@pytest.mark.anyio
async def test_malformed_origin_is_forbidden() -> None:
    response = await get(PUBLIC_URL, {"origin": "http://[evil.test"})
    assert (response.status_code, response.json()) == (403, FORBIDDEN)


@pytest.mark.anyio
async def test_malformed_host_on_a_loopback_server_is_misdirected() -> None:
    response = await get(LOCAL_URL, {"host": "[::1"})
    assert (response.status_code, response.json()) == (421, MISDIRECTED)


@pytest.mark.anyio
async def test_preflight_from_an_allowed_origin() -> None:
    transport = httpx.ASGITransport(app=guarded(PUBLIC_URL, [APP_ORIGIN]))
    async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as client:
        response = await client.options(
            "/mcp", headers={"origin": APP_ORIGIN, "access-control-request-method": "POST"}
        )
    assert response.status_code == 204
    cors = {
        name: value
        for name, value in response.headers.items()
        if name.startswith("access-control-") or name == "vary"
    }
    assert cors == {
        "access-control-allow-origin": APP_ORIGIN,
        "access-control-allow-methods": "GET, POST, DELETE, OPTIONS",
        "access-control-allow-headers": (
            "accept, authorization, content-type, last-event-id, mcp-method, mcp-name, mcp-protocol-version, "
            "mcp-session-id, x-api-key, x-openphone-api-key"
        ),
        "access-control-max-age": "600",
        "vary": "Origin",
    }


@pytest.mark.anyio
async def test_preflight_from_a_foreign_origin_is_forbidden() -> None:
    transport = httpx.ASGITransport(app=guarded(PUBLIC_URL, [APP_ORIGIN]))
    async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as client:
        response = await client.options(
            "/mcp", headers={"origin": "https://evil.test", "access-control-request-method": "POST"}
        )
    assert (response.status_code, response.json()) == (403, FORBIDDEN)


@pytest.mark.anyio
async def test_paths_outside_the_guarded_set_are_untouched() -> None:
    response = await get(PUBLIC_URL, {"host": "evil.test", "origin": "https://evil.test"}, path="/health")
    assert (response.status_code, response.text, cors_headers(response)) == (200, "reached", {})
