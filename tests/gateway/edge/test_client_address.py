"""The client address from a trusted proxy's own header (`gateway/edge/client_address.py`), on a real
server."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from gateway.edge.client_address import ClientAddress, rate_limit_key
from tests.conftest import serve


async def echo(request: Request) -> JSONResponse:
    host = request.client.host if request.client else None
    return JSONResponse({"client": host, "scheme": request.url.scheme})


def server(trusted: list[str]) -> Iterator[str]:
    app = ClientAddress(Starlette(routes=[Route("/", echo)]), header="fly-client-ip", trusted=trusted)
    # As `openphone-mcp serve` runs it with CLIENT_IP_HEADER: uvicorn's own proxy handling off.
    yield from serve(app, lifespan="off", proxy_headers=False)


@pytest.fixture(scope="module")
def trusting() -> Iterator[str]:
    yield from server(["127.0.0.0/8"])


@pytest.fixture(scope="module")
def distrusting() -> Iterator[str]:
    yield from server(["172.16.0.0/12", "fdaa::/16"])


def ask(url: str, **headers: str) -> dict[str, str]:
    answer: dict[str, str] = httpx.get(url, headers=headers, timeout=5).json()
    return answer


def test_a_trusted_peer_names_the_client_and_scheme(trusting: str) -> None:
    assert ask(trusting, **{"fly-client-ip": "203.0.113.7", "x-forwarded-proto": "https"}) == {
        "client": "203.0.113.7",
        "scheme": "https",
    }


def test_x_forwarded_for_is_not_what_decides(trusting: str) -> None:
    headers = {"fly-client-ip": "2001:db8::1", "x-forwarded-for": "198.51.100.1, 66.241.124.1"}
    assert ask(trusting, **headers)["client"] == "2001:db8::1"


@pytest.mark.parametrize("value", ["not-an-ip", "203.0.113.7, 10.0.0.1", ""])
def test_a_value_that_is_not_one_address_is_ignored(trusting: str, value: str) -> None:
    assert ask(trusting, **{"fly-client-ip": value})["client"] == "127.0.0.1"


def test_an_untrusted_peer_cannot_choose_its_address(distrusting: str) -> None:
    assert ask(distrusting, **{"fly-client-ip": "203.0.113.7", "x-forwarded-proto": "https"}) == {
        "client": "127.0.0.1",
        "scheme": "http",
    }


@pytest.mark.parametrize(
    ("client_ip", "key"),
    [
        pytest.param("198.51.100.7", "198.51.100.7", id="ipv4"),
        pytest.param("2001:db8:1:2::7", "2001:db8:1:2::/64", id="ipv6-by-its-64"),
        pytest.param("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64", id="ipv6-same-64"),
        pytest.param("::ffff:198.51.100.7", "198.51.100.7", id="ipv4-mapped"),
        pytest.param("unknown", "unknown", id="not-an-address"),
    ],
)
def test_rate_limit_key_groups_an_ipv6_client_by_its_64(client_ip: str, key: str) -> None:
    assert rate_limit_key(client_ip) == key
