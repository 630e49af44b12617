"""The OpenPhone HTTP client (`tools/client.py`) against a real HTTP upstream."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.conftest import serve
from tools.client import OpenPhoneClient

pytestmark = pytest.mark.anyio


class CookieSetter:
    """An upstream that sets a cookie on every answer and records the Cookie headers it receives."""

    def __init__(self) -> None:
        self.cookies: list[str | None] = []
        self.app = Starlette(routes=[Route("/v1/phone-numbers", self.answer)])

    async def answer(self, request: Request) -> JSONResponse:
        self.cookies.append(request.headers.get("cookie"))
        response = JSONResponse({"data": []})
        response.set_cookie("session", f"for-{request.headers['authorization']}")
        return response


@pytest.fixture
def upstream() -> Iterator[tuple[str, CookieSetter]]:
    setter = CookieSetter()
    for url in serve(setter.app):
        yield url, setter


async def test_a_cookie_set_for_one_key_never_rides_along_with_another(
    upstream: tuple[str, CookieSetter],
) -> None:
    """One session serves every user's key, so it keeps no cookies at all."""
    url, setter = upstream
    # A host name, not an IP: aiohttp's default jar keeps no cookies from IP addresses at all.
    client = OpenPhoneClient(base_url=url.replace("127.0.0.1", "localhost"))
    try:
        for key in ("key-of-alice", "key-of-bob", "key-of-alice"):
            assert await client.request(key, "GET", "/v1/phone-numbers") == {"data": []}
    finally:
        await client.aclose()
    assert setter.cookies == [None, None, None]
